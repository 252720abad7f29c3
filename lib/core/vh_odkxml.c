/*
 * OpenRosa submission XML. The instance is walked once: the root gives
 * the form's id and version, meta/instanceID and meta/deprecatedID the
 * identity (plain, orx: or any namespace, as clients differ), and the
 * werkbezoek's own fields their values. Every leaf that holds a value
 * is also offered as a file name, so that attachments are matched to the
 * instance by the names it lists, whatever the field.
 *
 * Hostile input is the norm here: a DOCTYPE is refused before libxml2
 * sees the bytes (no internal subset means no entity can be defined, so
 * none can be expanded, billion laughs included), XML_PARSE_NONET keeps
 * libxml2 off the network, and size and depth are bounded.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "vh_error.h"
#include "vh_odkxml.h"

#define PARSE_OPTS (XML_PARSE_NONET | XML_PARSE_NOERROR | \
	    XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)

void
vh_odkxml_init(void)
{
	xmlInitParser();
}

/* Copies the text into dst; false when it does not fit. */
static bool
copy(char *dst, size_t size, const xmlChar *src)
{
	size_t n = strlen((const char *)src);

	if (n >= size)
		return (false);
	memcpy(dst, src, n + 1);
	return (true);
}

static bool
named(const xmlNode *n, const char *name)
{
	return (n->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)n->name, name) == 0);
}

/* The text of a leaf element, or NULL when it has element children. */
static xmlChar *
leaf_text(const xmlNode *n)
{
	for (const xmlNode *c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return (NULL);
	return (xmlNodeGetContent(n));
}

struct walk {
	struct vh_odkxml_instance	*out;
	char				*why;
	size_t				 whysize;
};

static int
field(struct walk *w, const xmlNode *n, const xmlNode *parent)
{
	static const struct {
		const char	*name;
		size_t		 off, size;
	} fields[] = {
#define F(n, f) { n, offsetof(struct vh_odkxml_instance, f), \
	    sizeof(((struct vh_odkxml_instance *)0)->f) }
		F("titel", title), F("notitie", note), F("datum", date),
		F("themas", themes), F("buurt", buurt), F("locatie", location),
#undef F
	};
	struct vh_odkxml_instance	*o = w->out;
	xmlChar				*t;
	int				 rc = 0;

	if ((t = leaf_text(n)) == NULL)
		return (0);
	if (t[0] == '\0')
		goto out;
	if (parent != NULL && named(parent, "meta") && (named(n, "instanceID") ||
	    named(n, "deprecatedID"))) {
		char *dst = named(n, "instanceID") ? o->instance_id :
		    o->deprecated_id;

		if (!copy(dst, VH_ODKXML_ID_LEN, t)) {
			snprintf(w->why, w->whysize, "%s is longer than %d bytes",
			    n->name, VH_ODKXML_ID_LEN - 1);
			rc = VH_EINVAL;
		}
		goto out;
	}
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		if (!named(n, fields[i].name))
			continue;
		if (!copy((char *)o + fields[i].off, fields[i].size, t)) {
			snprintf(w->why, w->whysize, "the field %s is longer "
			    "than %zu bytes", fields[i].name, fields[i].size - 1);
			rc = VH_EINVAL;
		}
		goto out;
	}
	/* Any other value may name an attachment: a file name is one path
	 * component, short, with no spaces at its ends. */
	if (o->nfiles < VH_ODKXML_MAX_FILES &&
	    strlen((const char *)t) < VH_ODKXML_NAME_LEN &&
	    strchr((const char *)t, '/') == NULL &&
	    strchr((const char *)t, '\n') == NULL &&
	    strchr((const char *)t, '.') != NULL) {
		for (size_t i = 0; i < o->nfiles; i++)
			if (strcmp(o->files[i], (const char *)t) == 0)
				goto out;
		(void)copy(o->files[o->nfiles++], VH_ODKXML_NAME_LEN, t);
	}
out:
	xmlFree(t);
	return (rc);
}

static int
walk(struct walk *w, const xmlNode *n, const xmlNode *parent, int depth)
{
	int rc;

	if (depth > VH_ODKXML_MAX_DEPTH) {
		snprintf(w->why, w->whysize, "the XML is nested deeper than %d "
		    "levels", VH_ODKXML_MAX_DEPTH);
		return (VH_EINVAL);
	}
	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if ((rc = field(w, n, parent)) != 0 ||
		    (rc = walk(w, n->children, n, depth + 1)) != 0)
			return (rc);
	}
	return (0);
}

/* An attribute by local name, in no namespace or any. */
static xmlChar *
attr(const xmlNode *n, const char *name)
{
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
		if (strcmp((const char *)a->name, name) == 0)
			return (xmlNodeGetContent((const xmlNode *)a));
	return (NULL);
}

int
vh_odkxml_parse(const char *buf, size_t len, struct vh_odkxml_instance *out,
    char *why, size_t whysize)
{
	struct walk	 w = { out, why, whysize };
	xmlDocPtr	 doc = NULL;
	xmlNodePtr	 root;
	xmlChar		*v;
	int		 rc = VH_EINVAL;

	memset(out, 0, sizeof *out);
	why[0] = '\0';
	if (len > VH_ODKXML_MAX_SIZE) {
		snprintf(why, whysize, "the XML is larger than %d bytes",
		    VH_ODKXML_MAX_SIZE);
		return (VH_ETOOBIG);
	}
	if (memmem(buf, len, "<!DOCTYPE", 9) != NULL ||
	    memmem(buf, len, "<!ENTITY", 8) != NULL) {
		snprintf(why, whysize, "a document type declaration is not "
		    "accepted");
		return (VH_EINVAL);
	}
	doc = xmlReadMemory(buf, (int)len, "submission.xml", NULL, PARSE_OPTS);
	if (doc == NULL || (root = xmlDocGetRootElement(doc)) == NULL) {
		snprintf(why, whysize, "the submission is not well-formed XML");
		goto out;
	}
	if (doc->intSubset != NULL) {
		snprintf(why, whysize, "a document type declaration is not "
		    "accepted");
		goto out;
	}
	if ((v = attr(root, "id")) != NULL) {
		bool ok = copy(out->form_id, sizeof out->form_id, v);

		xmlFree(v);
		if (!ok) {
			snprintf(why, whysize, "the form id is too long");
			goto out;
		}
	}
	if ((v = attr(root, "version")) != NULL) {
		bool ok = copy(out->version, sizeof out->version, v);

		xmlFree(v);
		if (!ok) {
			snprintf(why, whysize, "the form version is too long");
			goto out;
		}
	}
	if (out->form_id[0] == '\0') {
		snprintf(why, whysize, "the instance's root element has no id "
		    "naming its form");
		goto out;
	}
	if ((rc = walk(&w, root->children, root, 1)) != 0)
		goto out;
	if (out->instance_id[0] == '\0') {
		snprintf(why, whysize, "the instance has no meta/instanceID");
		rc = VH_EINVAL;
		goto out;
	}
	rc = 0;
out:
	xmlFreeDoc(doc);
	return (rc);
}
