#ifndef VH_ERROR_H
#define VH_ERROR_H
/* Error codes shared by every module: functions return 0 or one of these. */

enum {
	VH_OK = 0,
	VH_EIO = -1,		/* a system call failed; errno says why */
	VH_EINVAL = -2,		/* malformed input */
	VH_ENOENT = -3,		/* no such object */
	VH_EEXIST = -4,		/* already there */
	VH_ETOOBIG = -5,	/* over a configured limit */
	VH_EDB = -6,		/* the database failed or is unreachable */
	VH_ECHECKSUM = -7,	/* content does not match its checksum */
	VH_ECONFLICT = -8,	/* state changed underneath the caller */
	VH_EAGAIN = -9,		/* need more input */
	VH_ENOTSUP = -10,	/* valid but not supported */
};

const char	*vh_strerror(int);

#endif
