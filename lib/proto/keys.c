/* keys.c — key generation, client addresses, the sphinx key choice (pure: no files). */
#include <stdio.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"
#include "crypto/crypto.h"
#include "proto/framing.h"
#include "proto/keys.h"

/* ---- addresses ------------------------------------------------------------ */

static void
say(char *why, size_t cap, const char *fmt, const char *what, const char *s, size_t at)
{
	char ch[8];
	unsigned char c;

	if (!why || !cap)
		return;
	if (!s) {
		snprintf(why, cap, fmt, what);
		return;
	}
	c = (unsigned char)s[at];
	if (c > 0x20 && c < 0x7f)
		snprintf(ch, sizeof ch, "'%c'", c);
	else
		snprintf(ch, sizeof ch, "0x%02x", c);
	snprintf(why, cap, fmt, what, ch, at + 1);
}

/* One base58 key part s[from..to): exactly 32 bytes, and for Ed25519 keys a
 * point that decompresses. */
static int
parse_part(uint8_t out[32], const char *s, size_t from, size_t to, const char *what,
           int ed25519, char *why, size_t cap)
{
	uint8_t buf[33];
	int at, n;

	if (from == to) {
		say(why, cap, "%s is empty", what, NULL, 0);
		return NYM_EADDR;
	}
	if ((at = nym_base58_invalid_at(s + from, to - from)) >= 0) {
		say(why, cap, "%s: %s at character %zu is not base58", what, s, from + (size_t)at);
		return NYM_EADDR;
	}
	n = nym_base58_decode(buf, sizeof buf, s + from, to - from);
	if (n != 32) {
		if (why && cap && n >= 0)
			snprintf(why, cap, "%s decodes to %d bytes, not 32", what, n);
		else if (why && cap)
			snprintf(why, cap, "%s decodes to more than 32 bytes", what);
		return NYM_EKEY;
	}
	if (ed25519 && nym_ed25519_pk_valid(buf) != 0) {
		say(why, cap, "%s is not a valid Ed25519 public key", what, NULL, 0);
		return NYM_EKEY;
	}
	memcpy(out, buf, 32);
	return 0;
}

int
nym_address_parse(struct nym_address *a, const char *s, char *why, size_t cap)
{
	const char *at = NULL, *dot = NULL;
	size_t len, iat, idot;
	int r;

	if (why && cap)
		why[0] = 0;
	if (!s || !*s) {
		say(why, cap, "%s", "empty address", NULL, 0);
		return NYM_EADDR;
	}
	len = strlen(s);
	for (const char *p = s; *p; p++) {
		if (*p != '@')
			continue;
		if (at) {
			say(why, cap, "%s", "more than one '@' (want IDENTITY.ENCRYPTION@GATEWAY)", NULL, 0);
			return NYM_EADDR;
		}
		at = p;
	}
	if (!at) {
		say(why, cap, "%s", "no '@' before the gateway key (want IDENTITY.ENCRYPTION@GATEWAY)", NULL, 0);
		return NYM_EADDR;
	}
	for (const char *p = s; p < at; p++) {
		if (*p != '.')
			continue;
		if (dot) {
			say(why, cap, "%s", "more than one '.' before '@' (want IDENTITY.ENCRYPTION@GATEWAY)", NULL, 0);
			return NYM_EADDR;
		}
		dot = p;
	}
	if (!dot) {
		say(why, cap, "%s", "no '.' between identity and encryption keys (want IDENTITY.ENCRYPTION@GATEWAY)", NULL, 0);
		return NYM_EADDR;
	}
	iat = (size_t)(at - s);
	idot = (size_t)(dot - s);
	if ((r = parse_part(a->identity, s, 0, idot, "identity key", 1, why, cap)) < 0 ||
	    (r = parse_part(a->encryption, s, idot + 1, iat, "encryption key", 0, why, cap)) < 0 ||
	    (r = parse_part(a->gateway, s, iat + 1, len, "gateway key", 1, why, cap)) < 0)
		return r;
	return 0;
}

int
nym_address_format(char *out, size_t cap, const struct nym_address *a)
{
	char id[NYM_B58_KEY_MAX], enc[NYM_B58_KEY_MAX], gw[NYM_B58_KEY_MAX];
	int n;

	if (nym_base58_encode(id, sizeof id, a->identity, 32) < 0 ||
	    nym_base58_encode(enc, sizeof enc, a->encryption, 32) < 0 ||
	    nym_base58_encode(gw, sizeof gw, a->gateway, 32) < 0)
		return NYM_ESIZE;
	n = snprintf(out, cap, "%s.%s@%s", id, enc, gw);
	if (n < 0 || (size_t)n >= cap)
		return NYM_ESIZE;
	return n;
}

void
nym_client_address(struct nym_address *a, const struct nym_client_keys *k, const uint8_t gw[32])
{
	memcpy(a->identity, k->identity_pk, 32);
	memcpy(a->encryption, k->encryption_pk, 32);
	memcpy(a->gateway, gw, 32);
}

/* ---- generation ----------------------------------------------------------- */

int
nym_client_keys_generate(struct nym_client_keys *k, const struct nym_rng *rng)
{
	int r;

	if ((r = nym_rng_fill(rng, k->identity_seed, 32)) < 0 ||
	    (r = nym_rng_fill(rng, k->encryption_sk, 32)) < 0 ||
	    (r = nym_rng_fill(rng, k->ack_key, 16)) < 0 ||
	    (r = nym_ed25519_public(k->identity_pk, k->identity_seed)) < 0 ||
	    (r = nym_x25519_base(k->encryption_pk, k->encryption_sk)) < 0) {
		nym_wipe(k, sizeof *k);
		return r;
	}
	return 0;
}

int
nym_node_keys_generate(struct nym_node_keys *k, const struct nym_rng *rng)
{
	int r;

	k->sphinx_rotation = 0;
	if ((r = nym_rng_fill(rng, k->identity_seed, 32)) < 0 ||
	    (r = nym_rng_fill(rng, k->sphinx_sk, 32)) < 0 ||
	    (r = nym_ed25519_public(k->identity_pk, k->identity_seed)) < 0 ||
	    (r = nym_x25519_base(k->sphinx_pk, k->sphinx_sk)) < 0) {
		nym_wipe(k, sizeof *k);
		return r;
	}
	return 0;
}

/* ---- sphinx key rotation -------------------------------------------------- */

int
nym_sphinx_keys_pick(uint8_t rotation, const uint8_t primary[32], uint32_t primary_rotation,
                     const uint8_t *secondary, const uint8_t *out[2])
{
	int primary_even = (primary_rotation & 1) == 0;

	switch (rotation) {
	case NYM_ROTATION_UNKNOWN:
		out[0] = primary;
		out[1] = secondary;
		return secondary ? 2 : 1;
	case NYM_ROTATION_ODD:
	case NYM_ROTATION_EVEN:
		if (primary_even == (rotation == NYM_ROTATION_EVEN))
			out[0] = primary;
		else if (secondary)
			out[0] = secondary;
		else
			return 0;
		out[1] = NULL;
		return 1;
	default:
		return NYM_EFLAG;
	}
}
