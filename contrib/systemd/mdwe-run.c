/*
 * mdwe-run: runs a command under the seccomp rules that systemd's
 * MemoryDenyWriteExecute=yes installs (systemd 252, seccomp-util.c):
 * mmap with PROT_WRITE and PROT_EXEC together, mprotect or pkey_mprotect
 * adding PROT_EXEC, and shmat with SHM_EXEC fail with EPERM. It lets one
 * check, without systemd, whether a build's codecs (FFmpeg, libvips and
 * its orc JIT) still work under that setting:
 *
 *   cc -o mdwe-run contrib/systemd/mdwe-run.c $(pkg-config --cflags --libs libseccomp)
 *   ./mdwe-run build/verhaald -c config/verhaald.conf
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	scmp_filter_ctx	 ctx;
	int		 rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: mdwe-run command [args]\n");
		return (2);
	}
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		return (1);
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC | PROT_WRITE,
	    PROT_EXEC | PROT_WRITE));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(pkey_mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(shmat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC));
	if (rc != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    seccomp_load(ctx) != 0) {
		fprintf(stderr, "mdwe-run: cannot install the filter\n");
		return (1);
	}
	seccomp_release(ctx);
	execvp(argv[1], argv + 1);
	fprintf(stderr, "mdwe-run: %s: %s\n", argv[1], strerror(errno));
	return (127);
}
