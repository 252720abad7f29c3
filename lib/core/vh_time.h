#ifndef VH_TIME_H
#define VH_TIME_H
/* Clocks shared by the modules. */
#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC: for deadlines and rates, never dates. */
int64_t	vh_now_ms(void);

#endif
