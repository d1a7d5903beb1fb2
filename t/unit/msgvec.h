/* msgvec.h — reading the official-client vectors (t/vectors/case-*.json) for
 * the message-layer tests: load a case, walk a "a/0/b" path, decode hex. */
#ifndef NYM_MSGVEC_H
#define NYM_MSGVEC_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sphinx.h"
#include "test.h"

static inline json_t *
v_load(const char *name)
{
	char path[1024];
	json_error_t err;
	json_t *j;

	snprintf(path, sizeof path, "%s/%s", t_vectors(), name);
	j = json_load_file(path, 0, &err);
	if (!j) {
		printf("Bail out! cannot load %s: %s\n", path, err.text);
		exit(1);
	}
	return j;
}

/* Walk "key/3/key2"; NULL when absent. */
static inline json_t *
v_get(json_t *j, const char *path)
{
	char buf[512], *tok, *save = NULL;

	snprintf(buf, sizeof buf, "%s", path);
	for (tok = strtok_r(buf, "/", &save); tok && j; tok = strtok_r(NULL, "/", &save)) {
		if (json_is_array(j))
			j = json_array_get(j, (size_t)strtoul(tok, NULL, 10));
		else
			j = json_object_get(j, tok);
	}
	return j;
}

static inline const char *
v_str(json_t *j, const char *path)
{
	json_t *v = v_get(j, path);
	if (!json_is_string(v)) {
		printf("Bail out! vector field %s missing\n", path);
		exit(1);
	}
	return json_string_value(v);
}

static inline long long
v_int(json_t *j, const char *path)
{
	json_t *v = v_get(j, path);
	if (!json_is_integer(v)) {
		printf("Bail out! vector field %s missing\n", path);
		exit(1);
	}
	return json_integer_value(v);
}

/* malloc'd bytes of a hex field */
static inline uint8_t *
v_hex(json_t *j, const char *path, size_t *len)
{
	return t_hex(v_str(j, path), len);
}

/* Copy a hex field of exactly n bytes into out. */
static inline void
v_fix(json_t *j, const char *path, uint8_t *out, size_t n)
{
	size_t l;
	uint8_t *b = v_hex(j, path, &l);
	if (l != n) {
		printf("Bail out! vector field %s has %zu bytes, want %zu\n", path, l, n);
		exit(1);
	}
	memcpy(out, b, n);
	free(b);
}

/* The 4 nodes of the vector network (L1, L2, L3, gateway): Sphinx route
 * hops and their secret keys. */
static inline void
v_network(struct nym_sphinx_node hops[4], uint8_t sks[4][32])
{
	json_t *j = v_load("network.json"), *nodes = v_get(j, "nodes");
	for (int i = 0; i < 4; i++) {
		json_t *n = json_array_get(nodes, (size_t)i);
		v_fix(n, "routing_address_32", hops[i].address, 32);
		v_fix(n, "sphinx_public", hops[i].pubkey, 32);
		v_fix(n, "sphinx_secret", sks[i], 32);
	}
	json_decref(j);
}

/* Run a packet through the 4 vector nodes in place as they would; on
 * success return the Sphinx plaintext (inside pkt) and its length, and the
 * final hop's view in *p. NULL on any failure. */
static inline const uint8_t *
v_through(struct nym_sphinx_ctx *ctx, uint8_t *pkt, size_t len, uint8_t sks[4][32],
          struct nym_sphinx_processed *p, size_t *plain_len)
{
	for (int h = 0; h < 4; h++)
		if (nym_sphinx_process(ctx, pkt, len, sks[h], p) < 0 || p->final != (h == 3))
			return NULL;
	if (nym_sphinx_unpad(pkt + p->payload_off, p->payload_len, plain_len) < 0)
		return NULL;
	return pkt + p->payload_off + 16;
}

#endif
