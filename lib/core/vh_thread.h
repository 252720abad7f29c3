#ifndef VH_THREAD_H
#define VH_THREAD_H
/*
 * Thread roles, asserted in debug builds (without NDEBUG): the loop thread
 * answers requests and submits pool jobs; pool workers use the database
 * and never touch a request. A thread states its role once; the checks
 * are a thread-local read. A thread that stated nothing (a unit test, a
 * tool) passes every check.
 */
#include <assert.h>

enum vh_thread_role {
	VH_THREAD_ANY,		/* not stated */
	VH_THREAD_LOOP,		/* runs the event base */
	VH_THREAD_WORKER,	/* a worker of vh_pool */
};

void	vh_thread_set_role(enum vh_thread_role);
enum vh_thread_role vh_thread_role(void);

/* On the loop (or a thread of no stated role): respond, submit. */
#define VH_ASSERT_LOOP()	assert(vh_thread_role() != VH_THREAD_WORKER)
/* Off the loop: anything that waits on the database. */
#define VH_ASSERT_OFF_LOOP()	assert(vh_thread_role() != VH_THREAD_LOOP)

#endif
