/* Names for the VH_E codes, for log lines and error bodies. */
#include "vh_error.h"

const char *
vh_strerror(int e)
{
	switch (e) {
	case VH_OK:		return ("ok");
	case VH_EIO:		return ("input/output error");
	case VH_EINVAL:		return ("invalid input");
	case VH_ENOENT:		return ("not found");
	case VH_EEXIST:		return ("already exists");
	case VH_ETOOBIG:	return ("too large");
	case VH_EDB:		return ("database error");
	case VH_ECHECKSUM:	return ("checksum mismatch");
	case VH_ECONFLICT:	return ("conflict");
	case VH_EAGAIN:		return ("incomplete");
	case VH_ENOTSUP:	return ("not supported");
	}
	return ("unknown error");
}
