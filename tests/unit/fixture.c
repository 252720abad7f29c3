/*
 * The unit tests' scratch directory (fixture.h), written once for the
 * tests that make their media at test time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fixture.h"

char	fx_dir[64];

int
fx_mkdir(const char *prefix)
{
	snprintf(fx_dir, sizeof(fx_dir), "/tmp/%s_XXXXXX", prefix);
	return (mkdtemp(fx_dir) == NULL ? -1 : 0);
}

void
fx_sh(const char *fmt, ...)
{
	char	cmd[4096];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

const char *
fx_at(const char *name)
{
	static char	buf[4][256];
	static int	i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", fx_dir, name);
	return (buf[i]);
}

int
fx_teardown(void **state)
{
	(void)state;
	/* Only a directory fx_mkdir made: never rm -rf an empty name. */
	if (fx_dir[0] != '\0')
		fx_sh("rm -rf %s", fx_dir);
	return (0);
}
