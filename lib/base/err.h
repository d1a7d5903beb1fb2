/* err.h — error codes of libnym.
 *
 * Every lib/ function that can fail returns 0 (or a non-negative count) on
 * success and one of these negative codes on failure. lib/ never prints and
 * never exits: tools turn a code into words with nym_strerror().
 * Add new codes at the end of the list, with their words in err.c. */
#ifndef NYM_ERR_H
#define NYM_ERR_H

enum {
	NYM_OK = 0,
	NYM_EINVAL = -1,     /* invalid argument */
	NYM_ENOMEM = -2,     /* out of memory */
	NYM_ESHORT = -3,     /* input truncated */
	NYM_ESIZE = -4,      /* wrong size */
	NYM_EMAC = -5,       /* MAC or tag verification failed */
	NYM_ECRYPTO = -6,    /* crypto library failure */
	NYM_EENCODING = -7,  /* bad hex/base58/base64 */
	NYM_EPEM = -8,       /* malformed PEM or wrong PEM label */
	NYM_EKEY = -9,       /* invalid key (length or point) */
	NYM_EADDR = -10,     /* malformed address */
	NYM_EIO = -11,       /* I/O error (errno is set) */
	NYM_ERANGE = -12,    /* value out of range */
	NYM_EFORMAT = -13,   /* malformed data */
	NYM_EVERSION = -14,  /* unsupported version */
	NYM_EFLAG = -15,     /* unknown flag or type byte */
	NYM_ENOTFOUND = -16, /* no such item */
	NYM_EREPLAY = -17,   /* replayed packet or message */
	NYM_EJSON = -18,     /* malformed JSON or missing field */
	NYM_ENET = -19,      /* network failure */
	NYM_EPROTO = -20,    /* protocol violation by peer */
	NYM_EEXIST = -21,    /* already exists */
	NYM_EPERM = -22,     /* permission denied or insecure permissions */
	NYM_ETIMEOUT = -23,  /* timed out */
	NYM_EFULL = -24,     /* a configured limit was reached */
	NYM_ETOOBIG = -25,   /* payload too large for the packet */
	NYM_EROUTE = -26,    /* bad route (length, unknown node) */
	NYM_ENOTFILE = -27,  /* not a regular file (a FIFO, device, directory) */
};

/* On MAC checks, decryption and parsers of untrusted bytes: a caller that
 * drops the result would act on unverified or unparsed data. */
#define NYM_MUST_CHECK __attribute__((warn_unused_result))

/* Words for an error code; never NULL. */
const char *nym_strerror(int err);

#include <stddef.h>

/* For functions that also explain a failure in words: format the message
 * into err (errlen bytes, truncated; nothing when err is NULL or errlen 0)
 * and return code, so that "return nym_err_set(err, errlen, NYM_EJSON,
 * ...)" does both. */
int nym_err_set(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
