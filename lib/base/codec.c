/* codec.c — hex, base58, base64 and PEM. None of these allocate: base58
 * works in the caller's output buffer, so its cost is bounded by outcap. */
#include <stdio.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"

/* ---- hex ------------------------------------------------------------------ */

static const char hexdig[] = "0123456789abcdef";

int
nym_hex_encode(char *out, size_t outcap, const uint8_t *in, size_t len)
{
	if (len > (SIZE_MAX - 1) / 2 || outcap < 2 * len + 1)
		return NYM_ESIZE;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hexdig[in[i] >> 4];
		out[2 * i + 1] = hexdig[in[i] & 15];
	}
	out[2 * len] = 0;
	return (int)(2 * len);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
nym_hex_decode(uint8_t *out, size_t outcap, const char *in, size_t len)
{
	if (len % 2)
		return NYM_EENCODING;
	for (size_t i = 0; i < len; i++)
		if (hexval(in[i]) < 0)
			return NYM_EENCODING;
	if (outcap < len / 2)
		return NYM_ESIZE;
	for (size_t i = 0; i < len / 2; i++)
		out[i] = (uint8_t)(hexval(in[2 * i]) << 4 | hexval(in[2 * i + 1]));
	return (int)(len / 2);
}

/* ---- base58 (Bitcoin alphabet, leading zero bytes as '1's) ---------------- */

static const char b58dig[] =
	"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

static int
b58val(char c)
{
	const char *p;
	if (c == 0 || !(p = strchr(b58dig, c)))
		return -1;
	return (int)(p - b58dig);
}

int
nym_base58_encode(char *out, size_t outcap, const uint8_t *in, size_t len)
{
	size_t zeros = 0, n = 0;

	if (outcap == 0)
		return NYM_ESIZE;
	while (zeros < len && in[zeros] == 0)
		zeros++;
	/* Base-58 digits, least significant first, in out[0..n). */
	for (size_t i = zeros; i < len; i++) {
		unsigned carry = in[i];
		for (size_t j = 0; j < n; j++) {
			carry += (unsigned)(uint8_t)out[j] << 8;
			out[j] = (char)(carry % 58);
			carry /= 58;
		}
		while (carry) {
			if (n + 1 >= outcap)
				return NYM_ESIZE;
			out[n++] = (char)(carry % 58);
			carry /= 58;
		}
	}
	if (zeros + n + 1 > outcap || zeros + n > INT32_MAX)
		return NYM_ESIZE;
	for (size_t i = 0; i < n / 2; i++) {
		char t = out[i];
		out[i] = out[n - 1 - i];
		out[n - 1 - i] = t;
	}
	memmove(out + zeros, out, n);
	memset(out, '1', zeros);
	for (size_t i = zeros; i < zeros + n; i++)
		out[i] = b58dig[(uint8_t)out[i]];
	out[zeros + n] = 0;
	return (int)(zeros + n);
}

int
nym_base58_decode(uint8_t *out, size_t outcap, const char *in, size_t len)
{
	size_t zeros = 0, n = 0;

	/* Reject a bad character before any size verdict: it is the more useful
	 * message, and it does not depend on outcap. */
	for (size_t i = 0; i < len; i++)
		if (b58val(in[i]) < 0)
			return NYM_EENCODING;
	while (zeros < len && in[zeros] == '1')
		zeros++;
	if (zeros > outcap)
		return NYM_ESIZE;
	/* Bytes, least significant first, in out[0..n); give up as soon as the
	 * value cannot fit, which bounds the work by len * outcap. */
	for (size_t i = zeros; i < len; i++) {
		unsigned carry = (unsigned)b58val(in[i]);
		for (size_t j = 0; j < n; j++) {
			carry += (unsigned)out[j] * 58;
			out[j] = (uint8_t)carry;
			carry >>= 8;
		}
		while (carry) {
			if (zeros + n + 1 > outcap)
				return NYM_ESIZE;
			out[n++] = (uint8_t)carry;
			carry >>= 8;
		}
	}
	if (zeros + n > INT32_MAX)
		return NYM_ESIZE;
	for (size_t i = 0; i < n / 2; i++) {
		uint8_t t = out[i];
		out[i] = out[n - 1 - i];
		out[n - 1 - i] = t;
	}
	memmove(out + zeros, out, n);
	memset(out, 0, zeros);
	return (int)(zeros + n);
}

int
nym_base58_decode32(uint8_t out[32], const char *in)
{
	uint8_t buf[32];
	int n = nym_base58_decode(buf, sizeof buf, in, strlen(in));

	if (n == NYM_EENCODING)
		return NYM_EENCODING;
	if (n != 32) {
		memset(buf, 0, sizeof buf);
		return NYM_EKEY;
	}
	memcpy(out, buf, 32);
	memset(buf, 0, sizeof buf);
	return 32;
}

int
nym_base58_invalid_at(const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (b58val(in[i]) < 0)
			return i > INT32_MAX ? INT32_MAX : (int)i;
	return -1;
}

/* ---- base64 (RFC 4648 standard alphabet, padded) -------------------------- */

static const char b64dig[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int
nym_base64_encode(char *out, size_t outcap, const uint8_t *in, size_t len)
{
	size_t o = 0, need;

	if (len > (SIZE_MAX / 4 - 2) * 3 || (need = (len + 2) / 3 * 4) > INT32_MAX ||
	    outcap < need + 1)
		return NYM_ESIZE;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = b64dig[v >> 18 & 63];
		out[o++] = b64dig[v >> 12 & 63];
		out[o++] = i + 1 < len ? b64dig[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? b64dig[v & 63] : '=';
	}
	out[o] = 0;
	return (int)o;
}

/* Strict about everything but whitespace: length a multiple of 4 (padding
 * required), '=' only as the last one or two characters, and the unused low
 * bits of the last symbol zero, so each byte string has one encoding. */
int
nym_base64_decode(uint8_t *out, size_t outcap, const char *in, size_t len)
{
	size_t nsym = 0, pad = 0, olen;
	int last = -1;

	for (size_t i = 0; i < len; i++) {
		if (is_space(in[i]))
			continue;
		if (in[i] == '=') {
			pad++;
		} else {
			if (pad || b64val(in[i]) < 0)
				return NYM_EENCODING;
			last = b64val(in[i]);
		}
		nsym++;
	}
	if (nsym % 4 || pad > 2)
		return NYM_EENCODING;
	if ((pad == 1 && (last & 3)) || (pad == 2 && (last & 15)))
		return NYM_EENCODING;
	olen = nsym / 4 * 3 - pad;
	if (olen > INT32_MAX || olen > outcap)
		return NYM_ESIZE;

	uint32_t acc = 0;
	size_t k = 0, o = 0;
	for (size_t i = 0; i < len; i++) {
		if (is_space(in[i]) || in[i] == '=')
			continue;
		acc = acc << 6 | (uint32_t)b64val(in[i]);
		if (++k == 4) {
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
			k = 0;
		}
	}
	if (k == 3) { /* one '=' */
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
	} else if (k == 2) { /* two '=' */
		out[o++] = (uint8_t)(acc >> 4);
	}
	return (int)o;
}

/* ---- PEM ------------------------------------------------------------------ */

#define PEM_WRAP 64

static int
label_ok(const char *label)
{
	if (!label || !*label || strstr(label, "-----"))
		return 0;
	for (const char *p = label; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return 0;
	return 1;
}

int
nym_pem_encode(char *out, size_t outcap, const char *label,
               const uint8_t *in, size_t len)
{
	size_t ll, b64, lines, need, o = 0;

	if (!label_ok(label))
		return NYM_EINVAL;
	ll = strlen(label);
	if (len > INT32_MAX / 2)
		return NYM_ESIZE;
	b64 = (len + 2) / 3 * 4;
	lines = (b64 + PEM_WRAP - 1) / PEM_WRAP;
	/* "-----BEGIN " label "-----\r\n" body lines "-----END " label "-----\r\n" */
	need = 11 + ll + 7 + b64 + 2 * lines + 9 + ll + 7;
	if (need > INT32_MAX || outcap < need + 1)
		return NYM_ESIZE;

	o += (size_t)sprintf(out, "-----BEGIN %s-----\r\n", label);
	/* Encode in place after the header, then spread it over 64-column lines
	 * from the back so nothing is overwritten before it is moved. */
	nym_base64_encode(out + o, outcap - o, in, len);
	for (size_t l = lines; l-- > 0;) {
		size_t from = o + l * PEM_WRAP, to = o + l * (PEM_WRAP + 2);
		size_t n = b64 - l * PEM_WRAP < PEM_WRAP ? b64 - l * PEM_WRAP : PEM_WRAP;
		memmove(out + to, out + from, n);
		out[to + n] = '\r';
		out[to + n + 1] = '\n';
	}
	o += b64 + 2 * lines;
	o += (size_t)sprintf(out + o, "-----END %s-----\r\n", label);
	return (int)o;
}

/* Match "-----<word> <label>-----" at *p, then the end of its line (LF or
 * CRLF, or the end of input); advance *p past it. */
static int
pem_boundary(const char **p, const char *end, const char *word, const char *label)
{
	const char *s = *p;
	size_t wl = strlen(word), ll = strlen(label);

	if ((size_t)(end - s) < 5 + wl + 1 + ll + 5 || memcmp(s, "-----", 5) ||
	    memcmp(s + 5, word, wl) || s[5 + wl] != ' ')
		return NYM_EPEM;
	s += 5 + wl + 1;
	if (memcmp(s, label, ll) || memcmp(s + ll, "-----", 5))
		return NYM_EPEM;
	s += ll + 5;
	if (s < end && *s == '\r')
		s++;
	if (s < end && *s != '\n')
		return NYM_EPEM;
	if (s < end)
		s++;
	*p = s;
	return 0;
}

int
nym_pem_decode(uint8_t *out, size_t len, const char *label,
               const char *in, size_t inlen)
{
	const char *p = in, *end = in + inlen, *body, *bend;
	int r;

	if (!label_ok(label))
		return NYM_EINVAL;
	while (p < end && is_space(*p))
		p++;
	if ((r = pem_boundary(&p, end, "BEGIN", label)) < 0)
		return r;
	/* The body runs to the first "-----" that starts a line. */
	body = p;
	for (bend = body; bend < end; bend++)
		if ((bend == body || bend[-1] == '\n') && (size_t)(end - bend) >= 5 &&
		    !memcmp(bend, "-----", 5))
			break;
	if (bend == end)
		return NYM_EPEM; /* truncated: no END line */
	p = bend;
	if ((r = pem_boundary(&p, end, "END", label)) < 0)
		return r;
	while (p < end && is_space(*p))
		p++;
	if (p != end)
		return NYM_EPEM; /* anything after the block */
	/* PEM headers ("Proc-Type: ...") are not part of Nym key files. */
	for (const char *q = body; q < bend; q++)
		if (*q == ':' || *q == 0)
			return NYM_EPEM;

	r = nym_base64_decode(out, len, body, (size_t)(bend - body));
	if (r == NYM_ESIZE || (r >= 0 && (size_t)r != len)) {
		if (r > 0)
			memset(out, 0, (size_t)r);
		return NYM_EKEY;
	}
	return r;
}

int
nym_pem_label(char *label, size_t cap, const char *in, size_t inlen)
{
	const char *p = in, *end = in + inlen, *l;

	while (p < end && is_space(*p))
		p++;
	if ((size_t)(end - p) < 11 || memcmp(p, "-----BEGIN ", 11))
		return NYM_EPEM;
	for (l = p += 11; p + 5 <= end; p++) {
		if (!memcmp(p, "-----", 5))
			break;
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return NYM_EPEM; /* a label is one line of printable ASCII */
	}
	if (p + 5 > end || memcmp(p, "-----", 5) || p == l)
		return NYM_EPEM;
	if ((size_t)(p - l) + 1 > cap || p - l > INT32_MAX)
		return NYM_ESIZE;
	memcpy(label, l, (size_t)(p - l));
	label[p - l] = 0;
	return (int)(p - l);
}
