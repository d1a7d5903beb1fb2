/* topofile.c — read a topology file and hand its bytes to the parser. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "io/topofile.h"

#define MAX_FILE (256u << 20) /* a topology file larger than this is refused */

#define FAIL(code, ...) nym_err_set(err, errlen, code, __VA_ARGS__)

int
nym_topofile_load(struct nym_topology **out, const char *path, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t n = 0, cap = 1 << 16;
	char *buf;
	int r;

	*out = NULL;
	if (!f)
		return FAIL(NYM_EIO, "%s: %s", path, strerror(errno));
	if (!(buf = malloc(cap))) {
		if (f != stdin)
			fclose(f);
		return FAIL(NYM_ENOMEM, "out of memory");
	}
	for (;;) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
		if (n == cap) {
			char *nb;
			if (cap >= MAX_FILE) {
				r = FAIL(NYM_ETOOBIG, "%s: larger than %u MiB", path, MAX_FILE >> 20);
				goto out;
			}
			if (!(nb = realloc(buf, cap *= 2))) {
				r = FAIL(NYM_ENOMEM, "out of memory");
				goto out;
			}
			buf = nb;
		}
	}
	if (ferror(f)) {
		r = FAIL(NYM_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	r = nym_topology_parse(out, buf, n, err, errlen);
	if (r < 0 && err && errlen) {
		/* prefix the file name */
		char tmp[NYM_TOPOLOGY_ERR_MAX];
		snprintf(tmp, sizeof tmp, "%s", err);
		snprintf(err, errlen, "%s: %s", path, tmp);
	}
	if (r == 0 && !(*out)->source[0])
		snprintf((*out)->source, sizeof (*out)->source, "%s", path);
out:
	free(buf);
	if (f != stdin)
		fclose(f);
	return r;
}

static int
add_host(char ***hosts, size_t *n, json_t *node)
{
	json_t *mh = json_object_get(node, "mix_host");
	if (!json_is_string(mh))
		return 0;
	char **nh = realloc(*hosts, (*n + 1) * sizeof *nh);
	if (!nh)
		return NYM_ENOMEM;
	*hosts = nh;
	if (!(nh[*n] = strdup(json_string_value(mh))))
		return NYM_ENOMEM;
	(*n)++;
	return 0;
}

int
nym_topofile_hosts(const char *path, char ***hosts, size_t *n, char *err, size_t errlen)
{
	json_error_t je;
	json_t *t = json_load_file(path, 0, &je), *layers, *gws, *v, *node;
	const char *k;
	size_t i;
	int r = 0;

	*hosts = NULL;
	*n = 0;
	if (!t)
		return FAIL(NYM_EFORMAT, "%s: %s (line %d)", path, je.text, je.line);
	layers = json_object_get(t, "layers");
	gws = json_object_get(t, "gateways");
	if (!json_is_object(layers) && !json_is_array(gws))
		r = FAIL(NYM_EFORMAT, "%s: not a topology (no \"layers\" or \"gateways\")", path);
	json_object_foreach(layers, k, v)
		json_array_foreach(v, i, node)
			if (!r)
				r = add_host(hosts, n, node);
	json_array_foreach(gws, i, node)
		if (!r)
			r = add_host(hosts, n, node);
	json_decref(t);
	if (r == NYM_ENOMEM)
		FAIL(r, "out of memory");
	if (r) {
		while (*n)
			free((*hosts)[--*n]);
		free(*hosts);
		*hosts = NULL;
	}
	return r;
}
