/* socks.c — the SOCKS4/4a/5 handshake, one byte at a time into a bounded
 * buffer (socks.h; doc/spec/socks5.md §8). */
#include <stdio.h>
#include <string.h>

#include "proto/socks.h"

enum { P_START, P_GREETING, P_REQUEST5, P_REQUEST4, P_DONE, P_FAILED };

#define NAME_MAX_ 255

void
nym_socks_init(struct nym_socks *s)
{
	memset(s, 0, sizeof *s);
	s->phase = P_START;
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A name we pass on: no control bytes (they have no business in a host name
 * and would reach logs and the requester's resolver). */
static int
name_ok(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

static void
dest_name(struct nym_socks *s, const uint8_t *name, size_t n)
{
	int k = snprintf(s->dest, sizeof s->dest, "%.*s:%u", (int)n, (const char *)name, s->port);
	s->dest_len = (size_t)k;
}

static void
dest_ipv4(struct nym_socks *s, const uint8_t *a)
{
	int k = snprintf(s->dest, sizeof s->dest, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], s->port);
	s->dest_len = (size_t)k;
}

/* The official client's form: eight lowercase groups, no brackets, no "::". */
static void
dest_ipv6(struct nym_socks *s, const uint8_t *a)
{
	size_t k = 0;
	for (int i = 0; i < 8; i++)
		k += (size_t)snprintf(s->dest + k, sizeof s->dest - k, "%x:", be16(a + 2 * i));
	k += (size_t)snprintf(s->dest + k, sizeof s->dest - k, "%u", s->port);
	s->dest_len = k;
}

static size_t
reply5(uint8_t rep, uint8_t out[NYM_SOCKS_REPLY_MAX])
{
	static const uint8_t bnd[] = {0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0x00, 0x00};
	out[0] = 5;
	out[1] = rep;
	memcpy(out + 2, bnd, sizeof bnd);
	return 10;
}

static size_t
reply4(uint8_t cd, uint8_t out[NYM_SOCKS_REPLY_MAX])
{
	static const uint8_t bnd[] = {0x00, 0x00, 0x7f, 0x00, 0x00, 0x01};
	out[0] = 0;
	out[1] = cd;
	memcpy(out + 2, bnd, sizeof bnd);
	return 8;
}

size_t
nym_socks_reply(const struct nym_socks *s, int granted, uint8_t rep,
    uint8_t out[NYM_SOCKS_REPLY_MAX])
{
	if (s->version == 4)
		return reply4(granted ? NYM_SOCKS_REP4_GRANTED : NYM_SOCKS_REP4_REJECTED, out);
	return reply5(granted ? NYM_SOCKS_REP_OK : rep ? rep : NYM_SOCKS_REP_FAILURE, out);
}

/* An error: the reply to send (if any), the phase that refuses more. */
static int
fail(struct nym_socks *s, int e, const char *why, uint8_t rep, uint8_t *out, size_t *out_len)
{
	s->phase = P_FAILED;
	s->why = why;
	if (rep && s->version == 5)
		*out_len = reply5(rep, out);
	else if (rep && s->version == 4)
		*out_len = reply4(NYM_SOCKS_REP4_REJECTED, out);
	return e;
}

/* One more byte is in buf: decide. NYM_SOCKS_MORE, NYM_SOCKS_DONE, or an
 * error (fail()). A greeting answered moves on to the request. */
static int
step(struct nym_socks *s, uint8_t *out, size_t *out_len)
{
	const uint8_t *b = s->buf;
	size_t n = s->have;

	switch (s->phase) {
	case P_START:
		if (b[0] == 5) {
			s->version = 5;
			s->phase = P_GREETING;
			return NYM_SOCKS_MORE;
		}
		if (b[0] == 4) {
			s->version = 4;
			s->phase = P_REQUEST4;
			return NYM_SOCKS_MORE;
		}
		s->phase = P_FAILED;
		s->why = "not a SOCKS4 or SOCKS5 client (first byte neither 4 nor 5)";
		return NYM_EVERSION;

	case P_GREETING: /* 05 (already taken) ‖ NMETHODS ‖ METHODS */
		if (n < 1 || n < 1 + (size_t)b[0])
			return NYM_SOCKS_MORE;
		if (!memchr(b + 1, 0x00, b[0])) {
			s->phase = P_FAILED;
			s->why = "the SOCKS5 client offers no method without authentication";
			out[0] = 5;
			out[1] = 0xff;
			*out_len = 2;
			return NYM_EPROTO;
		}
		out[0] = 5;
		out[1] = 0x00;
		*out_len = 2;
		s->phase = P_REQUEST5;
		s->have = 0;
		return NYM_SOCKS_MORE;

	case P_REQUEST5: { /* 05 ‖ CMD ‖ RSV ‖ ATYP ‖ ADDR ‖ PORT */
		size_t need;
		if (n < 4)
			return NYM_SOCKS_MORE;
		if (b[0] != 5)
			return fail(s, NYM_EPROTO, "the SOCKS5 request has another version",
			    NYM_SOCKS_REP_FAILURE, out, out_len);
		s->cmd = b[1];
		if (b[1] != 0x01)
			return fail(s, NYM_EPROTO, "only the SOCKS CONNECT command is supported",
			    NYM_SOCKS_REP_BAD_COMMAND, out, out_len);
		s->atyp = b[3];
		if (b[3] == 0x01)
			need = 4 + 4 + 2;
		else if (b[3] == 0x04)
			need = 4 + 16 + 2;
		else if (b[3] == 0x03) {
			if (n < 5)
				return NYM_SOCKS_MORE;
			need = 5 + (size_t)b[4] + 2;
		} else
			return fail(s, NYM_EPROTO, "unknown SOCKS5 address type", NYM_SOCKS_REP_BAD_ADDRESS,
			    out, out_len);
		if (n < need)
			return NYM_SOCKS_MORE;
		s->port = be16(b + need - 2);
		if (b[3] == 0x01)
			dest_ipv4(s, b + 4);
		else if (b[3] == 0x04)
			dest_ipv6(s, b + 4);
		else if (!name_ok(b + 5, b[4]))
			return fail(s, NYM_EPROTO, "the destination name has control bytes",
			    NYM_SOCKS_REP_BAD_ADDRESS, out, out_len);
		else
			dest_name(s, b + 5, b[4]);
		s->phase = P_DONE;
		return NYM_SOCKS_DONE;
	}

	case P_REQUEST4: { /* (04 taken) CD ‖ PORT ‖ IP ‖ USERID 00 [‖ DOMAIN 00] */
		const uint8_t *z;
		if (n < 7 + 1)
			return NYM_SOCKS_MORE;
		s->cmd = b[0];
		if (b[0] != 0x01)
			return fail(s, NYM_EPROTO, "only the SOCKS CONNECT command is supported", 1, out,
			    out_len);
		s->port = be16(b + 1);
		if (!(z = memchr(b + 7, 0, n - 7))) {
			if (n - 7 > NAME_MAX_)
				return fail(s, NYM_EFULL, "the SOCKS4 user id is longer than 255 bytes", 1,
				    out, out_len);
			return NYM_SOCKS_MORE;
		}
		/* 4a: 0.0.0.x with x != 0, then a name */
		if (b[3] == 0 && b[4] == 0 && b[5] == 0 && b[6] != 0) {
			const uint8_t *name = z + 1, *z2;
			size_t have = (size_t)(b + n - name);
			if (!(z2 = memchr(name, 0, have))) {
				if (have > NAME_MAX_)
					return fail(s, NYM_EFULL,
					    "the SOCKS4a destination name is longer than 255 bytes", 1, out,
					    out_len);
				return NYM_SOCKS_MORE;
			}
			if (!name_ok(name, (size_t)(z2 - name)))
				return fail(s, NYM_EPROTO, "the destination name has control bytes", 1, out,
				    out_len);
			s->atyp = 0x03;
			dest_name(s, name, (size_t)(z2 - name));
		} else {
			s->atyp = 0x01;
			dest_ipv4(s, b + 3);
		}
		s->phase = P_DONE;
		return NYM_SOCKS_DONE;
	}
	}
	return NYM_EINVAL;
}

int
nym_socks_input(struct nym_socks *s, const uint8_t *in, size_t len, size_t *used,
    uint8_t out[NYM_SOCKS_REPLY_MAX], size_t *out_len)
{
	size_t i = 0;
	int r = NYM_SOCKS_MORE;

	*out_len = 0;
	*used = 0;
	if (s->phase == P_DONE || s->phase == P_FAILED)
		return NYM_EINVAL;
	while (i < len) {
		if (s->phase != P_START && s->have >= sizeof s->buf)
			return fail(s, NYM_EFULL, "the SOCKS request is too long", 1, out, out_len);
		if (s->phase != P_START)
			s->buf[s->have++] = in[i];
		else
			s->buf[0] = in[i], s->have = 0;
		i++;
		r = step(s, out, out_len);
		*used = i;
		/* an answered greeting returns too: its reply goes out first */
		if (r != NYM_SOCKS_MORE || *out_len)
			return r;
	}
	return r;
}
