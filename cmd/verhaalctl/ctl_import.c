/* Placeholder until the importers land (issue 5). */
#include "ctl.h"

int
ctl_import_areas(struct ctl *c, int argc, char **argv)
{
	ctl_die("import-areas is not built yet");
}

int
ctl_import_indicators(struct ctl *c, int argc, char **argv)
{
	ctl_die("import-indicators is not built yet");
}
