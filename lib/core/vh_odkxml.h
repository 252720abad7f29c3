#ifndef VH_ODKXML_H
#define VH_ODKXML_H
/*
 * OpenRosa submission XML (an XForm instance as ODK Collect, Enketo or
 * ODK Web Forms send it), parsed with libxml2 under limits: no network,
 * no DTD (so no entities to expand), bounded size and depth. Untrusted
 * bytes: verhaald runs this in the confined child (verhaal-media's
 * "odk-xml" operation), never in its own process.
 */
#include <stddef.h>

#define VH_ODKXML_MAX_SIZE	(1024 * 1024)	/* bytes of XML */
#define VH_ODKXML_MAX_DEPTH	32
#define VH_ODKXML_MAX_FILES	20
#define VH_ODKXML_ID_LEN	257
#define VH_ODKXML_NAME_LEN	256

/* Plain data, so that it can cross the sandbox's pipe as it is. Every
 * string is NUL-terminated UTF-8 (libxml2 checked the encoding). */
struct vh_odkxml_instance {
	char	form_id[128];		/* the root's id attribute */
	char	version[128];		/* the root's (orx:)version */
	char	instance_id[VH_ODKXML_ID_LEN];	/* meta/instanceID */
	char	deprecated_id[VH_ODKXML_ID_LEN]; /* meta/deprecatedID */
	char	title[1200];		/* werkbezoek fields, "" when absent */
	char	note[65536];
	char	date[32];
	char	themes[1280];		/* space-separated slugs */
	char	buurt[32];
	char	location[128];		/* "lat lon alt accuracy" */
	size_t	nfiles;			/* file names the instance refers to */
	char	files[VH_ODKXML_MAX_FILES][VH_ODKXML_NAME_LEN];
};

/* Call once before parsing (the sandbox child: before its lockdown). */
void	vh_odkxml_init(void);

/*
 * Parses len bytes into *out. 0, or VH_EINVAL with why (whysize bytes)
 * holding a reason safe to show the client: not XML, a DTD,
 * too deep, no instanceID, a value too long. VH_ETOOBIG past
 * VH_ODKXML_MAX_SIZE.
 */
int	vh_odkxml_parse(const char *buf, size_t len,
	    struct vh_odkxml_instance *out, char *why, size_t whysize)
	    __attribute__((warn_unused_result));

#endif
