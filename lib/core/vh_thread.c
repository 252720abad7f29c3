/* Thread roles (vh_thread.h): one thread-local word per thread. */
#include "vh_thread.h"

static _Thread_local enum vh_thread_role role = VH_THREAD_ANY;

void
vh_thread_set_role(enum vh_thread_role r)
{
	role = r;
}

enum vh_thread_role
vh_thread_role(void)
{
	return (role);
}
