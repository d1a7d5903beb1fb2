/* nymapi_doc.c — the nym-api JSON answers: read into a topology (as the
 * official client does) and written from one (the serve mode),
 * doc/spec/topology.md §2-3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/nymapi_doc.h"
#include "proto/topojson.h"

#define U32_MAX_ 4294967295u

#define FAIL(code, ...) nym_err_set(err, errlen, code, __VA_ARGS__)

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
	if ((r = nym_tj_get_u32(md, "absolute_epoch_id", &m->absolute_epoch_id, 1, ctx, err, errlen)) < 0 ||
	    (r = nym_tj_get_u32(md, "rotation_id", &m->rotation_id, 1, ctx, err, errlen)) < 0 ||
	    (r = nym_tj_get_str(md, "refreshed_at", &m->refreshed_at, 0, ctx, err, errlen)) < 0)
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
	if (nym_tj_get_u32(pg, "total", total, 1, ctx, err, errlen) < 0)
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
	json_t *root = nym_tj_load_object(NULL, page->data, page->len, err, errlen), *data;

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

/* One SkimmedNodeV1 (doc/spec/topology.md §3.1). */
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
	if ((r = nym_tj_get_u32(j, "node_id", &n->node_id, 1, ctx, err, errlen)) < 0)
		return r;
	snprintf(ctx, sizeof ctx, "%.60s: node %u", list, n->node_id);
	if ((r = nym_tj_get_b58key(j, "ed25519_identity_pubkey", n->identity, ctx, err, errlen)) < 0 ||
	    (r = nym_tj_get_b58key(j, "x25519_sphinx_pubkey", n->sphinx_key, ctx, err, errlen)) < 0 ||
	    (r = nym_tj_get_ips(j, "ip_addresses", n, ctx, err, errlen)) < 0 ||
	    (r = nym_tj_get_u16(j, "mix_port", &n->mix_port, 1, ctx, err, errlen)) < 0 ||
	    (r = nym_tj_get_str(j, "performance", &perf, 1, ctx, err, errlen)) < 0)
		return r;
	if (nym_tj_parse_perf(perf, &n->performance))
		return FAIL(NYM_EJSON, "%s: performance \"%.32s\" is not a decimal in [0, 1]", ctx, perf);
	if ((r = nym_tj_set_mix_host(n, ctx, err, errlen)) < 0)
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
		    nym_tj_get_u32(mx, "layer", &layer, 1, ctx, err, errlen) < 0 || layer < 1 || layer > 3)
			return FAIL(NYM_EJSON, "%s: \"role\" is neither a role name nor {\"Mixnode\":{\"layer\":1..3}}", ctx);
	}

	sr = json_object_get(j, "supported_roles");
	if (sr && !json_is_null(sr)) {
		int e, nr, ipr;
		if (!json_is_object(sr))
			return FAIL(NYM_EJSON, "%s: \"supported_roles\" is not an object", ctx);
		if ((r = nym_tj_get_bool(sr, "mixnode", &b, ctx, err, errlen)) < 0 ||
		    (r = nym_tj_get_bool(sr, "entry", &e, ctx, err, errlen)) < 0 ||
		    (r = nym_tj_get_bool(sr, "exit_nr", &nr, ctx, err, errlen)) < 0 ||
		    (r = nym_tj_get_bool(sr, "exit_ipr", &ipr, ctx, err, errlen)) < 0)
			return r;
		n->roles = (uint8_t)((b ? NYM_NODE_MIXNODE : 0) | (e ? NYM_NODE_ENTRY : 0) |
				     (nr && ipr ? NYM_NODE_EXIT : 0));
	}

	entry = json_object_get(j, "entry");
	if (entry && !json_is_null(entry)) {
		uint16_t wss = 0;
		if (!json_is_object(entry))
			return FAIL(NYM_EJSON, "%s: \"entry\" is not an object", ctx);
		if ((r = nym_tj_get_u16(entry, "ws_port", &n->ws_port, 1, ctx, err, errlen)) < 0 ||
		    (r = nym_tj_get_u16(entry, "wss_port", &wss, 0, ctx, err, errlen)) < 0 ||
		    (r = nym_tj_get_str(entry, "hostname", &host, 0, ctx, err, errlen)) < 0)
			return r;
		/* Operators type host names freely: one we cannot put into a URL is
		 * dropped (the node stays reachable by IP) and counted, not fatal. */
		if (nym_tj_set_hostname(n, host, ctx, NULL, 0) < 0) {
			n->hostname[0] = 0;
			n->hostname_dropped = 1;
		}
		n->wss_port = wss;
		n->is_gateway = 1;
		nym_tj_make_urls(n);
	}
	return 0;
}

/* All pages of one skimmed route: nodes appended to nv, metadata into m. */
static int
parse_route(const struct nym_text *pages, size_t npages, const char *name, struct nym_tj_nodes *nv,
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
		if (!(root = nym_tj_load_object(ctx, pages[p].data, pages[p].len, err, errlen)))
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
			struct nym_node *n = nym_tj_nodes_push(nv);
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
		qsort(nv->v + start, nv->n - start, sizeof nv->v[0], nym_tj_cmp_node);
		for (size_t i = start + 1; i < nv->n; i++)
			if (nv->v[i].node_id == nv->v[i - 1].node_id)
				return FAIL(NYM_EEXIST, "%s: duplicate node id %u", name, nv->v[i].node_id);
	}
	return 0;
}

static int
parse_key_rotation(struct nym_topology *t, const struct nym_text *kr, char *err, size_t errlen)
{
	const char *ctx = NYM_API_KEY_ROTATION, *start;
	json_t *root = nym_tj_load_object(ctx, kr->data, kr->len, err, errlen), *st, *pr, *dur;
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
	if ((r = nym_tj_get_u32(st, "validity_epochs", &t->key_rotation.validity_epochs, 1, ctx, err, errlen)) < 0 ||
	    (r = nym_tj_get_u32(st, "initial_epoch_id", &t->key_rotation.initial_epoch_id, 1, ctx, err, errlen)) < 0 ||
	    (r = nym_tj_get_u32(root, "current_absolute_epoch_id", &t->key_rotation.current_absolute_epoch_id, 1, ctx, err, errlen)) < 0 ||
	    (r = nym_tj_get_u32(pr, "current_key_rotation_id", &t->key_rotation.rotation_id, 1, ctx, err, errlen)) < 0 ||
	    (r = nym_tj_get_u32(pr, "current_rotation_starting_epoch", &t->key_rotation.starting_epoch, 1, ctx, err, errlen)) < 0 ||
	    (r = nym_tj_get_u32(pr, "current_rotation_ending_epoch", &t->key_rotation.ending_epoch, 1, ctx, err, errlen)) < 0 ||
	    (r = nym_tj_get_u32(dur, "secs", &secs, 1, ctx, err, errlen)) < 0 ||
	    (r = nym_tj_get_str(root, "current_epoch_start", &start, 1, ctx, err, errlen)) < 0 ||
	    (r = nym_tj_copy_str(t->key_rotation.epoch_start, sizeof t->key_rotation.epoch_start, start,
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
	struct nym_tj_nodes mix = { 0 }, gw = { 0 }, all = { 0 };
	struct meta mm = { 0 }, gm = { 0 };
	struct nym_topology *t = NULL;
	struct nym_tj_rset rs = { 0 };
	json_t **keep = NULL, *rsj = NULL;
	size_t nkeep = a->n_mixnodes + a->n_gateways;
	int r;

	*out = NULL;
	if (!filter)
		filter = &def;
	if (!(t = nym_tj_topology_new()) || !(keep = calloc(nkeep + 1, sizeof *keep))) {
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
	if (!(rsj = nym_tj_load_object(NYM_API_REWARDED_SET, a->rewarded_set.data, a->rewarded_set.len, err, errlen))) {
		r = NYM_EJSON;
		goto out;
	}
	if ((r = nym_tj_parse_rset(rsj, &rs, 0, NYM_API_REWARDED_SET, err, errlen)) < 0)
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
			if (!(dst = nym_tj_nodes_push(&all))) {
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
	if ((r = nym_tj_nodes_finish(t, &all, "nodes", err, errlen)) < 0)
		goto out;
	for (size_t i = 0; i < t->n_nodes; i++)
		t->n_bad_hostnames += t->nodes[i].hostname_dropped;
	nym_tj_apply_rset(t, &rs);
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
	nym_tj_rset_free(&rs);
	free(mix.v);
	free(gw.v);
	free(all.v);
	nym_topology_free(t);
	return r;
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
	json_object_set_new(o, "ed25519_identity_pubkey", nym_tj_key_json(n->identity));
	json_object_set_new(o, "ip_addresses", nym_tj_ips_json(n));
	json_object_set_new(o, "mix_port", json_integer(n->mix_port));
	json_object_set_new(o, "x25519_sphinx_pubkey", nym_tj_key_json(n->sphinx_key));
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
		json_object_set_new(e, "hostname", nym_tj_hostname_json(n));
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
		o = nym_tj_rset_json(t);
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
		json_object_set_new(md, "refreshed_at", json_string(nym_tj_refreshed(t)));
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
	return nym_tj_dumps(o, 0, out);
}
