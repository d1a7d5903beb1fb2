/* topology.c — parse, validate, normalize and route over the Nym topology
 * (spec/topology.md). JSON through jansson; duplicate object keys rejected. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/codec.h"
#include "base/err.h"
#include "proto/topology.h"

#define U32_MAX_ 4294967295u

#define FAIL(code, ...) nym_err_set(err, errlen, code, __VA_ARGS__)

/* ---- small JSON helpers --------------------------------------------------- */

static json_t *
load(const char *what, const char *data, size_t len, char *err, size_t errlen)
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

static int
get_u32(json_t *o, const char *key, uint32_t *v, int required, const char *ctx,
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

static int
get_u16(json_t *o, const char *key, uint16_t *v, int required, const char *ctx,
        char *err, size_t errlen)
{
	uint32_t w;
	int r = get_u32(o, key, &w, required, ctx, err, errlen);

	if (r <= 0)
		return r;
	if (w > 65535)
		return FAIL(NYM_EJSON, "%s: \"%s\" is not a port number (%u)", ctx, key, w);
	*v = (uint16_t)w;
	return 1;
}

/* A string field; returns its value or NULL (missing/null, error set if required). */
static int
get_str(json_t *o, const char *key, const char **v, int required, const char *ctx,
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

static int
copy_str(char *dst, size_t cap, const char *s, const char *ctx, const char *key,
         char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (n >= cap)
		return FAIL(NYM_EJSON, "%s: \"%s\" is too long (%zu characters)", ctx, key, n);
	memcpy(dst, s, n + 1);
	return 0;
}

static int
get_b58key(json_t *o, const char *key, uint8_t out[32], const char *ctx,
           char *err, size_t errlen)
{
	const char *s;
	uint8_t buf[64];
	int r = get_str(o, key, &s, 1, ctx, err, errlen);

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
static int
get_intkey(json_t *o, const char *key, uint8_t out[32], const char *ctx,
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

static int
get_bool(json_t *o, const char *key, int *v, const char *ctx, char *err, size_t errlen)
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
static int
ip_norm(const char *ip, char out[NYM_TOPOLOGY_IPSTR])
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
nym_topology_format_host(char *out, size_t cap, const char *ip, uint16_t port)
{
	char n[NYM_TOPOLOGY_IPSTR];
	int v = ip_norm(ip, n), w;

	if (!v)
		return NYM_EADDR;
	w = v == 6 ? snprintf(out, cap, "[%s]:%u", n, port) : snprintf(out, cap, "%s:%u", n, port);
	if (w < 0 || (size_t)w >= cap)
		return NYM_ESIZE;
	return 0;
}

static int
parse_port(const char *s, uint16_t *port)
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

int
nym_topology_parse_host(const char *host, char ip[NYM_TOPOLOGY_IPSTR], uint16_t *port)
{
	char tmp[NYM_TOPOLOGY_HOST];
	const char *colon;
	size_t n = strlen(host);

	if (n == 0 || n >= sizeof tmp)
		return NYM_EADDR;
	if (host[0] == '[') {
		const char *close = strchr(host, ']');
		if (!close || close[1] != ':')
			return NYM_EADDR;
		memcpy(tmp, host + 1, (size_t)(close - host - 1));
		tmp[close - host - 1] = 0;
		if (ip_norm(tmp, ip) != 6)
			return NYM_EADDR;
		return parse_port(close + 2, port);
	}
	colon = strrchr(host, ':');
	if (!colon || strchr(host, ':') != colon)
		return NYM_EADDR;
	memcpy(tmp, host, (size_t)(colon - host));
	tmp[colon - host] = 0;
	if (ip_norm(tmp, ip) != 4)
		return NYM_EADDR;
	return parse_port(colon + 1, port);
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
static void
make_urls(struct nym_node *n)
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

static int
set_hostname(struct nym_node *n, const char *h, const char *ctx, char *err, size_t errlen)
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
		if (ip_norm(in, ip) != 6)
			return FAIL(NYM_EJSON, "%s: hostname \"%.64s\" is not a valid host name", ctx, h);
		snprintf(n->hostname, sizeof n->hostname, "[%s]", ip);
		return 0;
	}
	switch (ip_norm(h, ip)) {
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

static int
set_mix_host(struct nym_node *n, const char *ctx, char *err, size_t errlen)
{
	if (nym_topology_format_host(n->mix_host, sizeof n->mix_host, n->ips[0], n->mix_port))
		return FAIL(NYM_EADDR, "%s: \"%s\" is not an IP address", ctx, n->ips[0]);
	return 0;
}

static int
get_ips(json_t *o, const char *key, struct nym_node *n, const char *ctx,
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
		if (!json_is_string(x) || !ip_norm(json_string_value(x), ip))
			return FAIL(NYM_EADDR, "%s: \"%s\"[%zu] is not an IP address", ctx, key, i);
		if (n->n_ips < NYM_TOPOLOGY_IPS)
			memcpy(n->ips[n->n_ips++], ip, sizeof ip);
	}
	return 0;
}

/* cosmwasm Decimal text in [0, 1] ("1", "0.5", "0.987654321", at most 18
 * fractional digits) -> floor(100 * p), as Percent::round_to_integer. */
static int
parse_perf(const char *s, uint8_t *out)
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

struct nodevec {
	struct nym_node *v;
	size_t n, cap;
};

static struct nym_node *
nv_push(struct nodevec *nv)
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

static int
cmp_node(const void *a, const void *b)
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

static struct nym_topology *
topo_new(void)
{
	struct nym_topology *t = calloc(1, sizeof *t);
	if (t)
		t->rotation_id = 0;
	return t;
}

void
nym_topology_free(struct nym_topology *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t);
}

const struct nym_node *
nym_topology_find(const struct nym_topology *t, uint32_t node_id)
{
	struct nym_node key;

	if (!t || !t->n_nodes)
		return NULL;
	key.node_id = node_id;
	return bsearch(&key, t->nodes, t->n_nodes, sizeof key, cmp_node);
}

const struct nym_node *
nym_topology_find_identity(const struct nym_topology *t, const uint8_t identity[32])
{
	for (size_t i = 0; t && i < t->n_nodes; i++)
		if (!memcmp(t->nodes[i].identity, identity, 32))
			return &t->nodes[i];
	return NULL;
}

int
nym_topology_validate(const struct nym_topology *t, char *err, size_t errlen)
{
	size_t count[4] = { 0 }, gw = 0;

	for (size_t i = 0; i < t->n_nodes; i++) {
		if (t->nodes[i].layer && t->nodes[i].epoch_roles)
			return FAIL(NYM_EEXIST, "node %u is on layer %u and also has a gateway or standby role this epoch",
				    t->nodes[i].node_id, t->nodes[i].layer);
		if (t->nodes[i].layer >= 1 && t->nodes[i].layer <= 3)
			count[t->nodes[i].layer]++;
		if (t->nodes[i].is_gateway)
			gw++;
	}
	for (int l = 1; l <= 3; l++)
		if (!count[l])
			return FAIL(NYM_EROUTE, "layer %d is empty: no usable mix node on it%s", l,
				    t->n_filtered ? " after the performance filter" : "");
	if (!gw)
		return FAIL(NYM_EROUTE, "no gateway: no node with client (entry) details%s",
			    t->n_filtered ? " after the performance filter" : "");
	return 0;
}

int
nym_topology_apply_filter(struct nym_topology *t, const struct nym_topology_filter *f,
                          char *err, size_t errlen)
{
	size_t k = 0;

	for (size_t i = 0; i < t->n_nodes; i++) {
		struct nym_node *n = &t->nodes[i];
		int mix_ok = n->performance >= f->min_mix_performance;
		int gw_ok = n->is_gateway && n->performance >= f->min_gateway_performance;
		if (!mix_ok && !gw_ok) {
			t->n_filtered++;
			continue;
		}
		if (!gw_ok && n->is_gateway) {
			n->is_gateway = 0;
			n->ws_url[0] = n->wss_url[0] = 0;
		}
		if (!mix_ok)
			n->layer = 0;
		t->nodes[k++] = *n;
	}
	t->n_nodes = k;
	return nym_topology_validate(t, err, errlen);
}

/* Sort, reject duplicate ids (ctx names the list), and hand the array over. */
static int
finish(struct nym_topology *t, struct nodevec *nv, const char *ctx, char *err, size_t errlen)
{
	if (nv->n)
		qsort(nv->v, nv->n, sizeof nv->v[0], cmp_node);
	for (size_t i = 1; i < nv->n; i++)
		if (nv->v[i].node_id == nv->v[i - 1].node_id)
			return FAIL(NYM_EEXIST, "%s: duplicate node id %u", ctx, nv->v[i].node_id);
	t->nodes = nv->v;
	t->n_nodes = nv->n;
	nv->v = NULL;
	nv->n = nv->cap = 0;
	return 0;
}

/* ---- the nym-api answers ------------------------------------------------- */

struct meta {
	json_t *status;
	uint32_t absolute_epoch_id, rotation_id;
	const char *refreshed_at;
};

static int
parse_meta(json_t *root, struct meta *m, const char *ctx, char *err, size_t errlen)
{
	json_t *md = json_object_get(root, "metadata");
	int r;

	if (!md)
		return FAIL(NYM_EJSON, "%s: missing field \"metadata\"", ctx);
	if (!json_is_object(md))
		return FAIL(NYM_EJSON, "%s: \"metadata\" is not an object", ctx);
	m->status = json_object_get(md, "status");
	if (m->status && json_is_string(m->status) &&
	    !strcmp(json_string_value(m->status), "no-updates"))
		return FAIL(NYM_EPROTO, "%s: the API answered \"no-updates\" with no nodes", ctx);
	if ((r = get_u32(md, "absolute_epoch_id", &m->absolute_epoch_id, 1, ctx, err, errlen)) < 0 ||
	    (r = get_u32(md, "rotation_id", &m->rotation_id, 1, ctx, err, errlen)) < 0 ||
	    (r = get_str(md, "refreshed_at", &m->refreshed_at, 0, ctx, err, errlen)) < 0)
		return r;
	return 0;
}

static json_t *
page_data(json_t *root, uint32_t *total, const char *ctx, char *err, size_t errlen)
{
	json_t *nodes = json_object_get(root, "nodes"), *pg, *data;

	if (!nodes || !json_is_object(nodes))
		return nym_err_set(err, errlen, NYM_EJSON, "%s: missing object \"nodes\"", ctx), NULL;
	pg = json_object_get(nodes, "pagination");
	if (!pg || !json_is_object(pg))
		return nym_err_set(err, errlen, NYM_EJSON, "%s: missing object \"nodes.pagination\"", ctx), NULL;
	if (get_u32(pg, "total", total, 1, ctx, err, errlen) < 0)
		return NULL;
	data = json_object_get(nodes, "data");
	if (!data || !json_is_array(data))
		return nym_err_set(err, errlen, NYM_EJSON, "%s: missing array \"nodes.data\"", ctx), NULL;
	return data;
}

int
nym_topology_page_info(const struct nym_text *page, uint32_t *total, size_t *count,
                       char *err, size_t errlen)
{
	json_t *root = load(NULL, page->data, page->len, err, errlen), *data;

	if (!root)
		return NYM_EJSON;
	data = page_data(root, total, "answer", err, errlen);
	if (!data) {
		json_decref(root);
		return NYM_EJSON;
	}
	*count = json_array_size(data);
	json_decref(root);
	return 0;
}

/* One SkimmedNodeV1 (spec/topology.md §3.1). */
static int
parse_skimmed(json_t *j, struct nym_node *n, const char *list, size_t idx,
              char *err, size_t errlen)
{
	char ctx[96];
	const char *perf, *host;
	json_t *role, *sr, *entry;
	int r, b;

	if (!json_is_object(j))
		return FAIL(NYM_EJSON, "%s: item %zu is not an object", list, idx);
	snprintf(ctx, sizeof ctx, "%.60s: item %zu", list, idx);
	if ((r = get_u32(j, "node_id", &n->node_id, 1, ctx, err, errlen)) < 0)
		return r;
	snprintf(ctx, sizeof ctx, "%.60s: node %u", list, n->node_id);
	if ((r = get_b58key(j, "ed25519_identity_pubkey", n->identity, ctx, err, errlen)) < 0 ||
	    (r = get_b58key(j, "x25519_sphinx_pubkey", n->sphinx_key, ctx, err, errlen)) < 0 ||
	    (r = get_ips(j, "ip_addresses", n, ctx, err, errlen)) < 0 ||
	    (r = get_u16(j, "mix_port", &n->mix_port, 1, ctx, err, errlen)) < 0 ||
	    (r = get_str(j, "performance", &perf, 1, ctx, err, errlen)) < 0)
		return r;
	if (parse_perf(perf, &n->performance))
		return FAIL(NYM_EJSON, "%s: performance \"%.32s\" is not a decimal in [0, 1]", ctx, perf);
	if ((r = set_mix_host(n, ctx, err, errlen)) < 0)
		return r;

	role = json_object_get(j, "role");
	if (!role)
		role = json_object_get(j, "epoch_role");
	if (!role)
		return FAIL(NYM_EJSON, "%s: missing field \"role\"", ctx);
	if (json_is_string(role)) {
		static const char *ok[] = { "EntryGateway", "ExitGateway", "Standby", "Inactive",
					    "entry", "gateway", "exit" };
		size_t k;
		for (k = 0; k < sizeof ok / sizeof ok[0]; k++)
			if (!strcmp(json_string_value(role), ok[k]))
				break;
		if (k == sizeof ok / sizeof ok[0])
			return FAIL(NYM_EJSON, "%s: unknown role \"%.32s\"", ctx, json_string_value(role));
	} else {
		json_t *mx = json_is_object(role) ? json_object_get(role, "Mixnode") : NULL;
		uint32_t layer;
		if (!mx || !json_is_object(mx) || json_object_size(role) != 1 ||
		    get_u32(mx, "layer", &layer, 1, ctx, err, errlen) < 0 || layer < 1 || layer > 3)
			return FAIL(NYM_EJSON, "%s: \"role\" is neither a role name nor {\"Mixnode\":{\"layer\":1..3}}", ctx);
	}

	sr = json_object_get(j, "supported_roles");
	if (sr && !json_is_null(sr)) {
		int e, nr, ipr;
		if (!json_is_object(sr))
			return FAIL(NYM_EJSON, "%s: \"supported_roles\" is not an object", ctx);
		if ((r = get_bool(sr, "mixnode", &b, ctx, err, errlen)) < 0 ||
		    (r = get_bool(sr, "entry", &e, ctx, err, errlen)) < 0 ||
		    (r = get_bool(sr, "exit_nr", &nr, ctx, err, errlen)) < 0 ||
		    (r = get_bool(sr, "exit_ipr", &ipr, ctx, err, errlen)) < 0)
			return r;
		n->roles = (uint8_t)((b ? NYM_NODE_MIXNODE : 0) | (e ? NYM_NODE_ENTRY : 0) |
				     (nr && ipr ? NYM_NODE_EXIT : 0));
	}

	entry = json_object_get(j, "entry");
	if (entry && !json_is_null(entry)) {
		uint16_t wss = 0;
		if (!json_is_object(entry))
			return FAIL(NYM_EJSON, "%s: \"entry\" is not an object", ctx);
		if ((r = get_u16(entry, "ws_port", &n->ws_port, 1, ctx, err, errlen)) < 0 ||
		    (r = get_u16(entry, "wss_port", &wss, 0, ctx, err, errlen)) < 0 ||
		    (r = get_str(entry, "hostname", &host, 0, ctx, err, errlen)) < 0)
			return r;
		/* Operators type host names freely: one we cannot put into a URL is
		 * dropped (the node stays reachable by IP) and counted, not fatal. */
		if (set_hostname(n, host, ctx, NULL, 0) < 0) {
			n->hostname[0] = 0;
			n->hostname_dropped = 1;
		}
		n->wss_port = wss;
		n->is_gateway = 1;
		make_urls(n);
	}
	return 0;
}

/* All pages of one skimmed route: nodes appended to nv, metadata into m. */
static int
parse_route(const struct nym_text *pages, size_t npages, const char *name, struct nodevec *nv,
            struct meta *m, json_t **keep, char *err, size_t errlen)
{
	uint32_t total0 = 0;
	size_t got = 0, start = nv->n;
	char ctx[96];
	int r;

	if (npages == 0)
		return FAIL(NYM_EJSON, "%s: no answer", name);
	for (size_t p = 0; p < npages; p++) {
		json_t *root, *data, *item;
		struct meta pm;
		uint32_t total;
		size_t i;

		snprintf(ctx, sizeof ctx, npages > 1 ? "%s page %zu" : "%s", name, p);
		if (!(root = load(ctx, pages[p].data, pages[p].len, err, errlen)))
			return NYM_EJSON;
		keep[p] = root; /* freed by the caller; meta strings point into it */
		if ((r = parse_meta(root, &pm, ctx, err, errlen)) < 0)
			return r;
		if (!(data = page_data(root, &total, ctx, err, errlen)))
			return NYM_EJSON;
		if (p == 0) {
			*m = pm;
			total0 = total;
		} else if (pm.absolute_epoch_id != m->absolute_epoch_id ||
			   pm.rotation_id != m->rotation_id ||
			   !json_equal(pm.status ? pm.status : json_null(),
				       m->status ? m->status : json_null())) {
			return FAIL(NYM_EPROTO, "%s: metadata differs from page 0 (the network changed while paging)", ctx);
		}
		json_array_foreach(data, i, item) {
			struct nym_node *n = nv_push(nv);
			if (!n)
				return FAIL(NYM_ENOMEM, "out of memory");
			if ((r = parse_skimmed(item, n, ctx, got + i, err, errlen)) < 0)
				return r;
		}
		got += json_array_size(data);
	}
	if (got != total0)
		return FAIL(NYM_ESHORT, "%s: got %zu nodes but pagination.total says %u", name, got, total0);
	/* duplicate ids inside one route */
	if (nv->n - start > 1) {
		qsort(nv->v + start, nv->n - start, sizeof nv->v[0], cmp_node);
		for (size_t i = start + 1; i < nv->n; i++)
			if (nv->v[i].node_id == nv->v[i - 1].node_id)
				return FAIL(NYM_EEXIST, "%s: duplicate node id %u", name, nv->v[i].node_id);
	}
	return 0;
}

static const char *rs_names[6] = { "layer1", "layer2", "layer3", "entry_gateways",
				   "exit_gateways", "standby" };

struct rset {
	uint32_t epoch_id;
	uint32_t *ids[6];
	size_t n[6];
};

static void
rset_free(struct rset *s)
{
	for (int k = 0; k < 6; k++)
		free(s->ids[k]);
}

/* A rewarded set: {"epoch_id", "layer1".., "entry_gateways", "exit_gateways", "standby"}. */
static int
parse_rset(json_t *o, struct rset *s, int standby_required, const char *ctx,
           char *err, size_t errlen)
{
	int r;

	memset(s, 0, sizeof *s);
	if ((r = get_u32(o, "epoch_id", &s->epoch_id, 0, ctx, err, errlen)) < 0)
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
static void
apply_rset(struct nym_topology *t, const struct rset *s)
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

static int
parse_key_rotation(struct nym_topology *t, const struct nym_text *kr, char *err, size_t errlen)
{
	const char *ctx = NYM_API_KEY_ROTATION, *start;
	json_t *root = load(ctx, kr->data, kr->len, err, errlen), *st, *pr, *dur;
	int r = NYM_EJSON;

	if (!root)
		return NYM_EJSON;
	st = json_object_get(root, "key_rotation_state");
	pr = json_object_get(root, "progress");
	dur = json_object_get(root, "epoch_duration");
	if (!json_is_object(st) || !json_is_object(pr) || !json_is_object(dur)) {
		r = FAIL(NYM_EJSON, "%s: missing object \"key_rotation_state\", \"progress\" or \"epoch_duration\"", ctx);
		goto out;
	}
	uint32_t secs;
	if ((r = get_u32(st, "validity_epochs", &t->key_rotation.validity_epochs, 1, ctx, err, errlen)) < 0 ||
	    (r = get_u32(st, "initial_epoch_id", &t->key_rotation.initial_epoch_id, 1, ctx, err, errlen)) < 0 ||
	    (r = get_u32(root, "current_absolute_epoch_id", &t->key_rotation.current_absolute_epoch_id, 1, ctx, err, errlen)) < 0 ||
	    (r = get_u32(pr, "current_key_rotation_id", &t->key_rotation.rotation_id, 1, ctx, err, errlen)) < 0 ||
	    (r = get_u32(pr, "current_rotation_starting_epoch", &t->key_rotation.starting_epoch, 1, ctx, err, errlen)) < 0 ||
	    (r = get_u32(pr, "current_rotation_ending_epoch", &t->key_rotation.ending_epoch, 1, ctx, err, errlen)) < 0 ||
	    (r = get_u32(dur, "secs", &secs, 1, ctx, err, errlen)) < 0 ||
	    (r = get_str(root, "current_epoch_start", &start, 1, ctx, err, errlen)) < 0 ||
	    (r = copy_str(t->key_rotation.epoch_start, sizeof t->key_rotation.epoch_start, start,
			  ctx, "current_epoch_start", err, errlen)) < 0)
		goto out;
	t->key_rotation.epoch_secs = secs;
	t->key_rotation.present = 1;
	r = 0;
out:
	json_decref(root);
	return r;
}

int
nym_topology_from_api(struct nym_topology **out, const struct nym_api_answers *a,
                      const struct nym_topology_filter *filter, char *err, size_t errlen)
{
	struct nym_topology_filter def = NYM_TOPOLOGY_FILTER_DEFAULT;
	struct nodevec mix = { 0 }, gw = { 0 }, all = { 0 };
	struct meta mm = { 0 }, gm = { 0 };
	struct nym_topology *t = NULL;
	struct rset rs = { 0 };
	json_t **keep = NULL, *rsj = NULL;
	size_t nkeep = a->n_mixnodes + a->n_gateways;
	int r;

	*out = NULL;
	if (!filter)
		filter = &def;
	if (!(t = topo_new()) || !(keep = calloc(nkeep + 1, sizeof *keep))) {
		r = FAIL(NYM_ENOMEM, "out of memory");
		goto out;
	}
	if ((r = parse_route(a->mixnodes, a->n_mixnodes, NYM_API_MIXNODES, &mix, &mm, keep,
			     err, errlen)) < 0 ||
	    (r = parse_route(a->gateways, a->n_gateways, NYM_API_GATEWAYS, &gw, &gm,
			     keep + a->n_mixnodes, err, errlen)) < 0)
		goto out;
	if (mm.absolute_epoch_id != gm.absolute_epoch_id || mm.rotation_id != gm.rotation_id) {
		r = FAIL(NYM_EPROTO, "the mixnode and gateway answers disagree on the epoch (%u/%u) or key rotation (%u/%u)",
			 mm.absolute_epoch_id, gm.absolute_epoch_id, mm.rotation_id, gm.rotation_id);
		goto out;
	}
	for (size_t i = 0; i < gw.n; i++)
		if (!gw.v[i].is_gateway) {
			r = FAIL(NYM_EJSON, "%s: node %u has no \"entry\" details", NYM_API_GATEWAYS,
				 gw.v[i].node_id);
			goto out;
		}
	if (!(rsj = load(NYM_API_REWARDED_SET, a->rewarded_set.data, a->rewarded_set.len, err, errlen))) {
		r = NYM_EJSON;
		goto out;
	}
	if ((r = parse_rset(rsj, &rs, 0, NYM_API_REWARDED_SET, err, errlen)) < 0)
		goto out;
	if (a->key_rotation.data && (r = parse_key_rotation(t, &a->key_rotation, err, errlen)) < 0)
		goto out;

	/* Merge: a node in both lists takes the gateway answer (as the reference,
	 * whose later insert overwrites); each list filtered by its threshold. */
	for (size_t i = 0, j = 0; i < mix.n || j < gw.n;) {
		struct nym_node *src, *dst;
		int from_mix = j >= gw.n || (i < mix.n && mix.v[i].node_id < gw.v[j].node_id);
		int both = i < mix.n && j < gw.n && mix.v[i].node_id == gw.v[j].node_id;
		int keep_mix = 0, keep_gw = 0;

		if (both || !from_mix) {
			src = &gw.v[j];
			keep_gw = src->performance >= filter->min_gateway_performance;
			keep_mix = both && mix.v[i].performance >= filter->min_mix_performance;
		} else {
			src = &mix.v[i];
			keep_mix = src->performance >= filter->min_mix_performance;
		}
		if (keep_mix || keep_gw) {
			if (!(dst = nv_push(&all))) {
				r = FAIL(NYM_ENOMEM, "out of memory");
				goto out;
			}
			*dst = *src;
			if (!keep_gw) {
				dst->is_gateway = 0;
				dst->ws_url[0] = dst->wss_url[0] = 0;
			}
		} else {
			t->n_filtered++;
		}
		if (both) {
			i++;
			j++;
		} else if (from_mix) {
			i++;
		} else {
			j++;
		}
	}
	if ((r = finish(t, &all, "nodes", err, errlen)) < 0)
		goto out;
	for (size_t i = 0; i < t->n_nodes; i++)
		t->n_bad_hostnames += t->nodes[i].hostname_dropped;
	apply_rset(t, &rs);
	t->absolute_epoch_id = mm.absolute_epoch_id;
	t->rotation_id = mm.rotation_id;
	t->rewarded_set_epoch_id = rs.epoch_id;
	if (mm.refreshed_at)
		snprintf(t->refreshed_at, sizeof t->refreshed_at, "%s", mm.refreshed_at);
	if ((r = nym_topology_validate(t, err, errlen)) < 0)
		goto out;
	*out = t;
	t = NULL;
	r = 0;
out:
	for (size_t i = 0; keep && i < nkeep; i++)
		json_decref(keep[i]);
	free(keep);
	json_decref(rsj);
	rset_free(&rs);
	free(mix.v);
	free(gw.v);
	free(all.v);
	nym_topology_free(t);
	return r;
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
	    parse_port(colon + 1, &n->ws_port) || n->ws_port == 0)
		return FAIL(NYM_EADDR, "%s: ws_url \"%.64s\" has no port", ctx, url);
	host[colon - host] = 0;
	if (host[0] == '[') {
		size_t l = strlen(host);
		if (l < 3 || host[l - 1] != ']')
			return FAIL(NYM_EADDR, "%s: ws_url \"%.64s\" has a bad IPv6 literal", ctx, url);
		host[l - 1] = 0;
		if (ip_norm(host + 1, ip) != 6)
			return FAIL(NYM_EADDR, "%s: ws_url \"%.64s\" has a bad IPv6 literal", ctx, url);
		return 0; /* an address: the URL is rebuilt from ips[] */
	}
	if (ip_norm(host, ip))
		return 0;
	hl = strlen(host);
	if (!hostname_ok(host) || hl >= sizeof n->hostname)
		return FAIL(NYM_EADDR, "%s: ws_url \"%.64s\" has a bad host name", ctx, url);
	memcpy(n->hostname, host, hl + 1);
	return 0;
}

/* A node of our document. In a route (lenient) only mix_host and sphinx_key
 * are required. */
static int
parse_doc_node(json_t *j, struct nym_node *n, int as_gateway, int lenient, const char *list,
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
	if ((r = get_u32(j, "node_id", &n->node_id, !lenient, ctx, err, errlen)) < 0)
		return r;
	if (r)
		snprintf(ctx, sizeof ctx, "%.60s: node %u", list, n->node_id);
	if (json_object_get(j, "identity_key") || !lenient) {
		if ((r = get_b58key(j, "identity_key", n->identity, ctx, err, errlen)) < 0)
			return r;
	}
	if ((r = get_b58key(j, "sphinx_key", n->sphinx_key, ctx, err, errlen)) < 0 ||
	    (r = get_str(j, "mix_host", &host, 1, ctx, err, errlen)) < 0)
		return r;
	if (nym_topology_parse_host(host, n->ips[0], &n->mix_port))
		return FAIL(NYM_EADDR, "%s: mix_host \"%.64s\" is not IP:PORT", ctx, host);
	n->n_ips = 1;
	if (json_object_get(j, "ip_addresses") && !json_is_null(json_object_get(j, "ip_addresses"))) {
		char first[NYM_TOPOLOGY_IPSTR];
		memcpy(first, n->ips[0], sizeof first);
		if ((r = get_ips(j, "ip_addresses", n, ctx, err, errlen)) < 0)
			return r;
		if (strcmp(first, n->ips[0]))
			return FAIL(NYM_EADDR, "%s: mix_host does not use the first of ip_addresses", ctx);
	}
	if ((r = set_mix_host(n, ctx, err, errlen)) < 0)
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
		if ((r = get_u16(entry, "ws_port", &n->ws_port, 1, ctx, err, errlen)) < 0 ||
		    (r = get_u16(entry, "wss_port", &n->wss_port, 0, ctx, err, errlen)) < 0 ||
		    (r = get_str(entry, "hostname", &host, 0, ctx, err, errlen)) < 0 ||
		    (r = set_hostname(n, host, ctx, err, errlen)) < 0)
			return r;
		n->is_gateway = 1;
	} else if ((r = get_str(j, "ws_url", &ws, 0, ctx, err, errlen)) < 0) {
		return r;
	} else if (ws) {
		if ((r = parse_ws_url(n, ws, ctx, err, errlen)) < 0)
			return r;
		n->is_gateway = 1;
	} else if (as_gateway && !lenient) {
		return FAIL(NYM_EJSON, "%s: a gateway needs \"ws_url\" or \"entry\"", ctx);
	}
	make_urls(n);
	return 0;
}

static int
same_node(const struct nym_node *a, const struct nym_node *b)
{
	return !memcmp(a->identity, b->identity, 32) && !memcmp(a->sphinx_key, b->sphinx_key, 32) &&
	       !strcmp(a->mix_host, b->mix_host);
}

static int
parse_normalized(struct nym_topology *t, json_t *root, char *err, size_t errlen)
{
	struct nodevec nv = { 0 };
	json_t *layers = json_object_get(root, "layers"), *gws = json_object_get(root, "gateways");
	json_t *ep = json_object_get(root, "epoch"), *kr = json_object_get(root, "key_rotation");
	const char *s;
	int r;

	if (!json_is_object(layers))
		return FAIL(NYM_EJSON, "topology: missing object \"layers\"");
	if (!json_is_array(gws))
		return FAIL(NYM_EJSON, "topology: missing array \"gateways\"");
	if (get_str(root, "source", &s, 0, "topology", err, errlen) < 0 ||
	    (s && copy_str(t->source, sizeof t->source, s, "topology", "source", err, errlen) < 0))
		return NYM_EJSON;
	if (get_str(root, "fetched_at", &s, 0, "topology", err, errlen) < 0 ||
	    (s && copy_str(t->fetched_at, sizeof t->fetched_at, s, "topology", "fetched_at", err, errlen) < 0))
		return NYM_EJSON;
	if (ep && !json_is_null(ep)) {
		if (!json_is_object(ep))
			return FAIL(NYM_EJSON, "topology: \"epoch\" is not an object");
		if (get_u32(ep, "absolute_epoch_id", &t->absolute_epoch_id, 0, "epoch", err, errlen) < 0 ||
		    get_u32(ep, "rewarded_set_epoch_id", &t->rewarded_set_epoch_id, 0, "epoch", err, errlen) < 0 ||
		    get_str(ep, "refreshed_at", &s, 0, "epoch", err, errlen) < 0 ||
		    (s && copy_str(t->refreshed_at, sizeof t->refreshed_at, s, "epoch", "refreshed_at", err, errlen) < 0))
			return NYM_EJSON;
	}
	if (kr && !json_is_null(kr)) {
		uint32_t secs = 0;
		if (!json_is_object(kr))
			return FAIL(NYM_EJSON, "topology: \"key_rotation\" is not an object");
		if (get_u32(kr, "current_rotation_id", &t->rotation_id, 0, "key_rotation", err, errlen) < 0)
			return NYM_EJSON;
		r = get_u32(kr, "validity_epochs", &t->key_rotation.validity_epochs, 0, "key_rotation", err, errlen);
		if (r < 0)
			return r;
		if (r) {
			t->key_rotation.present = 1;
			t->key_rotation.rotation_id = t->rotation_id;
			if (get_u32(kr, "initial_epoch_id", &t->key_rotation.initial_epoch_id, 1, "key_rotation", err, errlen) < 0 ||
			    get_u32(kr, "current_absolute_epoch_id", &t->key_rotation.current_absolute_epoch_id, 1, "key_rotation", err, errlen) < 0 ||
			    get_u32(kr, "current_rotation_starting_epoch", &t->key_rotation.starting_epoch, 1, "key_rotation", err, errlen) < 0 ||
			    get_u32(kr, "current_rotation_ending_epoch", &t->key_rotation.ending_epoch, 1, "key_rotation", err, errlen) < 0 ||
			    get_u32(kr, "epoch_duration_secs", &secs, 1, "key_rotation", err, errlen) < 0 ||
			    get_str(kr, "current_epoch_start", &s, 1, "key_rotation", err, errlen) < 0 ||
			    copy_str(t->key_rotation.epoch_start, sizeof t->key_rotation.epoch_start, s,
				     "key_rotation", "current_epoch_start", err, errlen) < 0)
				return NYM_EJSON;
			t->key_rotation.epoch_secs = secs;
		}
	}
	{
		const char *key;
		json_t *v;
		json_object_foreach(layers, key, v) {
			if (strcmp(key, "1") && strcmp(key, "2") && strcmp(key, "3"))
				return FAIL(NYM_EJSON, "topology: unknown layer \"%.16s\" (layers are 1, 2, 3)", key);
		}
	}
	for (int l = 1; l <= 3; l++) {
		char name[16];
		json_t *a, *x;
		size_t i;
		snprintf(name, sizeof name, "%d", l);
		a = json_object_get(layers, name);
		if (!a || !json_is_array(a)) {
			r = FAIL(a ? NYM_EJSON : NYM_EROUTE, a ? "topology: layer %d is not an array"
							    : "topology: layer %d is missing", l);
			goto bad;
		}
		snprintf(name, sizeof name, "layer %d", l);
		json_array_foreach(a, i, x) {
			struct nym_node *n = nv_push(&nv);
			if (!n) {
				r = FAIL(NYM_ENOMEM, "out of memory");
				goto bad;
			}
			if ((r = parse_doc_node(x, n, 0, 0, name, i, err, errlen)) < 0)
				goto bad;
			n->layer = (uint8_t)l;
			/* a gateway is what the "gateways" list says, whatever the layer entry shows */
			n->is_gateway = 0;
			n->ws_url[0] = n->wss_url[0] = 0;
		}
	}
	/* Mix nodes first: a duplicate id among them is an error. */
	if ((r = finish(t, &nv, "layers", err, errlen)) < 0)
		goto bad;
	nv.v = t->nodes;
	nv.n = nv.cap = t->n_nodes;
	t->nodes = NULL;
	t->n_nodes = 0;
	{
		size_t nmix = nv.n, i;
		json_t *x;
		json_array_foreach(gws, i, x) {
			struct nym_node g, *m;
			struct nym_node key;
			if ((r = parse_doc_node(x, &g, 1, 0, "gateways", i, err, errlen)) < 0)
				goto bad;
			key.node_id = g.node_id;
			m = bsearch(&key, nv.v, nmix, sizeof key, cmp_node);
			if (m) {
				/* also a mix node: the same node seen twice, or a conflict */
				if (!same_node(m, &g)) {
					r = FAIL(NYM_EEXIST, "gateways: node %u conflicts with the mix node of the same id", g.node_id);
					goto bad;
				}
				if (m->is_gateway) {
					r = FAIL(NYM_EEXIST, "gateways: duplicate node id %u", g.node_id);
					goto bad;
				}
				uint8_t layer = m->layer, roles = m->roles;
				json_t *er = json_object_get(x, "epoch_roles");
				*m = g;
				m->layer = layer;
				m->roles |= roles;
				/* on a mix layer this epoch: no gateway role unless stated */
				if (!er || json_is_null(er))
					m->epoch_roles = 0;
				continue;
			}
			if (!(m = nv_push(&nv))) {
				r = FAIL(NYM_ENOMEM, "out of memory");
				goto bad;
			}
			*m = g;
		}
	}
	if ((r = finish(t, &nv, "gateways", err, errlen)) < 0)
		goto bad;
	return nym_topology_validate(t, err, errlen);
bad:
	free(nv.v);
	return r;
}

/* ---- the official custom topology file (serialized NymTopology) ----------- */

static int
parse_custom(struct nym_topology *t, json_t *root, char *err, size_t errlen)
{
	json_t *md = json_object_get(root, "metadata"), *rsj = json_object_get(root, "rewarded_set");
	json_t *nd = json_object_get(root, "node_details"), *v;
	struct nodevec nv = { 0 };
	struct rset rs = { 0 };
	const char *key, *s;
	int r;

	t->rotation_id = U32_MAX_; /* the reference's default when metadata is absent */
	if (md && !json_is_null(md)) {
		if (!json_is_object(md))
			return FAIL(NYM_EJSON, "custom topology: \"metadata\" is not an object");
		if (get_u32(md, "key_rotation_id", &t->rotation_id, 1, "metadata", err, errlen) < 0 ||
		    get_u32(md, "absolute_epoch_id", &t->absolute_epoch_id, 1, "metadata", err, errlen) < 0 ||
		    get_str(md, "refreshed_at", &s, 1, "metadata", err, errlen) < 0 ||
		    copy_str(t->refreshed_at, sizeof t->refreshed_at, s, "metadata", "refreshed_at", err, errlen) < 0)
			return NYM_EJSON;
	}
	if (!json_is_object(rsj))
		return FAIL(NYM_EJSON, "custom topology: missing object \"rewarded_set\"");
	if (!json_is_object(nd))
		return FAIL(NYM_EJSON, "custom topology: missing object \"node_details\"");
	if ((r = parse_rset(rsj, &rs, 1, "rewarded_set", err, errlen)) < 0)
		goto out;
	t->rewarded_set_epoch_id = rs.epoch_id;
	json_object_foreach(nd, key, v) {
		char ctx[64], *end;
		unsigned long id;
		json_t *entry, *sr;
		struct nym_node *n = nv_push(&nv);

		if (!n) {
			r = FAIL(NYM_ENOMEM, "out of memory");
			goto out;
		}
		errno = 0;
		id = strtoul(key, &end, 10);
		if (!*key || *end || errno || id > U32_MAX_ || *key < '0' || *key > '9') {
			r = FAIL(NYM_EJSON, "node_details: key \"%.16s\" is not a node id", key);
			goto out;
		}
		snprintf(ctx, sizeof ctx, "node_details: node %lu", id);
		if (!json_is_object(v)) {
			r = FAIL(NYM_EJSON, "%s: not an object", ctx);
			goto out;
		}
		if ((r = get_u32(v, "node_id", &n->node_id, 1, ctx, err, errlen)) < 0)
			goto out;
		if (n->node_id != id) {
			r = FAIL(NYM_EJSON, "%s: node_id %u differs from its key", ctx, n->node_id);
			goto out;
		}
		if ((r = get_intkey(v, "identity_key", n->identity, ctx, err, errlen)) < 0 ||
		    (r = get_intkey(v, "sphinx_key", n->sphinx_key, ctx, err, errlen)) < 0 ||
		    (r = get_str(v, "mix_host", &s, 1, ctx, err, errlen)) < 0)
			goto out;
		if (nym_topology_parse_host(s, n->ips[0], &n->mix_port)) {
			r = FAIL(NYM_EADDR, "%s: mix_host \"%.64s\" is not IP:PORT", ctx, s);
			goto out;
		}
		n->n_ips = 1;
		n->performance = 100;
		sr = json_object_get(v, "supported_roles");
		if (!json_is_object(sr)) {
			r = FAIL(NYM_EJSON, "%s: missing object \"supported_roles\"", ctx);
			goto out;
		}
		{
			int m, e, x;
			if ((r = get_bool(sr, "mixnode", &m, ctx, err, errlen)) < 0 ||
			    (r = get_bool(sr, "mixnet_entry", &e, ctx, err, errlen)) < 0 ||
			    (r = get_bool(sr, "mixnet_exit", &x, ctx, err, errlen)) < 0)
				goto out;
			n->roles = (uint8_t)((m ? NYM_NODE_MIXNODE : 0) | (e ? NYM_NODE_ENTRY : 0) |
					     (x ? NYM_NODE_EXIT : 0));
		}
		entry = json_object_get(v, "entry");
		if (entry && !json_is_null(entry)) {
			char first[NYM_TOPOLOGY_IPSTR];
			memcpy(first, n->ips[0], sizeof first);
			if (!json_is_object(entry)) {
				r = FAIL(NYM_EJSON, "%s: \"entry\" is not an object", ctx);
				goto out;
			}
			if ((r = get_ips(entry, "ip_addresses", n, ctx, err, errlen)) < 0 ||
			    (r = get_u16(entry, "clients_ws_port", &n->ws_port, 1, ctx, err, errlen)) < 0 ||
			    (r = get_u16(entry, "clients_wss_port", &n->wss_port, 0, ctx, err, errlen)) < 0 ||
			    (r = get_str(entry, "hostname", &s, 0, ctx, err, errlen)) < 0 ||
			    (r = set_hostname(n, s, ctx, err, errlen)) < 0)
				goto out;
			/* mix_host stays the mixing address; the entry IPs are for clients */
			if (strcmp(first, n->ips[0])) {
				if (n->n_ips < NYM_TOPOLOGY_IPS)
					n->n_ips++;
				memmove(n->ips[1], n->ips[0], (n->n_ips - 1) * sizeof n->ips[0]);
				memcpy(n->ips[0], first, sizeof first);
			}
			n->is_gateway = 1;
		}
		if ((r = set_mix_host(n, ctx, err, errlen)) < 0)
			goto out;
		make_urls(n);
	}
	if ((r = finish(t, &nv, "node_details", err, errlen)) < 0)
		goto out;
	apply_rset(t, &rs);
	r = nym_topology_validate(t, err, errlen);
out:
	free(nv.v);
	rset_free(&rs);
	return r;
}

int
nym_topology_parse(struct nym_topology **out, const char *json, size_t len,
                   char *err, size_t errlen)
{
	struct nym_topology *t;
	json_t *root;
	int r;

	*out = NULL;
	if (!(root = load("topology", json, len, err, errlen)))
		return NYM_EJSON;
	if (!(t = topo_new())) {
		json_decref(root);
		return FAIL(NYM_ENOMEM, "out of memory");
	}
	if (json_object_get(root, "layers"))
		r = parse_normalized(t, root, err, errlen);
	else if (json_object_get(root, "node_details"))
		r = parse_custom(t, root, err, errlen);
	else
		r = FAIL(NYM_EJSON, "topology: neither a nym-topology document (\"layers\") nor a custom-mixnet file (\"node_details\")");
	json_decref(root);
	if (r < 0) {
		nym_topology_free(t);
		return r;
	}
	*out = t;
	return 0;
}

/* ---- output ----------------------------------------------------------------- */

static json_t *
jkey58(const uint8_t k[32])
{
	char s[NYM_B58_KEY_MAX];
	nym_base58_encode(s, sizeof s, k, 32);
	return json_string(s);
}

static json_t *
jstr_or_null(const char *s)
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

static json_t *
jips(const struct nym_node *n)
{
	json_t *a = json_array();
	for (unsigned i = 0; i < n->n_ips; i++)
		json_array_append_new(a, json_string(n->ips[i]));
	return a;
}

/* Host name as stored may be "[v6]" when an IP literal was given as host. */
static json_t *
jhostname(const struct nym_node *n)
{
	return jstr_or_null(n->hostname);
}

static json_t *
node_json(const struct nym_node *n, int as_gateway)
{
	json_t *o = json_object();

	json_object_set_new(o, "node_id", json_integer(n->node_id));
	json_object_set_new(o, "identity_key", jkey58(n->identity));
	json_object_set_new(o, "sphinx_key", jkey58(n->sphinx_key));
	json_object_set_new(o, "mix_host", json_string(n->mix_host));
	if (as_gateway)
		json_object_set_new(o, "layer", json_string("gateway"));
	else if (n->layer)
		json_object_set_new(o, "layer", json_integer(n->layer));
	else
		json_object_set_new(o, "layer", json_null());
	json_object_set_new(o, "ws_url", jstr_or_null(n->ws_url));
	json_object_set_new(o, "wss_url", jstr_or_null(n->wss_url));
	json_object_set_new(o, "performance", json_integer(n->performance));
	json_object_set_new(o, "roles", jbits(n->roles, role_names));
	json_object_set_new(o, "epoch_roles", jbits(n->epoch_roles, epoch_role_names));
	json_object_set_new(o, "ip_addresses", jips(n));
	if (n->is_gateway) {
		json_t *e = json_object();
		json_object_set_new(e, "hostname", jhostname(n));
		json_object_set_new(e, "ws_port", json_integer(n->ws_port));
		json_object_set_new(e, "wss_port", n->wss_port ? json_integer(n->wss_port) : json_null());
		json_object_set_new(o, "entry", e);
	} else {
		json_object_set_new(o, "entry", json_null());
	}
	return o;
}

static int
emit(json_t *o, unsigned flags, char **out)
{
	*out = json_dumps(o, (flags & NYM_JSON_PRETTY ? JSON_INDENT(2) : JSON_COMPACT) |
			       JSON_PRESERVE_ORDER);
	json_decref(o);
	return *out ? 0 : NYM_ENOMEM;
}

int
nym_node_dump(const struct nym_node *n, int as_gateway, char **out)
{
	return emit(node_json(n, as_gateway), 0, out);
}

static json_t *
rset_json(const struct nym_topology *t)
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

static const char *
refreshed(const struct nym_topology *t)
{
	return t->refreshed_at[0] ? t->refreshed_at : t->fetched_at[0] ? t->fetched_at
								       : "1970-01-01T00:00:00Z";
}

static json_t *
custom_json(const struct nym_topology *t)
{
	json_t *o = json_object(), *md = json_object(), *nd = json_object();

	json_object_set_new(md, "key_rotation_id", json_integer(t->rotation_id));
	json_object_set_new(md, "absolute_epoch_id", json_integer(t->absolute_epoch_id));
	/* the reference reads RFC 3339 here */
	json_object_set_new(md, "refreshed_at",
			    json_string(t->fetched_at[0] ? t->fetched_at : "1970-01-01T00:00:00Z"));
	json_object_set_new(o, "metadata", md);
	json_object_set_new(o, "rewarded_set", rset_json(t));
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct nym_node *n = &t->nodes[i];
		json_t *x = json_object(), *ik = json_array(), *sk = json_array(), *sr = json_object();
		char id[16];

		for (int b = 0; b < 32; b++) {
			json_array_append_new(ik, json_integer(n->identity[b]));
			json_array_append_new(sk, json_integer(n->sphinx_key[b]));
		}
		json_object_set_new(x, "node_id", json_integer(n->node_id));
		json_object_set_new(x, "mix_host", json_string(n->mix_host));
		if (n->is_gateway) {
			json_t *e = json_object();
			json_object_set_new(e, "ip_addresses", jips(n));
			json_object_set_new(e, "clients_ws_port", json_integer(n->ws_port));
			json_object_set_new(e, "hostname", jhostname(n));
			json_object_set_new(e, "clients_wss_port",
					    n->wss_port ? json_integer(n->wss_port) : json_null());
			json_object_set_new(x, "entry", e);
		} else {
			json_object_set_new(x, "entry", json_null());
		}
		json_object_set_new(x, "identity_key", ik);
		json_object_set_new(x, "sphinx_key", sk);
		json_object_set_new(sr, "mixnode", json_boolean(n->roles & NYM_NODE_MIXNODE));
		json_object_set_new(sr, "mixnet_entry", json_boolean(n->roles & NYM_NODE_ENTRY));
		json_object_set_new(sr, "mixnet_exit", json_boolean(n->roles & NYM_NODE_EXIT));
		json_object_set_new(x, "supported_roles", sr);
		snprintf(id, sizeof id, "%u", n->node_id);
		json_object_set_new(nd, id, x);
	}
	json_object_set_new(o, "node_details", nd);
	return o;
}

static json_t *
normalized_json(const struct nym_topology *t)
{
	json_t *o = json_object(), *ep = json_object(), *kr = json_object(), *layers = json_object();
	json_t *gws = json_array();

	json_object_set_new(o, "source", jstr_or_null(t->source));
	json_object_set_new(o, "fetched_at", jstr_or_null(t->fetched_at));
	json_object_set_new(ep, "absolute_epoch_id", json_integer(t->absolute_epoch_id));
	json_object_set_new(ep, "rewarded_set_epoch_id", json_integer(t->rewarded_set_epoch_id));
	json_object_set_new(ep, "refreshed_at", jstr_or_null(t->refreshed_at));
	json_object_set_new(o, "epoch", ep);
	json_object_set_new(kr, "current_rotation_id", json_integer(t->rotation_id));
	if (t->key_rotation.present) {
		json_object_set_new(kr, "validity_epochs", json_integer(t->key_rotation.validity_epochs));
		json_object_set_new(kr, "initial_epoch_id", json_integer(t->key_rotation.initial_epoch_id));
		json_object_set_new(kr, "current_absolute_epoch_id",
				    json_integer(t->key_rotation.current_absolute_epoch_id));
		json_object_set_new(kr, "current_rotation_starting_epoch",
				    json_integer(t->key_rotation.starting_epoch));
		json_object_set_new(kr, "current_rotation_ending_epoch",
				    json_integer(t->key_rotation.ending_epoch));
		json_object_set_new(kr, "current_epoch_start", json_string(t->key_rotation.epoch_start));
		json_object_set_new(kr, "epoch_duration_secs", json_integer((json_int_t)t->key_rotation.epoch_secs));
	}
	json_object_set_new(o, "key_rotation", kr);
	for (int l = 1; l <= 3; l++) {
		char name[4];
		json_t *a = json_array();
		for (size_t i = 0; i < t->n_nodes; i++)
			if (t->nodes[i].layer == l)
				json_array_append_new(a, node_json(&t->nodes[i], 0));
		snprintf(name, sizeof name, "%d", l);
		json_object_set_new(layers, name, a);
	}
	json_object_set_new(o, "layers", layers);
	for (size_t i = 0; i < t->n_nodes; i++)
		if (t->nodes[i].is_gateway)
			json_array_append_new(gws, node_json(&t->nodes[i], 1));
	json_object_set_new(o, "gateways", gws);
	return o;
}

int
nym_topology_dump(const struct nym_topology *t, enum nym_topology_format fmt,
                  unsigned flags, char **out)
{
	*out = NULL;
	switch (fmt) {
	case NYM_TOPOLOGY_NORMALIZED:
		return emit(normalized_json(t), flags, out);
	case NYM_TOPOLOGY_CUSTOM_MIXNET:
		return emit(custom_json(t), flags, out);
	}
	return NYM_EINVAL;
}

/* ---- nym-api answers from a topology (the serve mode) --------------------- */

static json_t *
perf_json(uint8_t p)
{
	char s[8];
	if (p >= 100)
		return json_string("1");
	if (p % 10 == 0)
		snprintf(s, sizeof s, "0.%u", p / 10);
	else
		snprintf(s, sizeof s, "0.%02u", p);
	return json_string(s);
}

static json_t *
skimmed_json(const struct nym_node *n)
{
	json_t *o = json_object(), *sr = json_object(), *role;

	json_object_set_new(o, "node_id", json_integer(n->node_id));
	json_object_set_new(o, "ed25519_identity_pubkey", jkey58(n->identity));
	json_object_set_new(o, "ip_addresses", jips(n));
	json_object_set_new(o, "mix_port", json_integer(n->mix_port));
	json_object_set_new(o, "x25519_sphinx_pubkey", jkey58(n->sphinx_key));
	if (n->layer >= 1 && n->layer <= 3)
		role = json_pack("{s{si}}", "Mixnode", "layer", (int)n->layer);
	else if (n->epoch_roles & NYM_EPOCH_ENTRY)
		role = json_string("EntryGateway");
	else if (n->epoch_roles & NYM_EPOCH_EXIT)
		role = json_string("ExitGateway");
	else if (n->epoch_roles & NYM_EPOCH_STANDBY)
		role = json_string("Standby");
	else
		role = json_string("Inactive");
	json_object_set_new(o, "role", role);
	json_object_set_new(sr, "mixnode", json_boolean(n->roles & NYM_NODE_MIXNODE));
	json_object_set_new(sr, "entry", json_boolean(n->roles & NYM_NODE_ENTRY));
	json_object_set_new(sr, "exit_nr", json_boolean(n->roles & NYM_NODE_EXIT));
	json_object_set_new(sr, "exit_ipr", json_boolean(n->roles & NYM_NODE_EXIT));
	json_object_set_new(o, "supported_roles", sr);
	if (n->is_gateway) {
		json_t *e = json_object();
		json_object_set_new(e, "hostname", jhostname(n));
		json_object_set_new(e, "ws_port", json_integer(n->ws_port));
		json_object_set_new(e, "wss_port", n->wss_port ? json_integer(n->wss_port) : json_null());
		json_object_set_new(o, "entry", e);
	} else {
		json_object_set_new(o, "entry", json_null());
	}
	json_object_set_new(o, "performance", perf_json(n->performance));
	return o;
}

static int
route_has(enum nym_api_route route, const struct nym_node *n)
{
	switch (route) {
	case NYM_API_ROUTE_MIXNODES_ACTIVE: return n->layer >= 1 && n->layer <= 3;
	case NYM_API_ROUTE_MIXNODES_ALL: return (n->roles & NYM_NODE_MIXNODE) || n->layer;
	case NYM_API_ROUTE_ENTRY_GATEWAYS: return n->is_gateway;
	case NYM_API_ROUTE_EXIT_GATEWAYS: return n->is_gateway && (n->roles & NYM_NODE_EXIT);
	case NYM_API_ROUTE_ALL_NODES: return 1;
	default: return 0;
	}
}

/* Synthesized key-rotation numbers when the topology has none: as nym-api
 * would compute them for 24-epoch rotations of 1 h epochs. */
static void
key_rotation_numbers(const struct nym_topology *t, uint32_t v[6], uint64_t *secs, const char **start)
{
	if (t->key_rotation.present) {
		v[0] = t->key_rotation.validity_epochs;
		v[1] = t->key_rotation.initial_epoch_id;
		v[2] = t->key_rotation.current_absolute_epoch_id;
		v[3] = t->key_rotation.rotation_id;
		v[4] = t->key_rotation.starting_epoch;
		v[5] = t->key_rotation.ending_epoch;
		*secs = t->key_rotation.epoch_secs;
		*start = t->key_rotation.epoch_start;
		return;
	}
	uint32_t rot = t->rotation_id == U32_MAX_ ? 0 : t->rotation_id;
	uint64_t back = (uint64_t)rot * 24;
	uint32_t initial = t->absolute_epoch_id >= back ? (uint32_t)(t->absolute_epoch_id - back) : 0;
	v[0] = 24;
	v[1] = initial;
	v[2] = t->absolute_epoch_id;
	v[3] = rot;
	v[4] = initial + rot * 24;
	v[5] = v[4] + 23;
	*secs = 3600;
	*start = t->fetched_at[0] ? t->fetched_at : "1970-01-01T00:00:00Z";
}

int
nym_topology_api_answer(const struct nym_topology *t, enum nym_api_route route,
                        uint32_t page, uint32_t per_page, char **out)
{
	json_t *o;
	uint32_t v[6];
	uint64_t secs;
	const char *start;

	*out = NULL;
	switch (route) {
	case NYM_API_ROUTE_REWARDED_SET:
		o = rset_json(t);
		break;
	case NYM_API_ROUTE_KEY_ROTATION:
		key_rotation_numbers(t, v, &secs, &start);
		o = json_pack("{s{sisi}sisss{sIsi}s{sisisi}}",
			      "key_rotation_state", "validity_epochs", (int)v[0], "initial_epoch_id", (int)v[1],
			      "current_absolute_epoch_id", (int)v[2], "current_epoch_start", start,
			      "epoch_duration", "secs", (json_int_t)secs, "nanos", 0,
			      "progress", "current_key_rotation_id", (int)v[3],
			      "current_rotation_starting_epoch", (int)v[4],
			      "current_rotation_ending_epoch", (int)v[5]);
		/* json_pack "i" is int: re-set the u32 values exactly */
		if (o) {
			json_object_set_new(json_object_get(o, "key_rotation_state"), "validity_epochs", json_integer(v[0]));
			json_object_set_new(json_object_get(o, "key_rotation_state"), "initial_epoch_id", json_integer(v[1]));
			json_object_set_new(o, "current_absolute_epoch_id", json_integer(v[2]));
			json_object_set_new(json_object_get(o, "progress"), "current_key_rotation_id", json_integer(v[3]));
			json_object_set_new(json_object_get(o, "progress"), "current_rotation_starting_epoch", json_integer(v[4]));
			json_object_set_new(json_object_get(o, "progress"), "current_rotation_ending_epoch", json_integer(v[5]));
		}
		break;
	case NYM_API_ROUTE_EPOCH:
		key_rotation_numbers(t, v, &secs, &start);
		o = json_object();
		json_object_set_new(o, "id", json_integer(t->absolute_epoch_id / 720));
		json_object_set_new(o, "epochs_in_interval", json_integer(720));
		json_object_set_new(o, "current_epoch_start", json_string(start));
		json_object_set_new(o, "current_epoch_id", json_integer(t->absolute_epoch_id % 720));
		json_object_set_new(o, "epoch_length", json_pack("{sIsi}", "secs", (json_int_t)secs, "nanos", 0));
		json_object_set_new(o, "total_elapsed_epochs", json_integer(t->absolute_epoch_id));
		break;
	default: {
		json_t *md = json_object(), *nodes = json_object(), *data = json_array();
		size_t total = 0, from, to;

		for (size_t i = 0; i < t->n_nodes; i++)
			total += (size_t)route_has(route, &t->nodes[i]);
		if (per_page == 0) {
			from = 0;
			to = total;
			page = 0;
		} else {
			from = (size_t)page * per_page;
			to = from + per_page;
			if (from > total)
				from = total;
			if (to > total)
				to = total;
		}
		for (size_t i = 0, k = 0; i < t->n_nodes; i++) {
			if (!route_has(route, &t->nodes[i]))
				continue;
			if (k >= from && k < to)
				json_array_append_new(data, skimmed_json(&t->nodes[i]));
			k++;
		}
		json_object_set_new(md, "status", json_null());
		json_object_set_new(md, "absolute_epoch_id", json_integer(t->absolute_epoch_id));
		json_object_set_new(md, "rotation_id", json_integer(t->rotation_id));
		json_object_set_new(md, "refreshed_at", json_string(refreshed(t)));
		json_object_set_new(nodes, "pagination",
				    json_pack("{sIsIsI}", "total", (json_int_t)total, "page", (json_int_t)page,
					      "size", (json_int_t)(per_page ? per_page : total)));
		json_object_set_new(nodes, "data", data);
		o = json_object();
		json_object_set_new(o, "metadata", md);
		json_object_set_new(o, "nodes", nodes);
	}
	}
	if (!o)
		return NYM_ENOMEM;
	return emit(o, 0, out);
}

/* ---- routes ------------------------------------------------------------------ */

/* Uniform integer in [0, n) from the rng, by rejection (no modulo bias). */
static int
uniform(const struct nym_rng *rng, uint32_t n, uint32_t *out)
{
	uint32_t floor_ = (uint32_t)(0u - n) % n; /* 2^32 mod n */

	for (;;) {
		uint8_t b[4];
		uint32_t x;
		int r = nym_rng_fill(rng, b, 4);
		if (r < 0)
			return r;
		x = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
		if (x >= floor_) {
			*out = x % n;
			return 0;
		}
	}
}

int
nym_topology_route(const struct nym_topology *t, const struct nym_rng *rng,
                   const uint8_t *egress_identity, struct nym_route *rt,
                   char *err, size_t errlen)
{
	const struct nym_node *egress = NULL;
	uint32_t pick;
	int r;

	memset(rt, 0, sizeof *rt);
	for (int l = 1; l <= 3; l++) {
		uint32_t count = 0;
		for (size_t i = 0; i < t->n_nodes; i++)
			count += t->nodes[i].layer == l;
		if (!count)
			return FAIL(NYM_EROUTE, "layer %d is empty: no route", l);
		if ((r = uniform(rng, count, &pick)) < 0)
			return FAIL(r, "randomness: %s", nym_strerror(r));
		for (size_t i = 0; i < t->n_nodes; i++)
			if (t->nodes[i].layer == l && pick-- == 0) {
				rt->hops[rt->n_hops++] = t->nodes[i];
				break;
			}
	}
	if (egress_identity) {
		if (!(egress = nym_topology_find_identity(t, egress_identity))) {
			char s[NYM_B58_KEY_MAX];
			nym_base58_encode(s, sizeof s, egress_identity, 32);
			return FAIL(NYM_EROUTE, "gateway %s is not in the topology", s);
		}
	} else {
		uint32_t count = 0;
		for (size_t i = 0; i < t->n_nodes; i++)
			count += t->nodes[i].is_gateway;
		if (!count)
			return FAIL(NYM_EROUTE, "no gateway in the topology");
		if ((r = uniform(rng, count, &pick)) < 0)
			return FAIL(r, "randomness: %s", nym_strerror(r));
		for (size_t i = 0; i < t->n_nodes; i++)
			if (t->nodes[i].is_gateway && pick-- == 0) {
				egress = &t->nodes[i];
				break;
			}
	}
	rt->hops[rt->n_hops++] = *egress;
	return 0;
}

int
nym_route_dump(const struct nym_route *rt, const char *destination, char **out)
{
	json_t *o = json_object(), *hops = json_array();

	json_object_set_new(o, "destination", jstr_or_null(destination));
	for (size_t i = 0; i < rt->n_hops; i++)
		json_array_append_new(hops, node_json(&rt->hops[i], i + 1 == rt->n_hops &&
							       rt->hops[i].is_gateway));
	json_object_set_new(o, "hops", hops);
	return emit(o, 0, out);
}

int
nym_route_parse(struct nym_route *rt, char *dest, size_t destcap, const char *json, size_t len,
                char *err, size_t errlen)
{
	json_t *root = load("route", json, len, err, errlen), *hops, *x, *d;
	size_t i;
	int r = 0;

	memset(rt, 0, sizeof *rt);
	if (!root)
		return NYM_EJSON;
	hops = json_object_get(root, "hops");
	if (!json_is_array(hops)) {
		r = FAIL(NYM_EJSON, "route: missing array \"hops\"");
		goto out;
	}
	if (json_array_size(hops) < 1 || json_array_size(hops) > NYM_ROUTE_MAX_HOPS) {
		r = FAIL(NYM_EROUTE, "route: %zu hops (1..%d allowed)", json_array_size(hops), NYM_ROUTE_MAX_HOPS);
		goto out;
	}
	json_array_foreach(hops, i, x) {
		json_t *lay = json_is_object(x) ? json_object_get(x, "layer") : NULL;
		if ((r = parse_doc_node(x, &rt->hops[i], 0, 1, "route hop", i, err, errlen)) < 0)
			goto out;
		if (json_is_integer(lay) && json_integer_value(lay) >= 1 && json_integer_value(lay) <= 3)
			rt->hops[i].layer = (uint8_t)json_integer_value(lay);
	}
	rt->n_hops = json_array_size(hops);
	d = json_object_get(root, "destination");
	if (dest && destcap)
		dest[0] = 0;
	if (d && !json_is_null(d)) {
		if (!json_is_string(d)) {
			r = FAIL(NYM_EJSON, "route: \"destination\" is not a string");
			goto out;
		}
		if (dest && (r = copy_str(dest, destcap, json_string_value(d), "route", "destination",
					  err, errlen)) < 0)
			goto out;
	}
out:
	json_decref(root);
	return r;
}
