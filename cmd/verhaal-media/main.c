/*
 * verhaal-media: the confined child that parses untrusted media for
 * verhaald (see lib/event/vh_sandbox.c, which starts it). It is never run by
 * hand. argv[1] names the operation; the request comes on fd 4, the
 * answer goes to fd 3, the operation's files are fds 5 and up. Each
 * operation first sets up its libraries (which open their data files),
 * then the seccomp filter goes on, and only then are the bytes parsed.
 *
 * The probe-* operations are for tests of the confinement itself: they
 * try what a subverted decoder would (open a file, make a socket, crash,
 * hang) and can do no more harm than a hostile file could.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vh_audio.h"
#include "vh_unused.h"
#include "vh_classify.h"
#include "vh_error.h"
#include "vh_media_job.h"
#include "vh_odkxml.h"
#include "vh_photo.h"
#include "vh_sandbox.h"

static int
init_classify(struct vh_sandbox_call *c)
{
	char	*err = NULL;

	if ((c->state = vh_classify_magic_open(&err)) == NULL) {
		snprintf(c->err, sizeof(c->err), "%s", err);
		free(err);
		return (VH_EIO);
	}
	return (0);
}

static int
init_photo(struct vh_sandbox_call *c)
{
	char	*err = NULL;
	int	 rc;

	if ((rc = vh_photo_init(&err)) != 0) {
		snprintf(c->err, sizeof(c->err), "%s", err);
		free(err);
	}
	return (rc);
}

static int
init_audio(struct vh_sandbox_call *c VH_UNUSED)
{
	vh_audio_child_init();
	return (0);
}

/* A file of any kind: all three, before the filter. */
static int
init_media(struct vh_sandbox_call *c)
{
	int	rc;

	if ((rc = init_classify(c)) != 0 || (rc = init_photo(c)) != 0)
		return (rc);
	return (init_audio(c));
}

/* Opens the path in the request; the result is {fd, errno}. */
static int
probe_open(struct vh_sandbox_call *c)
{
	int	*r = c->result;

	if (c->result_size < 2 * sizeof(int))
		return (VH_EINVAL);
	r[0] = open(c->req, O_RDONLY);
	r[1] = r[0] == -1 ? errno : 0;
	return (0);
}

/* Connects to the Unix socket at the path in the request. */
static int
probe_connect(struct vh_sandbox_call *c)
{
	struct sockaddr_un	 sun;
	int			*r = c->result, fd;

	if (c->result_size < 2 * sizeof(int))
		return (VH_EINVAL);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
	    (const char *)c->req);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		r[0] = -1;
		r[1] = errno;
		return (0);
	}
	r[0] = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	r[1] = r[0] == -1 ? errno : 0;
	return (0);
}

static int
probe_crash(struct vh_sandbox_call *c VH_UNUSED)
{
	raise(SIGSEGV);
	return (0);
}

static int
probe_abort(struct vh_sandbox_call *c VH_UNUSED)
{
	abort();
}

static int
probe_hang(struct vh_sandbox_call *c VH_UNUSED)
{
	for (;;)
		pause();
	return (0);
}

static int
probe_spin(struct vh_sandbox_call *c VH_UNUSED)
{
	volatile unsigned long x = 0;

	for (;;)
		x++;
	return (0);
}

/* Echoes the request, then says which descriptors 0-63 are open. */
static int
probe_echo(struct vh_sandbox_call *c)
{
	unsigned char	*r = c->result;
	size_t		 n = c->req_size < 64 ? c->req_size : 64;

	if (c->result_size < 128 + 3 * sizeof(int))
		return (VH_EINVAL);
	memcpy(r, c->req, n);
	for (int fd = 0; fd < 64; fd++)
		r[64 + fd] = fcntl(fd, F_GETFD) != -1;
	((int *)(r + 128))[0] = (int)getuid();
	((int *)(r + 128))[1] = (int)getpid();
	((int *)(r + 128))[2] = c->unconfined_ns ? 0 : 1;
	/* The first descriptor, if any, gets a greeting. */
	if (c->nfds > 0 && write(c->fds[0], "hello", 5) != 5)
		return (VH_EIO);
	return (0);
}

static int
probe_fail(struct vh_sandbox_call *c)
{
	snprintf(c->err, sizeof(c->err), "not an audio file");
	return (VH_EINVAL);
}

static int
init_odkxml(struct vh_sandbox_call *c VH_UNUSED)
{
	vh_odkxml_init();
	return (0);
}

/* An OpenRosa submission's XML on fd 5; the result is the instance. */
static int
odkxml(struct vh_sandbox_call *c)
{
	char	*buf;
	size_t	 len = 0;
	ssize_t	 n;
	int	 rc;

	if (c->nfds != 1 || c->result_size != sizeof(struct vh_odkxml_instance))
		return (VH_EINVAL);
	buf = malloc(VH_ODKXML_MAX_SIZE + 1);
	if (buf == NULL)
		return (VH_EIO);
	while (len <= VH_ODKXML_MAX_SIZE && (n = read(c->fds[0], buf + len,
	    VH_ODKXML_MAX_SIZE + 1 - len)) > 0)
		len += (size_t)n;
	rc = vh_odkxml_parse(buf, len, c->result, c->err, sizeof(c->err));
	free(buf);
	return (rc);
}

static const struct op {
	const char	*name;
	int		(*init)(struct vh_sandbox_call *);
	vh_sandbox_fn	 run;
} ops[] = {
	{ "media", init_media, vh_media_job_child },
	{ "classify", init_classify, vh_classify_child },
	{ "photo", init_photo, vh_photo_child },
	{ "audio", init_audio, vh_audio_child },
	{ "odk-xml", init_odkxml, odkxml },
	{ "probe-open", NULL, probe_open },
	{ "probe-connect", NULL, probe_connect },
	{ "probe-crash", NULL, probe_crash },
	{ "probe-abort", NULL, probe_abort },
	{ "probe-hang", NULL, probe_hang },
	{ "probe-spin", NULL, probe_spin },
	{ "probe-echo", NULL, probe_echo },
	{ "probe-fail", NULL, probe_fail },
};

int
main(int argc, char **argv)
{
	struct vh_sandbox_call	 c;
	const struct op		*op = NULL;
	int			 rc;

	if (vh_sandbox_child_start(argc, argv, &c) != 0) {
		/* Not started by (this version of) vh_sandbox_run: there is
		 * no reply pipe to write to. */
		return (VH_SANDBOX_EXIT_START);
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(ops[i].name, c.op) == 0)
			op = &ops[i];
	if (op == NULL) {
		snprintf(c.err, sizeof(c.err), "unknown operation");
		vh_sandbox_child_finish(&c, VH_ENOTSUP);
	}
	if (op->init != NULL && (rc = op->init(&c)) != 0)
		vh_sandbox_child_finish(&c, rc);
	if (vh_sandbox_child_lockdown() != 0) {
		snprintf(c.err, sizeof(c.err), "no seccomp filter");
		vh_sandbox_child_finish(&c, VH_EIO);
	}
	rc = op->run(&c);
	vh_sandbox_child_finish(&c, rc);
}
