/* socks.h — the local SOCKS handshake of nym-socks5-client, sans-I/O
 * (doc/spec/socks5.md §8; RFC 1928 subset, SOCKS4, SOCKS4a). Bytes from the
 * application go in as they arrive; out come the bytes to answer, and, once
 * the request is whole, the destination as the "host:port" text a Nym
 * Connect carries (§4.2).
 *
 * SOCKS5 (big-endian):
 *   greeting  05 ‖ NMETHODS u8 ‖ METHODS[NMETHODS]   → 05 00 (00 offered) | 05 FF
 *   request   05 ‖ CMD u8 ‖ RSV u8 ‖ ATYP u8 ‖ DST.ADDR ‖ DST.PORT u16
 *             ATYP 01: 4 bytes; 03: LEN u8 ‖ name[LEN]; 04: 16 bytes
 *   reply     05 ‖ REP u8 ‖ 00 ‖ 01 ‖ 7F 00 00 01 ‖ 00 00      (BND = 127.0.0.1:0)
 * SOCKS4 / 4a:
 *   request   04 ‖ CD u8 ‖ DSTPORT u16 ‖ DSTIP[4] ‖ USERID ‖ 00 [‖ DOMAIN ‖ 00]
 *             (4a: DSTIP 0.0.0.x, x ≠ 0, then the domain)
 *   reply     00 ‖ CD u8 (5A granted, 5B rejected) ‖ 00 00 ‖ 7F 00 00 01
 *
 * Destinations as the official client writes them (§4.2): "a.b.c.d:port",
 * "name:port", IPv6 as eight lowercase hex groups without brackets or "::"
 * ("0:0:0:0:0:0:0:1:80").
 *
 * Differences from the reference, on the local side only: an error reply is
 * the whole RFC form (05 REP … / 00 5B …) where the reference writes two
 * bytes (05 01 / 04 5B); REP says which error (07 command, 08 address type).
 * A SOCKS4 user id or a domain longer than 255 bytes, and a domain with
 * control bytes, are refused: a hostile application cannot make the state
 * grow, whatever it sends. */
#ifndef NYM_SOCKS_H
#define NYM_SOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* SOCKS5 reply codes (RFC 1928 §6) and SOCKS4 result codes. */
#define NYM_SOCKS_REP_OK 0x00
#define NYM_SOCKS_REP_FAILURE 0x01
#define NYM_SOCKS_REP_NOT_ALLOWED 0x02
#define NYM_SOCKS_REP_NET_UNREACHABLE 0x03
#define NYM_SOCKS_REP_HOST_UNREACHABLE 0x04
#define NYM_SOCKS_REP_REFUSED 0x05
#define NYM_SOCKS_REP_TTL_EXPIRED 0x06
#define NYM_SOCKS_REP_BAD_COMMAND 0x07
#define NYM_SOCKS_REP_BAD_ADDRESS 0x08
#define NYM_SOCKS_REP4_GRANTED 0x5A
#define NYM_SOCKS_REP4_REJECTED 0x5B

/* Longest reply (the SOCKS5 request reply), and the longest destination
 * text: a 255-byte name, ':', five digits. */
#define NYM_SOCKS_REPLY_MAX 10
#define NYM_SOCKS_DEST_MAX 262

/* nym_socks_input results. */
#define NYM_SOCKS_MORE 0 /* need more bytes (answer out first, if any) */
#define NYM_SOCKS_DONE 1 /* request complete: s->dest, s->version */

struct nym_socks {
	int phase;          /* internal */
	uint8_t version;    /* 4 or 5 once known (4 for SOCKS4a too) */
	uint8_t cmd;        /* the request's command */
	uint8_t atyp;       /* SOCKS5 address type; 0x03 for a SOCKS4a name */
	uint16_t port;
	char dest[NYM_SOCKS_DEST_MAX + 1]; /* "host:port", NUL-terminated */
	size_t dest_len;
	const char *why;    /* after an error: a static sentence */
	size_t have;        /* bytes of the current phase held in buf */
	uint8_t buf[600];
};

void nym_socks_init(struct nym_socks *s);

/* Feed bytes from the application. *used = bytes taken from in. After
 * NYM_SOCKS_MORE with a reply (*out_len > 0) send it and feed the rest of
 * in again; after NYM_SOCKS_DONE the rest of in is application data (a
 * client may send it before our reply). out gets what to send to the application now (*out_len
 * bytes, possibly 0): the method choice of a SOCKS5 greeting, or, with an
 * error, the error reply, after which the connection is closed. On
 * NYM_SOCKS_DONE nothing is written: the caller sends nym_socks_reply(s, 1)
 * when it accepts the destination.
 * Errors: NYM_EVERSION (first byte not 4 or 5: no reply), NYM_EPROTO (no
 * acceptable method, a bad command or address type, a malformed request),
 * NYM_EFULL (a field beyond its limit). s->why says which in words; further
 * input gets NYM_EINVAL. */
int nym_socks_input(struct nym_socks *s, const uint8_t *in, size_t len, size_t *used,
    uint8_t out[NYM_SOCKS_REPLY_MAX], size_t *out_len);

/* The reply to a complete request: granted, or refused with a SOCKS5 REP
 * code (mapped to 5B for SOCKS4). Returns its length. */
size_t nym_socks_reply(const struct nym_socks *s, int granted, uint8_t rep,
    uint8_t out[NYM_SOCKS_REPLY_MAX]);

#endif
