/* sphinx.c — Sphinx creation and processing as sphinx-packet 0.6.0 does it
 * (doc/spec/sphinx.md §3–§6; layouts in sphinx.h). */
#include <string.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "crypto/lioness.h"
#include "proto/sphinx.h"

#define SLOT 60          /* one forward block: 44 meta bytes + 16 MAC */
#define STREAM_LEN 360   /* 300 + one slot */
#define FINAL_META 52    /* flag, version, destination, identifier */

static const uint8_t INFO_97[] =
	"Dwste mou enan moxlo arketa makru kai ena upomoxlio gia na ton topothetisw "
	"kai tha kinisw thn gh.";
static const uint8_t PK_SALT[] = "sphinx-payload-key-V01-CS01-HKDF:SHA256-SALT";
static const uint8_t PK_INFO[] = "sphinx-payload-key-V01-CS01-HKDF:SHA256-INFO";
static const uint8_t ZERO_IV[16];
static const uint8_t BASE_POINT[32] = { 9 };
/* 8^-1 mod l, little-endian (see current_secrets). */
static const uint8_t INV8[32] = {
	0x79, 0x2f, 0xdc, 0xe2, 0x29, 0xe5, 0x06, 0x61, 0xd0, 0xda, 0x1c, 0x7d, 0xb3, 0x9d, 0xd3, 0x07,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x06
};

int
nym_sphinx_version_is_legacy(uint16_t v)
{
	return v == NYM_SPHINX_V1 || v == NYM_SPHINX_V257;
}

int
nym_sphinx_version_full_keys(uint16_t v)
{
	return nym_sphinx_version_is_legacy(v) || v == NYM_SPHINX_V258;
}

int
nym_sphinx_ctx_init(struct nym_sphinx_ctx *ctx)
{
	return nym_aes128_ctr_init(&ctx->aes);
}

void
nym_sphinx_ctx_free(struct nym_sphinx_ctx *ctx)
{
	nym_aes128_ctr_free(&ctx->aes);
}

/* buf ^= AES-128-CTR(key, IV 0) — the header PRG. */
static int
prg_xor(struct nym_sphinx_ctx *ctx, uint8_t *buf, size_t len, const uint8_t key[16])
{
	if (ctx)
		return nym_aes128_ctr_xor(&ctx->aes, buf, buf, len, key, ZERO_IV);
	return nym_aes128_ctr(buf, buf, len, key, ZERO_IV);
}

static void
mac16(uint8_t out[16], const uint8_t key[16], const uint8_t beta[NYM_SPHINX_ROUTING_LEN])
{
	uint8_t full[32];

	nym_hmac_sha256(full, key, 16, beta, NYM_SPHINX_ROUTING_LEN);
	memcpy(out, full, 16);
	nym_wipe(full, sizeof full);
}

int
nym_sphinx_expand(uint8_t okm[NYM_SPHINX_OKM_LEN], const uint8_t shared[32])
{
	return nym_hkdf_sha256(okm, NYM_SPHINX_OKM_LEN, NULL, 0, shared, 32,
	                       INFO_97, sizeof INFO_97 - 1);
}

int
nym_sphinx_seed_key(uint8_t key[NYM_SPHINX_PAYLOAD_KEY_LEN], const uint8_t seed[NYM_SPHINX_SEED_LEN])
{
	return nym_hkdf_sha256(key, NYM_SPHINX_PAYLOAD_KEY_LEN, PK_SALT, sizeof PK_SALT - 1,
	                       seed, NYM_SPHINX_SEED_LEN, PK_INFO, sizeof PK_INFO - 1);
}

int
nym_sphinx_payload_key(uint8_t key[NYM_SPHINX_PAYLOAD_KEY_LEN], uint16_t version,
                       const uint8_t okm[NYM_SPHINX_OKM_LEN])
{
	if (nym_sphinx_version_full_keys(version)) {
		memcpy(key, okm + NYM_SPHINX_OKM_PAYLOAD, NYM_SPHINX_PAYLOAD_KEY_LEN);
		return 0;
	}
	return nym_sphinx_seed_key(key, okm + NYM_SPHINX_OKM_PAYLOAD);
}

/* ---- processing --------------------------------------------------------- */

int
nym_sphinx_derive(struct nym_sphinx_secret *s, const uint8_t *packet, size_t len,
                  const uint8_t node_sk[32])
{
	int rc;

	if (len < NYM_SPHINX_HEADER_LEN)
		return NYM_ESHORT;
	if ((rc = nym_x25519(s->shared, node_sk, packet)) < 0 ||
	    (rc = nym_sphinx_expand(s->okm, s->shared)) < 0) {
		nym_wipe(s, sizeof *s);
		return rc;
	}
	return 0;
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int
nym_sphinx_process_secret(struct nym_sphinx_ctx *ctx, uint8_t *packet, size_t len,
                          const struct nym_sphinx_secret *s, struct nym_sphinx_processed *out)
{
	uint8_t mac[16], d[STREAM_LEN], pkey[NYM_SPHINX_PAYLOAD_KEY_LEN], alpha[32], b[32];
	const uint8_t *okm = s->okm;
	int rc;

	if (len < NYM_SPHINX_MIN_PACKET)
		return NYM_ESHORT;
	mac16(mac, okm + NYM_SPHINX_OKM_MAC, packet + NYM_SPHINX_OFF_BETA);
	rc = nym_ct_eq(mac, packet + NYM_SPHINX_OFF_MAC, 16);
	nym_wipe(mac, sizeof mac);
	if (rc != 0)
		return NYM_EMAC;

	/* d = (beta || 0^60) ^ PRG: the last slot becomes the next filler. */
	memcpy(d, packet + NYM_SPHINX_OFF_BETA, NYM_SPHINX_ROUTING_LEN);
	memset(d + NYM_SPHINX_ROUTING_LEN, 0, SLOT);
	if ((rc = prg_xor(ctx, d, sizeof d, okm + NYM_SPHINX_OKM_STREAM)) < 0)
		goto out;
	if (d[0] != NYM_SPHINX_FLAG_FORWARD && d[0] != NYM_SPHINX_FLAG_FINAL) {
		rc = NYM_EFLAG;
		goto out;
	}
	memset(out, 0, sizeof *out);
	out->flag = d[0];
	out->final = d[0] == NYM_SPHINX_FLAG_FINAL;
	out->version = (uint16_t)(d[2] << 8 | d[3]); /* d[1] ignored, as in release Rust */
	memcpy(out->replay_tag, okm + NYM_SPHINX_OKM_REPLAY, NYM_SPHINX_REPLAY_TAG_LEN);
	if ((rc = nym_sphinx_payload_key(pkey, out->version, okm)) < 0)
		goto out;

	if (!out->final) {
		memcpy(out->next_hop, d + 4, NYM_SPHINX_ADDR_LEN);
		out->delay_ns = get_be64(d + 36);
		if (nym_sphinx_version_is_legacy(out->version)) {
			nym_scalar_reduce32(b, okm + NYM_SPHINX_OKM_BLINDING);
			nym_x25519_unclamped(alpha, b, packet);
		} else if ((rc = nym_x25519(alpha, okm + NYM_SPHINX_OKM_BLINDING, packet)) < 0) {
			goto out;
		}
		memcpy(packet, alpha, 32);
		memcpy(packet + NYM_SPHINX_OFF_MAC, d + 44, 16 + NYM_SPHINX_ROUTING_LEN);
	} else {
		memcpy(out->destination, d + 4, NYM_SPHINX_ADDR_LEN);
		memcpy(out->identifier, d + 36, NYM_SPHINX_ID_LEN);
	}
	out->payload_off = out->final ? NYM_SPHINX_HEADER_LEN : 0;
	out->payload_len = out->final ? len - NYM_SPHINX_HEADER_LEN : len;
	rc = nym_lioness_decrypt(packet + NYM_SPHINX_HEADER_LEN, len - NYM_SPHINX_HEADER_LEN, pkey);
out:
	nym_wipe(d, sizeof d);
	nym_wipe(pkey, sizeof pkey);
	nym_wipe(b, sizeof b);
	return rc;
}

int
nym_sphinx_process(struct nym_sphinx_ctx *ctx, uint8_t *packet, size_t len,
                   const uint8_t node_sk[32], struct nym_sphinx_processed *out)
{
	struct nym_sphinx_secret s;
	int rc;

	if (len < NYM_SPHINX_MIN_PACKET)
		return NYM_ESHORT;
	if ((rc = nym_sphinx_derive(&s, packet, len, node_sk)) == 0)
		rc = nym_sphinx_process_secret(ctx, packet, len, &s, out);
	nym_wipe(&s, sizeof s);
	return rc;
}

/* ---- creation ------------------------------------------------------------ */

/* u([c]P) for a scalar c < l given as t = c/8 mod l, using the fast clamped
 * X25519 wherever possible. X25519 uses k = clamp(k) = 2^254 + 8m; any
 * k = 8t' with t' = ±t mod l and 2^251 <= t' < 2^252 is already clamped,
 * and [k]P = ±[c]P (same u) for every point of the curve, because 8 | k
 * kills the torsion part just as the chain of clamped scalars does. One of
 * t, l - t is in range unless t < 2^125-ish or t >= 2^252 (chance ~2^-125);
 * then the generic ladder computes the same [8t]P. */
static int
mul_div8(uint8_t out[32], const uint8_t t[32], const uint8_t p[32])
{
	uint8_t tt[32], k[32];
	int rc = 0;

	memcpy(tt, t, 32);
	if ((tt[31] & 0xf8) != 0x08)
		nym_scalar_negate(tt, t);
	/* k = 8 * tt (tt < l < 2^253, so 8tt < 2^256) */
	for (int i = 31; i > 0; i--)
		k[i] = (uint8_t)(tt[i] << 3 | tt[i - 1] >> 5);
	k[0] = (uint8_t)(tt[0] << 3);
	if ((tt[31] & 0xf8) == 0x08)
		rc = nym_x25519(out, k, p);
	else
		nym_x25519_unclamped(out, k, p);
	nym_wipe(tt, sizeof tt);
	nym_wipe(k, sizeof k);
	return rc;
}

static void
clamp_reduce(uint8_t out[32], const uint8_t in[32])
{
	uint8_t c[32];

	nym_x25519_clamp(c, in);
	nym_scalar_reduce32(out, c);
	nym_wipe(c, sizeof c);
}

/* alpha_0 and OKM_i for every hop (doc/spec/sphinx.md §3.5). For current versions the
 * chain X25519(b_{i-1}, ... X25519(x, pk_i)) equals one multiplication by
 * the product of the clamped scalars mod l: n + 1 scalar multiplications
 * instead of n + n(n+1)/2. Legacy versions use the unclamped product as is. */
static int
hop_secrets(uint8_t alpha0[32], uint8_t okm[][NYM_SPHINX_OKM_LEN],
            const struct nym_sphinx_route *r, const uint8_t x[32])
{
	uint8_t acc[32], b[32], s[32];
	int legacy = nym_sphinx_version_is_legacy(r->version), rc = 0;

	if (legacy) {
		nym_scalar_reduce32(acc, x);
		nym_x25519_unclamped(alpha0, acc, BASE_POINT);
	} else {
		if ((rc = nym_x25519_base(alpha0, x)) < 0)
			goto out;
		clamp_reduce(b, x);
		nym_scalar_mul(acc, b, INV8);
	}
	for (size_t i = 0; i < r->nhops; i++) {
		if (legacy)
			nym_x25519_unclamped(s, acc, r->hop[i].pubkey);
		else if ((rc = mul_div8(s, acc, r->hop[i].pubkey)) < 0)
			goto out;
		if ((rc = nym_sphinx_expand(okm[i], s)) < 0)
			goto out;
		if (i + 1 == r->nhops)
			break;
		if (legacy)
			nym_scalar_reduce32(b, okm[i] + NYM_SPHINX_OKM_BLINDING);
		else
			clamp_reduce(b, okm[i] + NYM_SPHINX_OKM_BLINDING);
		nym_scalar_mul(acc, acc, b);
	}
out:
	nym_wipe(acc, sizeof acc);
	nym_wipe(b, sizeof b);
	nym_wipe(s, sizeof s);
	return rc;
}

int
nym_sphinx_header_create(struct nym_sphinx_ctx *ctx, uint8_t header[NYM_SPHINX_HEADER_LEN],
                         struct nym_sphinx_layers *layers,
                         const struct nym_sphinx_route *r, const struct nym_rng *rng)
{
	uint8_t x[32], okm[NYM_SPHINX_MAX_HOPS][NYM_SPHINX_OKM_LEN];
	uint8_t ks[NYM_SPHINX_MAX_HOPS][STREAM_LEN];
	uint8_t filler[SLOT * (NYM_SPHINX_MAX_HOPS - 1)], plain[NYM_SPHINX_ROUTING_LEN];
	uint8_t *gamma = header + NYM_SPHINX_OFF_MAC, *beta = header + NYM_SPHINX_OFF_BETA;
	size_t n = r->nhops, flen;
	int rc;

	if (n < 1 || n > NYM_SPHINX_MAX_HOPS)
		return NYM_EROUTE;
	if ((rc = nym_rng_fill(rng, x, sizeof x)) < 0 ||
	    (rc = hop_secrets(header, okm, r, x)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		memset(ks[i], 0, STREAM_LEN);
		if ((rc = prg_xor(ctx, ks[i], STREAM_LEN, okm[i] + NYM_SPHINX_OKM_STREAM)) < 0)
			goto out;
	}
	/* Filler: what the appended zero slots turn into along the way. */
	memset(filler, 0, sizeof filler);
	for (size_t i = 1; i < n; i++)
		for (size_t j = 0; j < SLOT * i; j++)
			filler[j] ^= ks[i - 1][STREAM_LEN - SLOT * i + j];

	/* Final block: flag, version, destination, identifier, random padding. */
	flen = NYM_SPHINX_ROUTING_LEN - SLOT * (n - 1);
	plain[0] = NYM_SPHINX_FLAG_FINAL;
	plain[1] = 0;
	plain[2] = (uint8_t)(r->version >> 8);
	plain[3] = (uint8_t)r->version;
	memcpy(plain + 4, r->destination, NYM_SPHINX_ADDR_LEN);
	memcpy(plain + 36, r->identifier, NYM_SPHINX_ID_LEN);
	if ((rc = nym_rng_fill(rng, plain + FINAL_META, flen - FINAL_META)) < 0)
		goto out;
	for (size_t j = 0; j < flen; j++)
		beta[j] = plain[j] ^ ks[n - 1][j];
	memcpy(beta + flen, filler, SLOT * (n - 1));
	mac16(gamma, okm[n - 1] + NYM_SPHINX_OKM_MAC, beta);

	for (size_t i = n - 1; i-- > 0;) {
		plain[0] = NYM_SPHINX_FLAG_FORWARD;
		plain[1] = 0;
		plain[2] = (uint8_t)(r->version >> 8);
		plain[3] = (uint8_t)r->version;
		memcpy(plain + 4, r->hop[i + 1].address, NYM_SPHINX_ADDR_LEN);
		put_be64(plain + 36, r->delay_ns[i]);
		memcpy(plain + 44, gamma, 16);
		memcpy(plain + SLOT, beta, NYM_SPHINX_ROUTING_LEN - SLOT);
		for (size_t j = 0; j < NYM_SPHINX_ROUTING_LEN; j++)
			beta[j] = plain[j] ^ ks[i][j];
		mac16(gamma, okm[i] + NYM_SPHINX_OKM_MAC, beta);
	}

	if (layers) {
		memset(layers, 0, sizeof *layers);
		layers->version = r->version;
		layers->nhops = n;
		for (size_t i = 0; i < n; i++) {
			struct nym_sphinx_layer *l = &layers->hop[i];
			memcpy(l->mac_key, okm[i] + NYM_SPHINX_OKM_MAC, 16);
			memcpy(l->seed, okm[i] + NYM_SPHINX_OKM_PAYLOAD, NYM_SPHINX_SEED_LEN);
			if ((rc = nym_sphinx_payload_key(l->payload_key, r->version, okm[i])) < 0)
				goto out;
		}
	}
out:
	nym_wipe(x, sizeof x);
	nym_wipe(okm, sizeof okm);
	nym_wipe(ks, sizeof ks);
	nym_wipe(filler, sizeof filler);
	nym_wipe(plain, sizeof plain);
	if (rc < 0) {
		memset(header, 0, NYM_SPHINX_HEADER_LEN);
		if (layers)
			nym_wipe(layers, sizeof *layers);
	}
	return rc;
}

int
nym_sphinx_create(struct nym_sphinx_ctx *ctx, uint8_t *packet, size_t len,
                  const struct nym_sphinx_route *r, const uint8_t *msg, size_t msg_len,
                  const struct nym_rng *rng)
{
	struct nym_sphinx_layers l;
	uint8_t *payload = packet + NYM_SPHINX_HEADER_LEN;
	size_t plen;
	int rc;

	if (len < NYM_SPHINX_MIN_PACKET)
		return NYM_ESIZE;
	plen = len - NYM_SPHINX_HEADER_LEN;
	if (msg_len > plen - NYM_SPHINX_PAYLOAD_OVERHEAD)
		return NYM_ETOOBIG;
	if (r->nhops < 1 || r->nhops > NYM_SPHINX_MAX_HOPS)
		return NYM_EROUTE;
	if ((rc = nym_sphinx_pad(payload, plen, msg, msg_len)) < 0)
		return rc;
	if ((rc = nym_sphinx_header_create(ctx, packet, &l, r, rng)) == 0)
		rc = nym_sphinx_payload_wrap(payload, plen, &l);
	nym_wipe(&l, sizeof l);
	if (rc < 0)
		nym_wipe(packet, len);
	return rc;
}

/* ---- payload ------------------------------------------------------------- */

int
nym_sphinx_pad(uint8_t *payload, size_t plen, const uint8_t *msg, size_t mlen)
{
	if (plen < NYM_SPHINX_MIN_PAYLOAD)
		return NYM_ESIZE;
	if (mlen > plen - NYM_SPHINX_PAYLOAD_OVERHEAD)
		return NYM_ETOOBIG;
	if (mlen)
		memmove(payload + 16, msg, mlen);
	memset(payload, 0, 16);
	payload[16 + mlen] = 1;
	memset(payload + 17 + mlen, 0, plen - 17 - mlen);
	return 0;
}

int
nym_sphinx_unpad(const uint8_t *payload, size_t plen, size_t *mlen)
{
	static const uint8_t zero[16];

	if (plen < NYM_SPHINX_PAYLOAD_OVERHEAD || memcmp(payload, zero, 16) != 0)
		return NYM_EFORMAT;
	for (size_t j = plen; j-- > 16;)
		if (payload[j] == 1) {
			*mlen = j - 16;
			return 0;
		}
	return NYM_EFORMAT;
}

int
nym_sphinx_payload_wrap(uint8_t *payload, size_t plen, const struct nym_sphinx_layers *l)
{
	int rc;

	if (l->nhops < 1 || l->nhops > NYM_SPHINX_MAX_HOPS)
		return NYM_EROUTE;
	for (size_t i = l->nhops; i-- > 0;)
		if ((rc = nym_lioness_encrypt(payload, plen, l->hop[i].payload_key)) < 0)
			return rc;
	return 0;
}

int
nym_sphinx_payload_unwrap(uint8_t *payload, size_t plen, const struct nym_sphinx_layers *l,
                          size_t from)
{
	int rc;

	if (l->nhops > NYM_SPHINX_MAX_HOPS || from > l->nhops)
		return NYM_EROUTE;
	for (size_t i = from; i < l->nhops; i++)
		if ((rc = nym_lioness_decrypt(payload, plen, l->hop[i].payload_key)) < 0)
			return rc;
	return 0;
}

int
nym_sphinx_layers_find(const struct nym_sphinx_layers *l, const uint8_t header[NYM_SPHINX_HEADER_LEN])
{
	uint8_t mac[16];
	int found = NYM_ENOTFOUND;

	for (size_t i = 0; i < l->nhops && i < NYM_SPHINX_MAX_HOPS; i++) {
		mac16(mac, l->hop[i].mac_key, header + NYM_SPHINX_OFF_BETA);
		if (nym_ct_eq(mac, header + NYM_SPHINX_OFF_MAC, 16) == 0 && found < 0)
			found = (int)i;
	}
	nym_wipe(mac, sizeof mac);
	return found;
}
