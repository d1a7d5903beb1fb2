/* codec.h — text encodings of bytes: hex, base58 (Bitcoin alphabet, as Nym
 * writes keys and addresses), base64 (standard, padded), and PEM as the Nym
 * key files use it (raw key bytes in base64 under a label, no ASN.1). */
#ifndef NYM_CODEC_H
#define NYM_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Each encoder writes a NUL-terminated string and returns its length, or
 * NYM_ESIZE if outcap is too small. Each decoder returns the number of bytes
 * written, or NYM_EENCODING / NYM_ESIZE. */
int nym_hex_encode(char *out, size_t outcap, const uint8_t *in, size_t len);
NYM_MUST_CHECK int nym_hex_decode(uint8_t *out, size_t outcap, const char *in, size_t len);

/* A 32-byte key is 43 or 44 characters, but leading zero bytes become '1's. */
#define NYM_B58_KEY_MAX 45
int nym_base58_encode(char *out, size_t outcap, const uint8_t *in, size_t len);
NYM_MUST_CHECK int nym_base58_decode(uint8_t *out, size_t outcap, const char *in, size_t len);
/* Decode exactly 32 bytes (a key): NYM_EENCODING or NYM_EKEY on failure. */
NYM_MUST_CHECK int nym_base58_decode32(uint8_t out[32], const char *in);
/* Index of the first character outside the base58 alphabet, or -1 (for
 * messages that say which character is wrong). */
int nym_base58_invalid_at(const char *in, size_t len);

#define NYM_B64_ENCLEN(n) ((((n) + 2) / 3) * 4 + 1)
int nym_base64_encode(char *out, size_t outcap, const uint8_t *in, size_t len);
/* Accepts and skips ASCII whitespace (CR/LF inside PEM bodies); otherwise
 * strict: padding required, '=' only at the end, unused bits zero. */
NYM_MUST_CHECK int nym_base64_decode(uint8_t *out, size_t outcap, const char *in, size_t len);

/* PEM: "-----BEGIN <label>-----\r\n<base64, 64 columns>\r\n-----END <label>-----\r\n"
 * (CRLF, as the pem crate 0.8 writes). */
int nym_pem_encode(char *out, size_t outcap, const char *label,
                   const uint8_t *in, size_t len);
/* Parse one PEM block whose label must equal `label` exactly (NYM_EPEM
 * otherwise) and whose body must decode to exactly `len` bytes (NYM_EKEY).
 * LF and CRLF are both accepted; whitespace around the block is allowed,
 * anything else before or after it is not (NYM_EPEM), nor PEM headers. A
 * body that is not base64 gives NYM_EENCODING. Returns len. */
NYM_MUST_CHECK int nym_pem_decode(uint8_t *out, size_t len, const char *label,
                                  const char *in, size_t inlen);
/* The label of the first "-----BEGIN <label>-----" line (after leading
 * whitespace), for messages such as "wrong PEM label". Returns its length,
 * NYM_EPEM when there is no such line, NYM_ESIZE if cap is too small. */
int nym_pem_label(char *label, size_t cap, const char *in, size_t inlen);

#endif
