/* gwproto.c — client<->gateway protocol v6, sans-I/O (see gwproto.h). */
#include "proto/gwproto.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"
#include "crypto/blake3.h"
#include "crypto/crypto.h"
#include "crypto/gcmsiv.h"

enum { HS_START = 0, HS_WAIT_M2, HS_WAIT_M4, HS_DONE, HS_GW_WAIT_M3, HS_FAILED };

uint8_t
nym_gw_version_accept(int has_version, uint8_t proposed)
{
	if (!has_version)
		return 0;
	return proposed > NYM_GW_PROTOCOL_VERSION ? NYM_GW_PROTOCOL_VERSION : proposed;
}

int
nym_gw_version_propose(uint8_t announced)
{
	if (announced < NYM_GW_MIN_AUTH_VERSION)
		return NYM_EVERSION;
	return announced > NYM_GW_PROTOCOL_VERSION ? NYM_GW_PROTOCOL_VERSION : announced;
}

int
nym_gw_derive_key(uint8_t key[32], const uint8_t eph_sk[32], const uint8_t peer_eph_pk[32],
                  const uint8_t salt[16])
{
	uint8_t dh[32];
	int rc = nym_x25519(dh, eph_sk, peer_eph_pk);
	if (rc == 0)
		rc = nym_hkdf_blake3(key, 32, salt, 16, dh, 32, NULL, 0);
	nym_wipe(dh, sizeof dh);
	return rc;
}

void
nym_gw_hs_wipe(void *hs, size_t len)
{
	nym_wipe(hs, len);
}

/* Sign a||b with seed, encrypt the signature under key with a fresh nonce:
 * out = ct||tag (80) || nonce (12) order is the caller's business. */
static int
sign_and_seal(uint8_t ct[80], const uint8_t nonce[12], const uint8_t seed[32],
              const uint8_t a[32], const uint8_t b[32], const uint8_t key[32])
{
	uint8_t msg[64], sig[64];
	int rc;

	memcpy(msg, a, 32);
	memcpy(msg + 32, b, 32);
	rc = nym_ed25519_sign(sig, msg, 64, seed);
	if (rc == 0)
		rc = nym_gcmsiv_encrypt(ct, sig, 64, NULL, 0, key, nonce);
	nym_wipe(sig, sizeof sig);
	return rc;
}

static int
open_and_verify(const uint8_t ct[80], const uint8_t nonce[12], const uint8_t pk[32],
                const uint8_t a[32], const uint8_t b[32], const uint8_t key[32])
{
	uint8_t msg[64], sig[64];
	int rc;

	if (nym_gcmsiv_decrypt(sig, ct, 80, NULL, 0, key, nonce) != 0)
		return NYM_EMAC;
	memcpy(msg, a, 32);
	memcpy(msg + 32, b, 32);
	rc = nym_ed25519_verify(sig, msg, 64, pk) == 0 ? 0 : NYM_EMAC;
	nym_wipe(sig, sizeof sig);
	return rc;
}

/* --- client role ---------------------------------------------------------- */

int
nym_gw_hs_client_start(struct nym_gw_hs_client *hs, const uint8_t identity_seed[32],
                       const uint8_t gateway_pk[32], const struct nym_rng *rng,
                       uint8_t m1[NYM_GW_M1_LEN])
{
	int rc;

	memset(hs, 0, sizeof *hs);
	memcpy(hs->identity_seed, identity_seed, 32);
	memcpy(hs->gateway_pk, gateway_pk, 32);
	if ((rc = nym_ed25519_public(hs->identity_pk, identity_seed)) ||
	    (rc = nym_rng_fill(rng, hs->eph_sk, 32)) ||
	    (rc = nym_rng_fill(rng, hs->salt, 16)) ||
	    (rc = nym_x25519_base(hs->eph_pk, hs->eph_sk))) {
		nym_wipe(hs, sizeof *hs);
		hs->state = HS_FAILED;
		return rc;
	}
	memcpy(m1, hs->identity_pk, 32);
	memcpy(m1 + 32, hs->eph_pk, 32);
	memcpy(m1 + 64, hs->salt, 16);
	hs->state = HS_WAIT_M2;
	return 0;
}

int
nym_gw_hs_client_m2(struct nym_gw_hs_client *hs, const uint8_t *m2, size_t len,
                    const struct nym_rng *rng, uint8_t m3[NYM_GW_M3_LEN])
{
	int rc;

	if (hs->state != HS_WAIT_M2)
		return NYM_EINVAL;
	hs->state = HS_FAILED;
	if (len != NYM_GW_M2_LEN)
		rc = NYM_ESIZE;
	else if ((rc = nym_gw_derive_key(hs->key, hs->eph_sk, m2, hs->salt)) == 0 &&
	         (rc = open_and_verify(m2 + 32, m2 + 112, hs->gateway_pk, m2, hs->eph_pk,
	                               hs->key)) == 0 &&
	         (rc = nym_rng_fill(rng, m3 + 80, 12)) == 0)
		rc = sign_and_seal(m3, m3 + 80, hs->identity_seed, hs->eph_pk, m2, hs->key);
	if (rc) {
		nym_wipe(hs, sizeof *hs);
		hs->state = HS_FAILED;
		return rc;
	}
	memcpy(hs->gw_eph_pk, m2, 32);
	nym_wipe(hs->eph_sk, 32);
	hs->state = HS_WAIT_M4;
	return 0;
}

int
nym_gw_hs_client_m4(struct nym_gw_hs_client *hs, const uint8_t *m4, size_t len, uint8_t key[32])
{
	int rc = 0;

	if (hs->state != HS_WAIT_M4)
		return NYM_EINVAL;
	if (len != NYM_GW_M4_LEN)
		rc = NYM_ESIZE;
	else if (m4[0] != 1)
		rc = NYM_EPROTO;
	if (rc == 0)
		memcpy(key, hs->key, 32);
	nym_wipe(hs, sizeof *hs);
	hs->state = rc ? HS_FAILED : HS_DONE;
	return rc;
}

/* --- gateway role --------------------------------------------------------- */

int
nym_gw_hs_gateway_m1(struct nym_gw_hs_gateway *hs, const uint8_t identity_seed[32],
                     const uint8_t *m1, size_t len, const struct nym_rng *rng,
                     uint8_t m2[NYM_GW_M2_LEN])
{
	int rc;

	memset(hs, 0, sizeof *hs);
	hs->state = HS_FAILED;
	if (len != NYM_GW_M1_LEN)
		return NYM_ESIZE;
	if (nym_ed25519_pk_valid(m1) != 0)
		return NYM_EKEY;
	memcpy(hs->client_pk, m1, 32);
	memcpy(hs->client_eph_pk, m1 + 32, 32);
	if ((rc = nym_rng_fill(rng, hs->eph_sk, 32)) ||
	    (rc = nym_x25519_base(hs->eph_pk, hs->eph_sk)) ||
	    (rc = nym_gw_derive_key(hs->key, hs->eph_sk, hs->client_eph_pk, m1 + 64)) ||
	    (rc = nym_rng_fill(rng, m2 + 112, 12)) ||
	    (rc = sign_and_seal(m2 + 32, m2 + 112, identity_seed, hs->eph_pk, hs->client_eph_pk,
	                        hs->key))) {
		nym_wipe(hs, sizeof *hs);
		hs->state = HS_FAILED;
		return rc;
	}
	memcpy(m2, hs->eph_pk, 32);
	nym_wipe(hs->eph_sk, 32);
	hs->state = HS_GW_WAIT_M3;
	return 0;
}

int
nym_gw_hs_gateway_m3(struct nym_gw_hs_gateway *hs, const uint8_t *m3, size_t len,
                     uint8_t m4[NYM_GW_M4_LEN], uint8_t key[32])
{
	int rc;

	if (hs->state != HS_GW_WAIT_M3)
		return NYM_EINVAL;
	if (len != NYM_GW_M3_LEN)
		rc = NYM_ESIZE;
	else
		rc = open_and_verify(m3, m3 + 80, hs->client_pk, hs->client_eph_pk, hs->eph_pk, hs->key);
	if (rc == 0) {
		m4[0] = 1;
		memcpy(key, hs->key, 32);
	}
	nym_wipe(hs->key, 32);
	hs->state = rc ? HS_FAILED : HS_DONE;
	return rc;
}

/* --- authenticateV2 ------------------------------------------------------- */

void
nym_gw_auth_signed_bytes(uint8_t out[NYM_GW_AUTH_SIGNED_LEN], const struct nym_gw_auth *a)
{
	out[0] = a->version;
	memcpy(out + 1, a->identity, 32);
	memcpy(out + 33, a->address_ct, 48);
	memcpy(out + 81, a->nonce, 12);
	for (int i = 0; i < 8; i++)
		out[93 + i] = (uint8_t)(a->timestamp >> (56 - 8 * i));
}

int
nym_gw_auth_build(struct nym_gw_auth *a, uint8_t version, const uint8_t identity_seed[32],
                  const uint8_t key[32], uint64_t now, const struct nym_rng *rng)
{
	uint8_t msg[NYM_GW_AUTH_SIGNED_LEN];
	int rc;

	memset(a, 0, sizeof *a);
	a->version = version;
	a->timestamp = now;
	if ((rc = nym_ed25519_public(a->identity, identity_seed)) ||
	    (rc = nym_rng_fill(rng, a->nonce, 12)) ||
	    (rc = nym_gcmsiv_encrypt(a->address_ct, a->identity, 32, NULL, 0, key, a->nonce)))
		return rc;
	nym_gw_auth_signed_bytes(msg, a);
	return nym_ed25519_sign(a->signature, msg, sizeof msg, identity_seed);
}

int
nym_gw_auth_check_request(const struct nym_gw_auth *a, uint64_t now, uint64_t max_skew)
{
	uint8_t msg[NYM_GW_AUTH_SIGNED_LEN];
	uint64_t d;

	if (a->version < NYM_GW_MIN_AUTH_VERSION || a->version > NYM_GW_PROTOCOL_VERSION)
		return NYM_EVERSION;
	d = a->timestamp > now ? a->timestamp - now : now - a->timestamp;
	if (d > max_skew)
		return NYM_ERANGE;
	nym_gw_auth_signed_bytes(msg, a);
	return nym_ed25519_verify(a->signature, msg, sizeof msg, a->identity) == 0 ? 0 : NYM_EMAC;
}

int
nym_gw_auth_check_key(const struct nym_gw_auth *a, const uint8_t key[32], uint64_t last_ts)
{
	uint8_t ct[48];

	if (nym_gcmsiv_encrypt(ct, a->identity, 32, NULL, 0, key, a->nonce) != 0)
		return NYM_ECRYPTO;
	if (nym_ct_eq(ct, a->address_ct, 48) != 0)
		return NYM_EKEY;
	if (a->timestamp <= last_ts)
		return NYM_EREPLAY;
	return 0;
}

const char *
nym_gw_auth_errtxt(int err, const struct nym_gw_auth *a, uint64_t now, char *buf, size_t cap)
{
	switch (err) {
	case NYM_EVERSION:
		snprintf(buf, cap, "Attempted to negotiate connection with client using incompatible "
		         "protocol version. Ours is %d and the client reports %u",
		         NYM_GW_PROTOCOL_VERSION, a->version);
		return buf;
	case NYM_ERANGE:
		snprintf(buf, cap, "the provided request timestamp is excessively skewed. got %" PRIu64
		         " whilst the server time is %" PRIu64, a->timestamp, now);
		return buf;
	case NYM_EMAC: return NYM_GW_ERRTXT_BAD_SIGNATURE;
	case NYM_EKEY: return NYM_GW_ERRTXT_BAD_ADDRESS;
	case NYM_EREPLAY: return NYM_GW_ERRTXT_REPLAY;
	case NYM_ENOTFOUND: return NYM_GW_ERRTXT_NOT_REGISTERED;
	}
	return nym_strerror(err);
}

/* --- JSON ------------------------------------------------------------------ */

void
nym_gw_msg_free(struct nym_gw_msg *m)
{
	if (m->bytes) {
		nym_wipe(m->bytes, m->bytes_len);
		free(m->bytes);
	}
	free(m->text);
	memset(m, 0, sizeof *m);
}

static const struct {
	const char *name;
	enum nym_gw_type type;
	int to_gateway;
} types[] = {
	{"supportedProtocol", NYM_GW_REQ_SUPPORTED_PROTOCOL, 1},
	{"handshakePayload", NYM_GW_REQ_HANDSHAKE, 1},
	{"registerHandshakeInitRequest", NYM_GW_REQ_HANDSHAKE, 1},
	{"authenticateV2", NYM_GW_REQ_AUTHENTICATE_V2, 1},
	{"authenticate", NYM_GW_REQ_AUTHENTICATE_V1, 1},
	{"claimFreeTestnetBandwidth", NYM_GW_REQ_CLAIM_FREE_BANDWIDTH, 1},
	{"ecashCredential", NYM_GW_REQ_ECASH_CREDENTIAL, 1},
	{"upgradeModeJWT", NYM_GW_REQ_UPGRADE_MODE_JWT, 1},
	{"encryptedRequest", NYM_GW_REQ_ENCRYPTED, 1},
	{"bandwidthCredential", NYM_GW_REQ_BANDWIDTH_CREDENTIAL, 1},
	{"bandwidthCredentialV2", NYM_GW_REQ_BANDWIDTH_CREDENTIAL, 1},
	{"supportedProtocol", NYM_GW_RESP_SUPPORTED_PROTOCOL, 0},
	{"handshakePayload", NYM_GW_RESP_HANDSHAKE, 0},
	{"handshakeError", NYM_GW_RESP_HANDSHAKE_ERROR, 0},
	{"register", NYM_GW_RESP_REGISTER, 0},
	{"authenticate", NYM_GW_RESP_AUTHENTICATE, 0},
	{"bandwidth", NYM_GW_RESP_BANDWIDTH, 0},
	{"send", NYM_GW_RESP_SEND, 0},
	{"encryptedResponse", NYM_GW_RESP_ENCRYPTED, 0},
	{"error", NYM_GW_RESP_ERROR, 0},
	{"typedError", NYM_GW_RESP_TYPED_ERROR, 0},
};

static const char *
type_name(enum nym_gw_type t)
{
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (types[i].type == t)
			return types[i].name;
	return NULL;
}

/* An integer field: 1 found, 0 absent (or null when nullable), -1 wrong. */
static int
get_int(json_t *o, const char *k, int64_t lo, int64_t hi, int64_t *v, int nullable)
{
	json_t *j = json_object_get(o, k);
	if (!j || (nullable && json_is_null(j)))
		return 0;
	if (!json_is_integer(j))
		return -1;
	json_int_t x = json_integer_value(j);
	if (x < lo || x > hi)
		return -1;
	*v = x;
	return 1;
}

static int
get_bool(json_t *o, const char *k, int *v)
{
	json_t *j = json_object_get(o, k);
	if (!j)
		return 0;
	if (!json_is_boolean(j))
		return -1;
	*v = json_is_true(j);
	return 1;
}

/* A byte array (JSON ints 0..255). Into fixed buf when buf != NULL (exact
 * length want, or up to cap when want == 0), else a malloc'd copy. */
static int
get_bytes(json_t *o, const char *k, uint8_t *buf, size_t cap, size_t want, uint8_t **alloc,
          size_t *outlen)
{
	json_t *j = json_object_get(o, k);
	size_t n, i;
	uint8_t *dst;

	if (!j || !json_is_array(j))
		return NYM_EJSON;
	n = json_array_size(j);
	if (want && n != want)
		return NYM_ESIZE;
	if (buf) {
		if (n > cap)
			return NYM_ESIZE;
		dst = buf;
	} else {
		if (!(dst = malloc(n ? n : 1)))
			return NYM_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(j, i);
		json_int_t x;
		if (!json_is_integer(e) || (x = json_integer_value(e)) < 0 || x > 255) {
			if (!buf)
				free(dst);
			return NYM_EJSON;
		}
		dst[i] = (uint8_t)x;
	}
	if (alloc)
		*alloc = dst;
	if (outlen)
		*outlen = n;
	return 0;
}

static int
get_b64(json_t *o, const char *k, uint8_t *buf, size_t want)
{
	json_t *j = json_object_get(o, k);
	uint8_t tmp[64];
	int n;

	if (!j || !json_is_string(j) || json_string_length(j) > 88)
		return NYM_EJSON;
	n = nym_base64_decode(tmp, sizeof tmp, json_string_value(j), json_string_length(j));
	if (n < 0)
		return NYM_EJSON;
	if ((size_t)n != want)
		return NYM_ESIZE;
	memcpy(buf, tmp, want);
	return 0;
}

static int
get_str(json_t *o, const char *k, char **out)
{
	json_t *j = json_object_get(o, k);
	if (!j || !json_is_string(j))
		return NYM_EJSON;
	if (!(*out = strndup(json_string_value(j), json_string_length(j))))
		return NYM_ENOMEM;
	return 0;
}

static int
get_version(json_t *o, const char *k, struct nym_gw_msg *m, int required)
{
	int64_t v;
	int r = get_int(o, k, 0, 255, &v, !required);
	if (r < 0 || (required && r == 0))
		return NYM_EJSON;
	m->has_version = r;
	m->version = r ? (uint8_t)v : 0;
	return 0;
}

static int
parse_fields(struct nym_gw_msg *m, json_t *o)
{
	int rc = 0, r;
	int64_t v;

	switch (m->type) {
	case NYM_GW_UNKNOWN:
	case NYM_GW_REQ_SUPPORTED_PROTOCOL:
	case NYM_GW_REQ_CLAIM_FREE_BANDWIDTH:
	case NYM_GW_REQ_AUTHENTICATE_V1:
	case NYM_GW_REQ_BANDWIDTH_CREDENTIAL:
		return 0;
	case NYM_GW_REQ_HANDSHAKE:
	case NYM_GW_RESP_HANDSHAKE:
		if ((rc = get_version(o, "protocol_version", m, 0)))
			return rc;
		return get_bytes(o, "data", m->hs, sizeof m->hs, 0, NULL, &m->hs_len);
	case NYM_GW_REQ_AUTHENTICATE_V2:
		if ((rc = get_version(o, "protocolVersion", m, 1)))
			return rc;
		m->auth.version = m->version;
		if ((rc = get_bytes(o, "clientIdentity", m->auth.identity, 32, 32, NULL, NULL)) ||
		    (rc = get_b64(o, "addressCiphertext", m->auth.address_ct, 48)) ||
		    (rc = get_b64(o, "nonce", m->auth.nonce, 12)) ||
		    (rc = get_bytes(o, "requestSignature", m->auth.signature, 64, 64, NULL, NULL)))
			return rc;
		/* u64 on the wire; jansson stops at INT64_MAX, which is no real time. */
		if (get_int(o, "requestUnixTimestamp", 0, INT64_MAX, &v, 0) != 1)
			return NYM_EJSON;
		m->auth.timestamp = (uint64_t)v;
		return 0;
	case NYM_GW_REQ_ECASH_CREDENTIAL:
		if ((rc = get_bytes(o, "enc_credential", NULL, 0, 0, &m->bytes, &m->bytes_len)))
			return rc;
		rc = get_bytes(o, "iv", m->nonce, 12, 12, NULL, NULL);
		if (rc == NYM_EJSON && !json_object_get(o, "iv"))
			rc = get_bytes(o, "nonce", m->nonce, 12, 12, NULL, NULL);
		return rc;
	case NYM_GW_REQ_UPGRADE_MODE_JWT:
		return get_str(o, "token", &m->text);
	case NYM_GW_REQ_ENCRYPTED:
	case NYM_GW_RESP_ENCRYPTED:
		if ((rc = get_bytes(o, "ciphertext", NULL, 0, 0, &m->bytes, &m->bytes_len)))
			return rc;
		return get_bytes(o, "nonce", m->nonce, 12, 12, NULL, NULL);
	case NYM_GW_RESP_SUPPORTED_PROTOCOL:
		return get_version(o, "version", m, 1);
	case NYM_GW_RESP_HANDSHAKE_ERROR:
	case NYM_GW_RESP_ERROR:
		return get_str(o, "message", &m->text);
	case NYM_GW_RESP_REGISTER:
	case NYM_GW_RESP_AUTHENTICATE:
		if ((rc = get_version(o, "protocol_version", m, 0)))
			return rc;
		if (get_bool(o, "status", &m->status) != 1)
			return NYM_EJSON;
		if (m->type == NYM_GW_RESP_AUTHENTICATE) {
			if (get_int(o, "bandwidth_remaining", INT64_MIN, INT64_MAX, &m->bandwidth, 0) != 1)
				return NYM_EJSON;
		}
		return get_bool(o, "upgrade_mode", &m->upgrade_mode) < 0 ? NYM_EJSON : 0;
	case NYM_GW_RESP_BANDWIDTH:
	case NYM_GW_RESP_SEND:
		r = get_int(o, m->type == NYM_GW_RESP_SEND ? "remaining_bandwidth" : "available_total",
		            INT64_MIN, INT64_MAX, &m->bandwidth, 0);
		if (r != 1)
			return NYM_EJSON;
		return get_bool(o, "upgrade_mode", &m->upgrade_mode) < 0 ? NYM_EJSON : 0;
	case NYM_GW_RESP_TYPED_ERROR: {
		json_t *e = json_object_get(o, "error"), *ob;
		if (json_is_string(e) && strcmp(json_string_value(e), "ticket_replay") == 0) {
			m->typed_error = NYM_GW_TE_TICKET_REPLAY;
			return 0;
		}
		if (json_is_object(e) && json_object_size(e) == 1 &&
		    json_is_object(ob = json_object_get(e, "out_of_bandwidth")) &&
		    get_int(ob, "required", INT64_MIN, INT64_MAX, &m->te_required, 0) == 1 &&
		    get_int(ob, "available", INT64_MIN, INT64_MAX, &m->te_available, 0) == 1) {
			m->typed_error = NYM_GW_TE_OUT_OF_BANDWIDTH;
			return 0;
		}
		return NYM_EJSON;
	}
	}
	return NYM_EJSON;
}

int
nym_gw_msg_parse(struct nym_gw_msg *m, int to_gateway, const char *json, size_t len)
{
	json_error_t jerr;
	json_t *o, *t;
	int rc;

	memset(m, 0, sizeof *m);
	if (len > NYM_GW_JSON_MAX)
		return NYM_ETOOBIG;
	if (!(o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)))
		return NYM_EJSON;
	if (!json_is_object(o) || !json_is_string(t = json_object_get(o, "type"))) {
		json_decref(o);
		return NYM_EJSON;
	}
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (types[i].to_gateway == !!to_gateway && strcmp(types[i].name, json_string_value(t)) == 0)
			m->type = types[i].type;
	rc = parse_fields(m, o);
	json_decref(o);
	if (rc)
		nym_gw_msg_free(m);
	return rc;
}

static json_t *
bytes_array(const uint8_t *b, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_integer(b[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
b64_string(const uint8_t *b, size_t n)
{
	char s[NYM_B64_ENCLEN(48)];
	if (nym_base64_encode(s, sizeof s, b, n) < 0)
		return NULL;
	return json_string(s);
}

#define SETN(k, v) (json_object_set_new(o, (k), (v)) == 0 ? 0 : (ok = 0))

int
nym_gw_msg_encode(const struct nym_gw_msg *m, char **out, size_t *len)
{
	const char *name = type_name(m->type);
	json_t *o;
	int ok = 1;
	char *s;

	*out = NULL;
	if (!name)
		return NYM_EINVAL;
	/* registerHandshakeInitRequest is only ever read; clients write handshakePayload. */
	if (!(o = json_object()))
		return NYM_ENOMEM;
	SETN("type", json_string(name));
	switch (m->type) {
	case NYM_GW_UNKNOWN:
	case NYM_GW_REQ_SUPPORTED_PROTOCOL:
	case NYM_GW_REQ_CLAIM_FREE_BANDWIDTH:
	case NYM_GW_REQ_AUTHENTICATE_V1:
	case NYM_GW_REQ_BANDWIDTH_CREDENTIAL:
		break;
	case NYM_GW_REQ_HANDSHAKE:
	case NYM_GW_RESP_HANDSHAKE:
		SETN("protocol_version", m->has_version ? json_integer(m->version) : json_null());
		SETN("data", bytes_array(m->hs, m->hs_len));
		break;
	case NYM_GW_REQ_AUTHENTICATE_V2:
		SETN("protocolVersion", json_integer(m->auth.version));
		SETN("clientIdentity", bytes_array(m->auth.identity, 32));
		SETN("addressCiphertext", b64_string(m->auth.address_ct, 48));
		SETN("nonce", b64_string(m->auth.nonce, 12));
		if (m->auth.timestamp > INT64_MAX)
			ok = 0;
		SETN("requestUnixTimestamp", json_integer((json_int_t)m->auth.timestamp));
		SETN("requestSignature", bytes_array(m->auth.signature, 64));
		break;
	case NYM_GW_REQ_ECASH_CREDENTIAL:
		SETN("enc_credential", bytes_array(m->bytes, m->bytes_len));
		SETN("iv", bytes_array(m->nonce, 12));
		break;
	case NYM_GW_REQ_UPGRADE_MODE_JWT:
		SETN("token", json_string(m->text ? m->text : ""));
		break;
	case NYM_GW_REQ_ENCRYPTED:
	case NYM_GW_RESP_ENCRYPTED:
		SETN("ciphertext", bytes_array(m->bytes, m->bytes_len));
		SETN("nonce", bytes_array(m->nonce, 12));
		break;
	case NYM_GW_RESP_SUPPORTED_PROTOCOL:
		SETN("version", json_integer(m->version));
		break;
	case NYM_GW_RESP_HANDSHAKE_ERROR:
	case NYM_GW_RESP_ERROR:
		SETN("message", json_string(m->text ? m->text : ""));
		break;
	case NYM_GW_RESP_REGISTER:
	case NYM_GW_RESP_AUTHENTICATE:
		/* Always a number: older clients (wasm 1.4.1) declare it u8, not Option. */
		SETN("protocol_version", json_integer(m->version));
		SETN("status", json_boolean(m->status));
		if (m->type == NYM_GW_RESP_AUTHENTICATE)
			SETN("bandwidth_remaining", json_integer(m->bandwidth));
		SETN("upgrade_mode", json_boolean(m->upgrade_mode));
		break;
	case NYM_GW_RESP_BANDWIDTH:
		SETN("available_total", json_integer(m->bandwidth));
		SETN("upgrade_mode", json_boolean(m->upgrade_mode));
		break;
	case NYM_GW_RESP_SEND:
		SETN("remaining_bandwidth", json_integer(m->bandwidth));
		SETN("upgrade_mode", json_boolean(m->upgrade_mode));
		break;
	case NYM_GW_RESP_TYPED_ERROR:
		if (m->typed_error == NYM_GW_TE_TICKET_REPLAY) {
			SETN("error", json_string("ticket_replay"));
		} else {
			json_t *e = json_pack("{s:{s:I,s:I}}", "out_of_bandwidth",
			                      "required", (json_int_t)m->te_required,
			                      "available", (json_int_t)m->te_available);
			SETN("error", e);
		}
		break;
	}
	if (!ok) {
		json_decref(o);
		return NYM_ENOMEM;
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return NYM_ENOMEM;
	*out = s;
	if (len)
		*len = strlen(s);
	return 0;
}

int
nym_gw_json_error(char **out, size_t *len, const char *message)
{
	struct nym_gw_msg m = {.type = NYM_GW_RESP_ERROR, .text = (char *)message};
	return nym_gw_msg_encode(&m, out, len);
}

int
nym_gw_json_handshake(char **out, size_t *len, int to_gateway, uint8_t version,
                      const uint8_t *data, size_t dlen)
{
	struct nym_gw_msg m = {.type = to_gateway ? NYM_GW_REQ_HANDSHAKE : NYM_GW_RESP_HANDSHAKE,
	                       .has_version = 1, .version = version};
	if (dlen > sizeof m.hs)
		return NYM_ESIZE;
	memcpy(m.hs, data, dlen);
	m.hs_len = dlen;
	return nym_gw_msg_encode(&m, out, len);
}

/* --- encrypted requests ---------------------------------------------------- */

static const char *session_types[] = {"Vpn", "Mixnet", "Wasm", "Native", "Socks5", "Unknown"};

int
nym_gw_creq_seal(struct nym_gw_msg *m, const struct nym_gw_creq_msg *c, const uint8_t key[32],
                 const struct nym_rng *rng)
{
	json_t *o;
	char *pt;
	size_t n;
	int rc;

	memset(m, 0, sizeof *m);
	switch (c->kind) {
	case NYM_GW_CREQ_FORGET_ME:
		o = json_pack("{s:{s:b,s:b}}", "ForgetMe", "client", c->client, "stats", c->stats);
		break;
	case NYM_GW_CREQ_REMEMBER_ME:
		o = json_pack("{s:{s:s}}", "RememberMe", "session_type", c->session_type);
		break;
	case NYM_GW_CRESP_FORGET_ME_ACK:
		o = json_pack("{s:{}}", "ForgetMeAck");
		break;
	case NYM_GW_CRESP_REMEMBER_ME_ACK:
		o = json_pack("{s:{}}", "RememberMeAck");
		break;
	default:
		return NYM_EINVAL;
	}
	if (!o)
		return NYM_ENOMEM;
	pt = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!pt)
		return NYM_ENOMEM;
	n = strlen(pt);
	m->type = c->kind <= NYM_GW_CREQ_REMEMBER_ME ? NYM_GW_REQ_ENCRYPTED : NYM_GW_RESP_ENCRYPTED;
	if (!(m->bytes = malloc(n + 16))) {
		free(pt);
		return NYM_ENOMEM;
	}
	m->bytes_len = n + 16;
	if ((rc = nym_rng_fill(rng, m->nonce, 12)) == 0)
		rc = nym_gcmsiv_encrypt(m->bytes, (uint8_t *)pt, n, NULL, 0, key, m->nonce);
	nym_wipe(pt, n);
	free(pt);
	if (rc)
		nym_gw_msg_free(m);
	return rc;
}

int
nym_gw_creq_open(struct nym_gw_creq_msg *c, const struct nym_gw_msg *m, const uint8_t key[32])
{
	uint8_t *pt;
	size_t n;
	json_t *o = NULL, *v;
	const char *k;
	int rc = NYM_EJSON;

	memset(c, 0, sizeof *c);
	if ((m->type != NYM_GW_REQ_ENCRYPTED && m->type != NYM_GW_RESP_ENCRYPTED) ||
	    m->bytes_len < 16)
		return NYM_EFORMAT;
	n = m->bytes_len - 16;
	if (!(pt = malloc(n ? n : 1)))
		return NYM_ENOMEM;
	if (nym_gcmsiv_decrypt(pt, m->bytes, m->bytes_len, NULL, 0, key, m->nonce) != 0) {
		free(pt);
		return NYM_EMAC;
	}
	o = json_loadb((char *)pt, n, 0, NULL);
	nym_wipe(pt, n);
	free(pt);
	/* serde externally tagged: one key naming the variant. */
	if (!json_is_object(o) || json_object_size(o) != 1)
		goto out;
	json_object_foreach(o, k, v) {
		if (!json_is_object(v))
			goto out;
		if (strcmp(k, "ForgetMe") == 0) {
			if (get_bool(v, "client", &c->client) != 1 || get_bool(v, "stats", &c->stats) != 1)
				goto out;
			c->kind = NYM_GW_CREQ_FORGET_ME;
		} else if (strcmp(k, "RememberMe") == 0) {
			json_t *s = json_object_get(v, "session_type");
			if (!json_is_string(s))
				goto out;
			for (size_t i = 0; i < sizeof session_types / sizeof session_types[0]; i++)
				if (strcmp(json_string_value(s), session_types[i]) == 0) {
					strcpy(c->session_type, session_types[i]);
					c->kind = NYM_GW_CREQ_REMEMBER_ME;
				}
			if (!c->kind)
				goto out;
		} else if (strcmp(k, "ForgetMeAck") == 0) {
			c->kind = NYM_GW_CRESP_FORGET_ME_ACK;
		} else if (strcmp(k, "RememberMeAck") == 0) {
			c->kind = NYM_GW_CRESP_REMEMBER_ME_ACK;
		} else {
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* --- binary frames ---------------------------------------------------------- */

int
nym_gw_bin_seal(uint8_t *out, size_t cap, uint8_t kind, const uint8_t *pt, size_t len,
                const uint8_t key[32], const struct nym_rng *rng)
{
	int rc;

	if (len > (size_t)INT32_MAX - NYM_GW_BIN_OVERHEAD || cap < len + NYM_GW_BIN_OVERHEAD)
		return NYM_ESIZE;
	out[0] = kind;
	out[1] = 1;
	if ((rc = nym_rng_fill(rng, out + 2, 12)) ||
	    (rc = nym_gcmsiv_encrypt(out + NYM_GW_BIN_HDR_LEN, pt, len, NULL, 0, key, out + 2)))
		return rc;
	return (int)(len + NYM_GW_BIN_OVERHEAD);
}

int
nym_gw_bin_open(uint8_t *kind, uint8_t *out, size_t cap, const uint8_t *frame, size_t len,
                const uint8_t key[32])
{
	size_t n;

	if (len < 2)
		return NYM_ESHORT;
	*kind = frame[0];
	if (frame[1] > 1)
		return NYM_EFLAG;
	if (len < NYM_GW_BIN_HDR_LEN + (frame[1] ? NYM_GW_TAG_LEN : 0))
		return NYM_ESHORT;
	n = len - NYM_GW_BIN_HDR_LEN - (frame[1] ? NYM_GW_TAG_LEN : 0);
	if (n > cap || n > (size_t)INT32_MAX)
		return NYM_ESIZE;
	if (!frame[1]) {
		memcpy(out, frame + NYM_GW_BIN_HDR_LEN, n);
		return (int)n;
	}
	if (nym_gcmsiv_decrypt(out, frame + NYM_GW_BIN_HDR_LEN, len - NYM_GW_BIN_HDR_LEN, NULL, 0,
	                       key, frame + 2) != 0)
		return NYM_EMAC;
	return (int)n;
}

/* --- bandwidth ---------------------------------------------------------------- */

int64_t
nym_gw_bandwidth_available(const struct nym_gw_bandwidth *b, uint64_t now)
{
	if ((int64_t)(now / 86400) > b->day || b->remaining < 0)
		return 0;
	return b->remaining;
}

int64_t
nym_gw_bandwidth_claim_free(struct nym_gw_bandwidth *b, uint64_t now, int64_t amount)
{
	int64_t have = nym_gw_bandwidth_available(b, now);
	if (amount < 0)
		amount = 0;
	b->remaining = have > INT64_MAX - amount ? INT64_MAX : have + amount;
	b->day = (int64_t)(now / 86400);
	return b->remaining;
}

int
nym_gw_bandwidth_charge(struct nym_gw_bandwidth *b, uint64_t now, int64_t bytes)
{
	int64_t have = nym_gw_bandwidth_available(b, now);
	if (bytes < 0 || have < bytes)
		return NYM_EFULL;
	b->remaining = have - bytes;
	return 0;
}
