#ifndef VH_UNUSED_H
#define VH_UNUSED_H
/*
 * Marks a parameter that a function takes but does not read: a callback
 * whose type is fixed by its caller (libevent, the pool, the route
 * table), or a handler that needs none of what every handler gets. The
 * build warns about any other unused parameter (-Wunused-parameter).
 */
#define VH_UNUSED	__attribute__((unused))

#endif
