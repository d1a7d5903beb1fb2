/* topology.c — the in-memory network: lookups, validation, the performance
 * filter, and our document and the custom-mixnet file parsed and written
 * (doc/spec/topology.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/topojson.h"
#include "proto/topology.h"

#define U32_MAX_ 4294967295u

#define FAIL(code, ...) nym_err_set(err, errlen, code, __VA_ARGS__)

int
nym_topology_format_host(char *out, size_t cap, const char *ip, uint16_t port)
{
	char n[NYM_TOPOLOGY_IPSTR];
	int v = nym_tj_ip_norm(ip, n), w;

	if (!v)
		return NYM_EADDR;
	w = v == 6 ? snprintf(out, cap, "[%s]:%u", n, port) : snprintf(out, cap, "%s:%u", n, port);
	if (w < 0 || (size_t)w >= cap)
		return NYM_ESIZE;
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
		if (nym_tj_ip_norm(tmp, ip) != 6)
			return NYM_EADDR;
		return nym_tj_parse_port(close + 2, port);
	}
	colon = strrchr(host, ':');
	if (!colon || strchr(host, ':') != colon)
		return NYM_EADDR;
	memcpy(tmp, host, (size_t)(colon - host));
	tmp[colon - host] = 0;
	if (nym_tj_ip_norm(tmp, ip) != 4)
		return NYM_EADDR;
	return nym_tj_parse_port(colon + 1, port);
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
	return bsearch(&key, t->nodes, t->n_nodes, sizeof key, nym_tj_cmp_node);
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

static int
same_node(const struct nym_node *a, const struct nym_node *b)
{
	return !memcmp(a->identity, b->identity, 32) && !memcmp(a->sphinx_key, b->sphinx_key, 32) &&
	       !strcmp(a->mix_host, b->mix_host);
}

static int
parse_normalized(struct nym_topology *t, json_t *root, char *err, size_t errlen)
{
	struct nym_tj_nodes nv = { 0 };
	json_t *layers = json_object_get(root, "layers"), *gws = json_object_get(root, "gateways");
	json_t *ep = json_object_get(root, "epoch"), *kr = json_object_get(root, "key_rotation");
	const char *s;
	int r;

	if (!json_is_object(layers))
		return FAIL(NYM_EJSON, "topology: missing object \"layers\"");
	if (!json_is_array(gws))
		return FAIL(NYM_EJSON, "topology: missing array \"gateways\"");
	if (nym_tj_get_str(root, "source", &s, 0, "topology", err, errlen) < 0 ||
	    (s && nym_tj_copy_str(t->source, sizeof t->source, s, "topology", "source", err, errlen) < 0))
		return NYM_EJSON;
	if (nym_tj_get_str(root, "fetched_at", &s, 0, "topology", err, errlen) < 0 ||
	    (s && nym_tj_copy_str(t->fetched_at, sizeof t->fetched_at, s, "topology", "fetched_at", err, errlen) < 0))
		return NYM_EJSON;
	if (ep && !json_is_null(ep)) {
		if (!json_is_object(ep))
			return FAIL(NYM_EJSON, "topology: \"epoch\" is not an object");
		if (nym_tj_get_u32(ep, "absolute_epoch_id", &t->absolute_epoch_id, 0, "epoch", err, errlen) < 0 ||
		    nym_tj_get_u32(ep, "rewarded_set_epoch_id", &t->rewarded_set_epoch_id, 0, "epoch", err, errlen) < 0 ||
		    nym_tj_get_str(ep, "refreshed_at", &s, 0, "epoch", err, errlen) < 0 ||
		    (s && nym_tj_copy_str(t->refreshed_at, sizeof t->refreshed_at, s, "epoch", "refreshed_at", err, errlen) < 0))
			return NYM_EJSON;
	}
	if (kr && !json_is_null(kr)) {
		uint32_t secs = 0;
		if (!json_is_object(kr))
			return FAIL(NYM_EJSON, "topology: \"key_rotation\" is not an object");
		if (nym_tj_get_u32(kr, "current_rotation_id", &t->rotation_id, 0, "key_rotation", err, errlen) < 0)
			return NYM_EJSON;
		r = nym_tj_get_u32(kr, "validity_epochs", &t->key_rotation.validity_epochs, 0, "key_rotation", err, errlen);
		if (r < 0)
			return r;
		if (r) {
			t->key_rotation.present = 1;
			t->key_rotation.rotation_id = t->rotation_id;
			if (nym_tj_get_u32(kr, "initial_epoch_id", &t->key_rotation.initial_epoch_id, 1, "key_rotation", err, errlen) < 0 ||
			    nym_tj_get_u32(kr, "current_absolute_epoch_id", &t->key_rotation.current_absolute_epoch_id, 1, "key_rotation", err, errlen) < 0 ||
			    nym_tj_get_u32(kr, "current_rotation_starting_epoch", &t->key_rotation.starting_epoch, 1, "key_rotation", err, errlen) < 0 ||
			    nym_tj_get_u32(kr, "current_rotation_ending_epoch", &t->key_rotation.ending_epoch, 1, "key_rotation", err, errlen) < 0 ||
			    nym_tj_get_u32(kr, "epoch_duration_secs", &secs, 1, "key_rotation", err, errlen) < 0 ||
			    nym_tj_get_str(kr, "current_epoch_start", &s, 1, "key_rotation", err, errlen) < 0 ||
			    nym_tj_copy_str(t->key_rotation.epoch_start, sizeof t->key_rotation.epoch_start, s,
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
			struct nym_node *n = nym_tj_nodes_push(&nv);
			if (!n) {
				r = FAIL(NYM_ENOMEM, "out of memory");
				goto bad;
			}
			if ((r = nym_tj_parse_doc_node(x, n, 0, 0, name, i, err, errlen)) < 0)
				goto bad;
			n->layer = (uint8_t)l;
			/* a gateway is what the "gateways" list says, whatever the layer entry shows */
			n->is_gateway = 0;
			n->ws_url[0] = n->wss_url[0] = 0;
		}
	}
	/* Mix nodes first: a duplicate id among them is an error. */
	if ((r = nym_tj_nodes_finish(t, &nv, "layers", err, errlen)) < 0)
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
			if ((r = nym_tj_parse_doc_node(x, &g, 1, 0, "gateways", i, err, errlen)) < 0)
				goto bad;
			key.node_id = g.node_id;
			m = bsearch(&key, nv.v, nmix, sizeof key, nym_tj_cmp_node);
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
			if (!(m = nym_tj_nodes_push(&nv))) {
				r = FAIL(NYM_ENOMEM, "out of memory");
				goto bad;
			}
			*m = g;
		}
	}
	if ((r = nym_tj_nodes_finish(t, &nv, "gateways", err, errlen)) < 0)
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
	struct nym_tj_nodes nv = { 0 };
	struct nym_tj_rset rs = { 0 };
	const char *key, *s;
	int r;

	t->rotation_id = U32_MAX_; /* the reference's default when metadata is absent */
	if (md && !json_is_null(md)) {
		if (!json_is_object(md))
			return FAIL(NYM_EJSON, "custom topology: \"metadata\" is not an object");
		if (nym_tj_get_u32(md, "key_rotation_id", &t->rotation_id, 1, "metadata", err, errlen) < 0 ||
		    nym_tj_get_u32(md, "absolute_epoch_id", &t->absolute_epoch_id, 1, "metadata", err, errlen) < 0 ||
		    nym_tj_get_str(md, "refreshed_at", &s, 1, "metadata", err, errlen) < 0 ||
		    nym_tj_copy_str(t->refreshed_at, sizeof t->refreshed_at, s, "metadata", "refreshed_at", err, errlen) < 0)
			return NYM_EJSON;
	}
	if (!json_is_object(rsj))
		return FAIL(NYM_EJSON, "custom topology: missing object \"rewarded_set\"");
	if (!json_is_object(nd))
		return FAIL(NYM_EJSON, "custom topology: missing object \"node_details\"");
	if ((r = nym_tj_parse_rset(rsj, &rs, 1, "rewarded_set", err, errlen)) < 0)
		goto out;
	t->rewarded_set_epoch_id = rs.epoch_id;
	json_object_foreach(nd, key, v) {
		char ctx[64], *end;
		unsigned long id;
		json_t *entry, *sr;
		struct nym_node *n = nym_tj_nodes_push(&nv);

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
		if ((r = nym_tj_get_u32(v, "node_id", &n->node_id, 1, ctx, err, errlen)) < 0)
			goto out;
		if (n->node_id != id) {
			r = FAIL(NYM_EJSON, "%s: node_id %u differs from its key", ctx, n->node_id);
			goto out;
		}
		if ((r = nym_tj_get_intkey(v, "identity_key", n->identity, ctx, err, errlen)) < 0 ||
		    (r = nym_tj_get_intkey(v, "sphinx_key", n->sphinx_key, ctx, err, errlen)) < 0 ||
		    (r = nym_tj_get_str(v, "mix_host", &s, 1, ctx, err, errlen)) < 0)
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
			if ((r = nym_tj_get_bool(sr, "mixnode", &m, ctx, err, errlen)) < 0 ||
			    (r = nym_tj_get_bool(sr, "mixnet_entry", &e, ctx, err, errlen)) < 0 ||
			    (r = nym_tj_get_bool(sr, "mixnet_exit", &x, ctx, err, errlen)) < 0)
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
			if ((r = nym_tj_get_ips(entry, "ip_addresses", n, ctx, err, errlen)) < 0 ||
			    (r = nym_tj_get_u16(entry, "clients_ws_port", &n->ws_port, 1, ctx, err, errlen)) < 0 ||
			    (r = nym_tj_get_u16(entry, "clients_wss_port", &n->wss_port, 0, ctx, err, errlen)) < 0 ||
			    (r = nym_tj_get_str(entry, "hostname", &s, 0, ctx, err, errlen)) < 0 ||
			    (r = nym_tj_set_hostname(n, s, ctx, err, errlen)) < 0)
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
		if ((r = nym_tj_set_mix_host(n, ctx, err, errlen)) < 0)
			goto out;
		nym_tj_make_urls(n);
	}
	if ((r = nym_tj_nodes_finish(t, &nv, "node_details", err, errlen)) < 0)
		goto out;
	nym_tj_apply_rset(t, &rs);
	r = nym_topology_validate(t, err, errlen);
out:
	free(nv.v);
	nym_tj_rset_free(&rs);
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
	if (!(root = nym_tj_load_object("topology", json, len, err, errlen)))
		return NYM_EJSON;
	if (!(t = nym_tj_topology_new())) {
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

int
nym_node_dump(const struct nym_node *n, int as_gateway, char **out)
{
	return nym_tj_dumps(nym_tj_node_json(n, as_gateway), 0, out);
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
	json_object_set_new(o, "rewarded_set", nym_tj_rset_json(t));
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
			json_object_set_new(e, "ip_addresses", nym_tj_ips_json(n));
			json_object_set_new(e, "clients_ws_port", json_integer(n->ws_port));
			json_object_set_new(e, "hostname", nym_tj_hostname_json(n));
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

	json_object_set_new(o, "source", nym_tj_str_or_null(t->source));
	json_object_set_new(o, "fetched_at", nym_tj_str_or_null(t->fetched_at));
	json_object_set_new(ep, "absolute_epoch_id", json_integer(t->absolute_epoch_id));
	json_object_set_new(ep, "rewarded_set_epoch_id", json_integer(t->rewarded_set_epoch_id));
	json_object_set_new(ep, "refreshed_at", nym_tj_str_or_null(t->refreshed_at));
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
				json_array_append_new(a, nym_tj_node_json(&t->nodes[i], 0));
		snprintf(name, sizeof name, "%d", l);
		json_object_set_new(layers, name, a);
	}
	json_object_set_new(o, "layers", layers);
	for (size_t i = 0; i < t->n_nodes; i++)
		if (t->nodes[i].is_gateway)
			json_array_append_new(gws, nym_tj_node_json(&t->nodes[i], 1));
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
		return nym_tj_dumps(normalized_json(t), flags, out);
	case NYM_TOPOLOGY_CUSTOM_MIXNET:
		return nym_tj_dumps(custom_json(t), flags, out);
	}
	return NYM_EINVAL;
}
