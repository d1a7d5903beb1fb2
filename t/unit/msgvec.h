/* msgvec.h — reading the official-client vectors (t/vectors/case-*.json) for
 * the message-layer tests: load a case, walk a "a/0/b" path, decode hex. */
#ifndef NYM_MSGVEC_H
#define NYM_MSGVEC_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#endif
