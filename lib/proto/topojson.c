/* topojson.c — the JSON vocabulary the topology documents, the nym-api
 * answers and routes share (doc/spec/topology.md). Duplicate object keys rejected. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"
#include "proto/topojson.h"

#define U32_MAX_ 4294967295u

#define FAIL(code, ...) nym_err_set(err, errlen, code, __VA_ARGS__)

/* ---- small JSON helpers --------------------------------------------------- */

json_t *
nym_tj_load_object(const char *what, const char *data, size_t len, char *err, size_t errlen)
{
	const char *sep = what ? ": " : "";
	json_error_t je;
	json_t *j;

	if (!what)
		what = "";
	if (!data)
		return nym_err_set(err, errlen, NYM_EJSON, "%s%sno data", what, sep), NULL;
	j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		if (len == 0)
			nym_err_set(err, errlen, NYM_EJSON, "%s%sempty answer, not JSON", what, sep);
		else
			nym_err_set(err, errlen, NYM_EJSON, "%s%sinvalid JSON at line %d column %d: %s",
			            what, sep, je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		nym_err_set(err, errlen, NYM_EJSON, "%s%snot a JSON object", what, sep);
		return NULL;
	}
	return j;
}

int
nym_tj_get_u32(json_t *o, const char *key, uint32_t *v, int required, const char *ctx,
               char *err, size_t errlen)
{
	json_t *x = json_object_get(o, key);

	if (!x || json_is_null(x)) {
		if (!required)
			return 0;
		return FAIL(NYM_EJSON, "%s: missing field \"%s\"", ctx, key);
	}
	if (!json_is_integer(x) || json_integer_value(x) < 0 ||
	    json_integer_value(x) > (json_int_t)U32_MAX_)
		return FAIL(NYM_EJSON, "%s: \"%s\" is not an unsigned 32-bit integer", ctx, key);
	*v = (uint32_t)json_integer_value(x);
	return 1;
}

int
nym_tj_get_u16(json_t *o, const char *key, uint16_t *v, int required, const char *ctx,
               char *err, size_t errlen)
{
	uint32_t w;
	int r = nym_tj_get_u32(o, key, &w, required, ctx, err, errlen);

	if (r <= 0)
		return r;
	if (w > 65535)
		return FAIL(NYM_EJSON, "%s: \"%s\" is not a port number (%u)", ctx, key, w);
	*v = (uint16_t)w;
	return 1;
}

/* A string field; returns its value or NULL (missing/null, error set if required). */
int
nym_tj_get_str(json_t *o, const char *key, const char **v, int required, const char *ctx,
               char *err, size_t errlen)
{
	json_t *x = json_object_get(o, key);

	*v = NULL;
	if (!x || json_is_null(x)) {
		if (!required)
			return 0;
		return FAIL(NYM_EJSON, "%s: missing field \"%s\"", ctx, key);
	}
	if (!json_is_string(x))
		return FAIL(NYM_EJSON, "%s: \"%s\" is not a string", ctx, key);
	*v = json_string_value(x);
	return 1;
}

int
nym_tj_copy_str(char *dst, size_t cap, const char *s, const char *ctx, const char *key,
                char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (n >= cap)
		return FAIL(NYM_EJSON, "%s: \"%s\" is too long (%zu characters)", ctx, key, n);
	memcpy(dst, s, n + 1);
	return 0;
}

int
nym_tj_get_b58key(json_t *o, const char *key, uint8_t out[32], const char *ctx,
                  char *err, size_t errlen)
{
	const char *s;
	uint8_t buf[64];
	int r = nym_tj_get_str(o, key, &s, 1, ctx, err, errlen);

	if (r < 0)
		return r;
	r = nym_base58_decode(buf, sizeof buf, s, strlen(s));
	if (r == NYM_EENCODING)
		return FAIL(NYM_EKEY, "%s: \"%s\" is not base58", ctx, key);
	if (r != 32)
		return r < 0 ? FAIL(NYM_EKEY, "%s: \"%s\" is longer than a 32-byte key", ctx, key)
			     : FAIL(NYM_EKEY, "%s: \"%s\" decodes to %d bytes, not a 32-byte key",
				    ctx, key, r);
	memcpy(out, buf, 32);
	return 0;
}

/* A key as the custom topology file writes it: a JSON array of 32 integers. */
int
nym_tj_get_intkey(json_t *o, const char *key, uint8_t out[32], const char *ctx,
                  char *err, size_t errlen)
{
	json_t *a = json_object_get(o, key), *x;
	size_t i;

	if (!a)
		return FAIL(NYM_EJSON, "%s: missing field \"%s\"", ctx, key);
	if (!json_is_array(a))
		return FAIL(NYM_EKEY, "%s: \"%s\" is not an array of 32 bytes", ctx, key);
	if (json_array_size(a) != 32)
		return FAIL(NYM_EKEY, "%s: \"%s\" has %zu bytes, not a 32-byte key", ctx, key,
			    json_array_size(a));
	json_array_foreach(a, i, x) {
		if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 255)
			return FAIL(NYM_EKEY, "%s: \"%s\"[%zu] is not a byte", ctx, key, i);
		out[i] = (uint8_t)json_integer_value(x);
	}
	return 0;
}

int
nym_tj_get_bool(json_t *o, const char *key, int *v, const char *ctx, char *err, size_t errlen)
{
	json_t *x = json_object_get(o, key);

	*v = 0;
	if (!x)
		return 0;
	if (!json_is_boolean(x))
		return FAIL(NYM_EJSON, "%s: \"%s\" is not a boolean", ctx, key);
	*v = json_is_true(x);
	return 0;
}

/* ---- addresses -------------------------------------------------------------- */

/* Normalize an IP literal (v4 or v6) into out; 4 or 6, or 0 if not an IP. */
int
nym_tj_ip_norm(const char *ip, char out[NYM_TOPOLOGY_IPSTR])
{
	uint8_t b[16];

	if (inet_pton(AF_INET, ip, b) == 1) {
		inet_ntop(AF_INET, b, out, NYM_TOPOLOGY_IPSTR);
		return 4;
	}
	if (inet_pton(AF_INET6, ip, b) == 1) {
		inet_ntop(AF_INET6, b, out, NYM_TOPOLOGY_IPSTR);
		return 6;
	}
	return 0;
}

int
nym_tj_parse_port(const char *s, uint16_t *port)
{
	unsigned long v;
	char *end;

	if (!*s || *s < '0' || *s > '9' || strlen(s) > 5)
		return NYM_EADDR;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || v > 65535)
		return NYM_EADDR;
	*port = (uint16_t)v;
	return 0;
}

/* A DNS name we are willing to put into a URL (letters, digits, '-', '.'). */
static int
hostname_ok(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n > 253)
		return 0;
	for (const char *p = h; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return 0;
	return 1;
}

/* ws:// and wss:// URLs as the official client builds them (node.rs): TLS needs
 * hostname and wss_port; plain ws uses the hostname, else the first IP.
 * IPv6 literals get brackets (the reference leaves them bare). */
void
nym_tj_make_urls(struct nym_node *n)
{
	char host[NYM_TOPOLOGY_HOSTNAME + 2];

	n->ws_url[0] = n->wss_url[0] = 0;
	if (!n->is_gateway)
		return;
	if (n->hostname[0])
		snprintf(host, sizeof host, "%s", n->hostname);
	else if (strchr(n->ips[0], ':'))
		snprintf(host, sizeof host, "[%s]", n->ips[0]);
	else
		snprintf(host, sizeof host, "%s", n->ips[0]);
	snprintf(n->ws_url, sizeof n->ws_url, "ws://%s:%u", host, n->ws_port);
	if (n->hostname[0] && n->wss_port)
		snprintf(n->wss_url, sizeof n->wss_url, "wss://%s:%u", n->hostname, n->wss_port);
}

int
nym_tj_set_hostname(struct nym_node *n, const char *h, const char *ctx, char *err, size_t errlen)
{
	char ip[NYM_TOPOLOGY_IPSTR], in[NYM_TOPOLOGY_IPSTR + 2];
	size_t l;

	n->hostname[0] = 0;
	if (!h)
		return 0;
	l = strlen(h);
	/* an IP literal given as host name ("[v6]" as we write it back, or bare) */
	if (l > 2 && l < sizeof in && h[0] == '[' && h[l - 1] == ']') {
		memcpy(in, h + 1, l - 2);
		in[l - 2] = 0;
		if (nym_tj_ip_norm(in, ip) != 6)
			return FAIL(NYM_EJSON, "%s: hostname \"%.64s\" is not a valid host name", ctx, h);
		snprintf(n->hostname, sizeof n->hostname, "[%s]", ip);
		return 0;
	}
	switch (nym_tj_ip_norm(h, ip)) {
	case 4:
		snprintf(n->hostname, sizeof n->hostname, "%s", ip);
		return 0;
	case 6:
		snprintf(n->hostname, sizeof n->hostname, "[%s]", ip);
		return 0;
	}
	if (!hostname_ok(h))
		return FAIL(NYM_EJSON, "%s: hostname \"%.64s\" is not a valid host name", ctx, h);
	snprintf(n->hostname, sizeof n->hostname, "%s", h);
	return 0;
}

int
nym_tj_set_mix_host(struct nym_node *n, const char *ctx, char *err, size_t errlen)
{
	if (nym_topology_format_host(n->mix_host, sizeof n->mix_host, n->ips[0], n->mix_port))
		return FAIL(NYM_EADDR, "%s: \"%s\" is not an IP address", ctx, n->ips[0]);
	return 0;
}

int
nym_tj_get_ips(json_t *o, const char *key, struct nym_node *n, const char *ctx,
               char *err, size_t errlen)
{
	json_t *a = json_object_get(o, key), *x;
	size_t i;

	if (!a)
		return FAIL(NYM_EJSON, "%s: missing field \"%s\"", ctx, key);
	if (!json_is_array(a))
		return FAIL(NYM_EJSON, "%s: \"%s\" is not an array", ctx, key);
	if (json_array_size(a) == 0)
		return FAIL(NYM_EADDR, "%s: \"%s\" is empty (no address to reach the node)", ctx, key);
	n->n_ips = 0;
	json_array_foreach(a, i, x) {
		char ip[NYM_TOPOLOGY_IPSTR];
		if (!json_is_string(x) || !nym_tj_ip_norm(json_string_value(x), ip))
			return FAIL(NYM_EADDR, "%s: \"%s\"[%zu] is not an IP address", ctx, key, i);
		if (n->n_ips < NYM_TOPOLOGY_IPS)
			memcpy(n->ips[n->n_ips++], ip, sizeof ip);
	}
	return 0;
}

/* cosmwasm Decimal text in [0, 1] ("1", "0.5", "0.987654321", at most 18
 * fractional digits) -> floor(100 * p), as Percent::round_to_integer. */
int
nym_tj_parse_perf(const char *s, uint8_t *out)
{
	unsigned ip, frac = 0, digits = 0;
	const char *p = s;

	if (*p != '0' && *p != '1')
		return -1;
	ip = (unsigned)(*p++ - '0');
	if (*p == '.') {
		p++;
		for (; *p >= '0' && *p <= '9'; p++, digits++) {
			if (ip == 1 && *p != '0')
				return -1; /* above 1 */
			if (digits < 2)
				frac = frac * 10 + (unsigned)(*p - '0');
		}
		if (digits == 0 || digits > 18)
			return -1;
		if (digits == 1)
			frac *= 10;
	}
	if (*p)
		return -1;
	*out = (uint8_t)(ip * 100 + frac);
	return 0;
}

/* ---- topology building --------------------------------------------------- */

struct nym_node *
nym_tj_nodes_push(struct nym_tj_nodes *nv)
{
	if (nv->n == nv->cap) {
		size_t cap = nv->cap ? nv->cap * 2 : 16;
		struct nym_node *v = realloc(nv->v, cap * sizeof *v);
		if (!v)
			return NULL;
		nv->v = v;
		nv->cap = cap;
	}
	memset(&nv->v[nv->n], 0, sizeof nv->v[0]);
	return &nv->v[nv->n++];
}

int
nym_tj_cmp_node(const void *a, const void *b)
{
	uint32_t x = ((const struct nym_node *)a)->node_id, y = ((const struct nym_node *)b)->node_id;
	return x < y ? -1 : x > y;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

struct nym_topology *
nym_tj_topology_new(void)
{
	struct nym_topology *t = calloc(1, sizeof *t);
	if (t)
		t->rotation_id = 0;
	return t;
}

/* Sort, reject duplicate ids (ctx names the list), and hand the array over. */
int
nym_tj_nodes_finish(struct nym_topology *t, struct nym_tj_nodes *nv, const char *ctx,
                    char *err, size_t errlen)
{
	if (nv->n)
		qsort(nv->v, nv->n, sizeof nv->v[0], nym_tj_cmp_node);
	for (size_t i = 1; i < nv->n; i++)
		if (nv->v[i].node_id == nv->v[i - 1].node_id)
			return FAIL(NYM_EEXIST, "%s: duplicate node id %u", ctx, nv->v[i].node_id);
	t->nodes = nv->v;
	t->n_nodes = nv->n;
	nv->v = NULL;
	nv->n = nv->cap = 0;
	return 0;
}

static const char *rs_names[6] = { "layer1", "layer2", "layer3", "entry_gateways",
				   "exit_gateways", "standby" };

void
nym_tj_rset_free(struct nym_tj_rset *s)
{
	for (int k = 0; k < 6; k++)
		free(s->ids[k]);
}

/* A rewarded set: {"epoch_id", "layer1".., "entry_gateways", "exit_gateways", "standby"}. */
int
nym_tj_parse_rset(json_t *o, struct nym_tj_rset *s, int standby_required, const char *ctx,
                  char *err, size_t errlen)
{
	int r;

	memset(s, 0, sizeof *s);
	if ((r = nym_tj_get_u32(o, "epoch_id", &s->epoch_id, 0, ctx, err, errlen)) < 0)
		return r;
	for (int k = 0; k < 6; k++) {
		json_t *a = json_object_get(o, rs_names[k]), *x;
		size_t i;
		if (!a && k == 5 && !standby_required)
			continue;
		if (!a)
			return FAIL(NYM_EJSON, "%s: missing field \"%s\"", ctx, rs_names[k]);
		if (!json_is_array(a))
			return FAIL(NYM_EJSON, "%s: \"%s\" is not an array", ctx, rs_names[k]);
		s->ids[k] = malloc((json_array_size(a) + 1) * sizeof(uint32_t));
		if (!s->ids[k])
			return FAIL(NYM_ENOMEM, "out of memory");
		json_array_foreach(a, i, x) {
			if (!json_is_integer(x) || json_integer_value(x) < 0 ||
			    json_integer_value(x) > (json_int_t)U32_MAX_)
				return FAIL(NYM_EJSON, "%s: \"%s\"[%zu] is not a node id", ctx, rs_names[k], i);
			s->ids[k][i] = (uint32_t)json_integer_value(x);
		}
		s->n[k] = json_array_size(a);
		qsort(s->ids[k], s->n[k], sizeof(uint32_t), cmp_u32);
		for (i = 1; i < s->n[k]; i++)
			if (s->ids[k][i] == s->ids[k][i - 1])
				return FAIL(NYM_EEXIST, "%s: duplicate node id %u in \"%s\"", ctx,
					    s->ids[k][i], rs_names[k]);
	}
	/* one role per node, except that a gateway may be both entry and exit */
	for (int a = 0; a < 6; a++)
		for (int b = a + 1; b < 6; b++) {
			if (a == 3 && b == 4)
				continue;
			for (size_t i = 0; i < s->n[a]; i++)
				if (bsearch(&s->ids[a][i], s->ids[b], s->n[b], sizeof(uint32_t), cmp_u32))
					return FAIL(NYM_EEXIST, "%s: node id %u is in both \"%s\" and \"%s\"",
						    ctx, s->ids[a][i], rs_names[a], rs_names[b]);
		}
	return 0;
}

/* Give the nodes their roles of this epoch. */
void
nym_tj_apply_rset(struct nym_topology *t, const struct nym_tj_rset *s)
{
	for (int k = 0; k < 6; k++)
		for (size_t i = 0; i < s->n[k]; i++) {
			struct nym_node *n = (struct nym_node *)nym_topology_find(t, s->ids[k][i]);
			if (!n)
				continue; /* listed but without details (filtered): skipped */
			if (k < 3)
				n->layer = (uint8_t)(k + 1);
			else
				n->epoch_roles |= (uint8_t)(k == 3 ? NYM_EPOCH_ENTRY :
							    k == 4 ? NYM_EPOCH_EXIT : NYM_EPOCH_STANDBY);
		}
}

/* ---- our normalized document ----------------------------------------------- */

static const char *role_names[3] = { "mixnode", "entry", "exit" };
static const char *epoch_role_names[3] = { "entry", "exit", "standby" };

static int
parse_name_bits(json_t *o, const char *key, const char **names, uint8_t *bits, int *present,
                const char *ctx, char *err, size_t errlen)
{
	json_t *a = json_object_get(o, key), *x;
	size_t i;

	*present = 0;
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return FAIL(NYM_EJSON, "%s: \"%s\" is not an array", ctx, key);
	*present = 1;
	*bits = 0;
	json_array_foreach(a, i, x) {
		int k;
		if (!json_is_string(x))
			return FAIL(NYM_EJSON, "%s: \"%s\"[%zu] is not a string", ctx, key, i);
		for (k = 0; k < 3; k++)
			if (!strcmp(json_string_value(x), names[k]))
				break;
		if (k == 3)
			return FAIL(NYM_EJSON, "%s: unknown %s \"%.32s\"", ctx, key, json_string_value(x));
		*bits |= (uint8_t)(1u << k);
	}
	return 0;
}

/* ws://host:port[/] -> hostname or ip, port. */
static int
parse_ws_url(struct nym_node *n, const char *url, const char *ctx, char *err, size_t errlen)
{
	char host[NYM_TOPOLOGY_URL], ip[NYM_TOPOLOGY_IPSTR];
	const char *p = url, *colon;
	size_t hl;

	if (strncmp(p, "ws://", 5))
		return FAIL(NYM_EADDR, "%s: ws_url \"%.64s\" does not start with ws://", ctx, url);
	p += 5;
	snprintf(host, sizeof host, "%s", p);
	hl = strlen(host);
	if (hl && host[hl - 1] == '/')
		host[--hl] = 0;
	colon = strrchr(host, ':');
	if (!colon || (host[0] == '[' && colon < strchr(host, ']')) ||
	    nym_tj_parse_port(colon + 1, &n->ws_port) || n->ws_port == 0)
		return FAIL(NYM_EADDR, "%s: ws_url \"%.64s\" has no port", ctx, url);
	host[colon - host] = 0;
	if (host[0] == '[') {
		size_t l = strlen(host);
		if (l < 3 || host[l - 1] != ']')
			return FAIL(NYM_EADDR, "%s: ws_url \"%.64s\" has a bad IPv6 literal", ctx, url);
		host[l - 1] = 0;
		if (nym_tj_ip_norm(host + 1, ip) != 6)
			return FAIL(NYM_EADDR, "%s: ws_url \"%.64s\" has a bad IPv6 literal", ctx, url);
		return 0; /* an address: the URL is rebuilt from ips[] */
	}
	if (nym_tj_ip_norm(host, ip))
		return 0;
	hl = strlen(host);
	if (!hostname_ok(host) || hl >= sizeof n->hostname)
		return FAIL(NYM_EADDR, "%s: ws_url \"%.64s\" has a bad host name", ctx, url);
	memcpy(n->hostname, host, hl + 1);
	return 0;
}

/* A node of our document. In a route (lenient) only mix_host and sphinx_key
 * are required. */
int
nym_tj_parse_doc_node(json_t *j, struct nym_node *n, int as_gateway, int lenient, const char *list,
                      size_t idx, char *err, size_t errlen)
{
	char ctx[96];
	const char *host = NULL, *ws;
	json_t *perf, *entry;
	uint8_t bits;
	int r, present;

	memset(n, 0, sizeof *n);
	if (!json_is_object(j))
		return FAIL(NYM_EJSON, "%s: item %zu is not an object", list, idx);
	snprintf(ctx, sizeof ctx, "%.60s: item %zu", list, idx);
	if ((r = nym_tj_get_u32(j, "node_id", &n->node_id, !lenient, ctx, err, errlen)) < 0)
		return r;
	if (r)
		snprintf(ctx, sizeof ctx, "%.60s: node %u", list, n->node_id);
	if (json_object_get(j, "identity_key") || !lenient) {
		if ((r = nym_tj_get_b58key(j, "identity_key", n->identity, ctx, err, errlen)) < 0)
			return r;
	}
	if ((r = nym_tj_get_b58key(j, "sphinx_key", n->sphinx_key, ctx, err, errlen)) < 0 ||
	    (r = nym_tj_get_str(j, "mix_host", &host, 1, ctx, err, errlen)) < 0)
		return r;
	if (nym_topology_parse_host(host, n->ips[0], &n->mix_port))
		return FAIL(NYM_EADDR, "%s: mix_host \"%.64s\" is not IP:PORT", ctx, host);
	n->n_ips = 1;
	if (json_object_get(j, "ip_addresses") && !json_is_null(json_object_get(j, "ip_addresses"))) {
		char first[NYM_TOPOLOGY_IPSTR];
		memcpy(first, n->ips[0], sizeof first);
		if ((r = nym_tj_get_ips(j, "ip_addresses", n, ctx, err, errlen)) < 0)
			return r;
		if (strcmp(first, n->ips[0]))
			return FAIL(NYM_EADDR, "%s: mix_host does not use the first of ip_addresses", ctx);
	}
	if ((r = nym_tj_set_mix_host(n, ctx, err, errlen)) < 0)
		return r;
	perf = json_object_get(j, "performance");
	n->performance = 100;
	if (perf && !json_is_null(perf)) {
		if (!json_is_integer(perf) || json_integer_value(perf) < 0 || json_integer_value(perf) > 100)
			return FAIL(NYM_EJSON, "%s: performance is not an integer 0..100", ctx);
		n->performance = (uint8_t)json_integer_value(perf);
	}
	if ((r = parse_name_bits(j, "roles", role_names, &bits, &present, ctx, err, errlen)) < 0)
		return r;
	n->roles = present ? bits : as_gateway ? NYM_NODE_ENTRY | NYM_NODE_EXIT : NYM_NODE_MIXNODE;
	if ((r = parse_name_bits(j, "epoch_roles", epoch_role_names, &bits, &present, ctx, err, errlen)) < 0)
		return r;
	n->epoch_roles = present ? bits : 0;
	if (!present && as_gateway)
		n->epoch_roles = NYM_EPOCH_ENTRY | NYM_EPOCH_EXIT;

	entry = json_object_get(j, "entry");
	if (entry && !json_is_null(entry)) {
		if (!json_is_object(entry))
			return FAIL(NYM_EJSON, "%s: \"entry\" is not an object", ctx);
		if ((r = nym_tj_get_u16(entry, "ws_port", &n->ws_port, 1, ctx, err, errlen)) < 0 ||
		    (r = nym_tj_get_u16(entry, "wss_port", &n->wss_port, 0, ctx, err, errlen)) < 0 ||
		    (r = nym_tj_get_str(entry, "hostname", &host, 0, ctx, err, errlen)) < 0 ||
		    (r = nym_tj_set_hostname(n, host, ctx, err, errlen)) < 0)
			return r;
		n->is_gateway = 1;
	} else if ((r = nym_tj_get_str(j, "ws_url", &ws, 0, ctx, err, errlen)) < 0) {
		return r;
	} else if (ws) {
		if ((r = parse_ws_url(n, ws, ctx, err, errlen)) < 0)
			return r;
		n->is_gateway = 1;
	} else if (as_gateway && !lenient) {
		return FAIL(NYM_EJSON, "%s: a gateway needs \"ws_url\" or \"entry\"", ctx);
	}
	nym_tj_make_urls(n);
	return 0;
}

/* ---- output ----------------------------------------------------------------- */

json_t *
nym_tj_key_json(const uint8_t k[32])
{
	char s[NYM_B58_KEY_MAX];
	nym_base58_encode(s, sizeof s, k, 32);
	return json_string(s);
}

json_t *
nym_tj_str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *
jbits(uint8_t bits, const char **names)
{
	json_t *a = json_array();
	for (int k = 0; k < 3; k++)
		if (bits & (1u << k))
			json_array_append_new(a, json_string(names[k]));
	return a;
}

json_t *
nym_tj_ips_json(const struct nym_node *n)
{
	json_t *a = json_array();
	for (unsigned i = 0; i < n->n_ips; i++)
		json_array_append_new(a, json_string(n->ips[i]));
	return a;
}

/* Host name as stored may be "[v6]" when an IP literal was given as host. */
json_t *
nym_tj_hostname_json(const struct nym_node *n)
{
	return nym_tj_str_or_null(n->hostname);
}

json_t *
nym_tj_node_json(const struct nym_node *n, int as_gateway)
{
	json_t *o = json_object();

	json_object_set_new(o, "node_id", json_integer(n->node_id));
	json_object_set_new(o, "identity_key", nym_tj_key_json(n->identity));
	json_object_set_new(o, "sphinx_key", nym_tj_key_json(n->sphinx_key));
	json_object_set_new(o, "mix_host", json_string(n->mix_host));
	if (as_gateway)
		json_object_set_new(o, "layer", json_string("gateway"));
	else if (n->layer)
		json_object_set_new(o, "layer", json_integer(n->layer));
	else
		json_object_set_new(o, "layer", json_null());
	json_object_set_new(o, "ws_url", nym_tj_str_or_null(n->ws_url));
	json_object_set_new(o, "wss_url", nym_tj_str_or_null(n->wss_url));
	json_object_set_new(o, "performance", json_integer(n->performance));
	json_object_set_new(o, "roles", jbits(n->roles, role_names));
	json_object_set_new(o, "epoch_roles", jbits(n->epoch_roles, epoch_role_names));
	json_object_set_new(o, "ip_addresses", nym_tj_ips_json(n));
	if (n->is_gateway) {
		json_t *e = json_object();
		json_object_set_new(e, "hostname", nym_tj_hostname_json(n));
		json_object_set_new(e, "ws_port", json_integer(n->ws_port));
		json_object_set_new(e, "wss_port", n->wss_port ? json_integer(n->wss_port) : json_null());
		json_object_set_new(o, "entry", e);
	} else {
		json_object_set_new(o, "entry", json_null());
	}
	return o;
}

int
nym_tj_dumps(json_t *o, unsigned flags, char **out)
{
	*out = json_dumps(o, (flags & NYM_JSON_PRETTY ? JSON_INDENT(2) : JSON_COMPACT) |
			       JSON_PRESERVE_ORDER);
	json_decref(o);
	return *out ? 0 : NYM_ENOMEM;
}

json_t *
nym_tj_rset_json(const struct nym_topology *t)
{
	json_t *o = json_object(), *a[6];

	json_object_set_new(o, "epoch_id", json_integer(t->rewarded_set_epoch_id));
	for (int k = 0; k < 6; k++)
		a[k] = json_array();
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct nym_node *n = &t->nodes[i];
		if (n->layer >= 1 && n->layer <= 3)
			json_array_append_new(a[n->layer - 1], json_integer(n->node_id));
		if (n->epoch_roles & NYM_EPOCH_ENTRY)
			json_array_append_new(a[3], json_integer(n->node_id));
		if (n->epoch_roles & NYM_EPOCH_EXIT)
			json_array_append_new(a[4], json_integer(n->node_id));
		if (n->epoch_roles & NYM_EPOCH_STANDBY)
			json_array_append_new(a[5], json_integer(n->node_id));
	}
	/* the API's field order */
	json_object_set_new(o, "entry_gateways", a[3]);
	json_object_set_new(o, "exit_gateways", a[4]);
	json_object_set_new(o, "layer1", a[0]);
	json_object_set_new(o, "layer2", a[1]);
	json_object_set_new(o, "layer3", a[2]);
	json_object_set_new(o, "standby", a[5]);
	return o;
}

const char *
nym_tj_refreshed(const struct nym_topology *t)
{
	return t->refreshed_at[0] ? t->refreshed_at : t->fetched_at[0] ? t->fetched_at
								       : "1970-01-01T00:00:00Z";
}
