#include <stdarg.h>
#include <stdio.h>

#include "base/err.h"

int
nym_err_set(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

const char *
nym_strerror(int err)
{
	switch (err) {
	case NYM_OK: return "success";
	case NYM_EINVAL: return "invalid argument";
	case NYM_ENOMEM: return "out of memory";
	case NYM_ESHORT: return "input truncated";
	case NYM_ESIZE: return "wrong size";
	case NYM_EMAC: return "MAC verification failed";
	case NYM_ECRYPTO: return "crypto library failure";
	case NYM_EENCODING: return "bad encoding";
	case NYM_EPEM: return "malformed PEM or wrong label";
	case NYM_EKEY: return "invalid key";
	case NYM_EADDR: return "malformed address";
	case NYM_EIO: return "I/O error";
	case NYM_ERANGE: return "value out of range";
	case NYM_EFORMAT: return "malformed data";
	case NYM_EVERSION: return "unsupported version";
	case NYM_EFLAG: return "unknown flag or type";
	case NYM_ENOTFOUND: return "not found";
	case NYM_EREPLAY: return "replay detected";
	case NYM_EJSON: return "malformed JSON";
	case NYM_ENET: return "network failure";
	case NYM_EPROTO: return "protocol violation";
	case NYM_EEXIST: return "already exists";
	case NYM_EPERM: return "permission denied";
	case NYM_ETIMEOUT: return "timed out";
	case NYM_EFULL: return "limit reached";
	case NYM_ETOOBIG: return "too large";
	case NYM_EROUTE: return "bad route";
	case NYM_ENOTFILE: return "not a regular file";
	}
	return "unknown error";
}
