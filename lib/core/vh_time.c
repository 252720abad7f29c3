/* The monotonic clock in milliseconds. */
#include <time.h>

#include "vh_time.h"

int64_t
vh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}
