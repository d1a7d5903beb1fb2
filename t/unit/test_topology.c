/* test_topology.c — topology parsing, validation, formats and routes, against
 * the nym-api answers the official wasm client 1.4.1 accepted (t/fixtures/api). */
#include <jansson.h>

#include "base/codec.h"
#include "base/err.h"
#include "base/rng.h"
#include "crypto/crypto.h"
#include "proto/nymapi_doc.h"
#include "proto/route.h"
#include "proto/topology.h"
#include "test.h"

static const char *names[4] = {
	"v1_nym-nodes_rewarded-set.json",
	"v2_unstable_nym-nodes_skimmed_mixnodes_active.json",
	"v2_unstable_nym-nodes_skimmed_entry-gateways.json",
	"v1_epoch_key-rotation-info.json",
};
static json_t *fx[4]; /* pristine fixtures */

static const char *
fixdir(void)
{
	const char *d = getenv("NYM_FIXTURES");
	return d ? d : "t/fixtures";
}

/* Build from four JSON documents (any may be NULL = "" or replaced by raw text). */
static int
build(json_t *j[4], const char *raw_mix, struct nym_topology **t, unsigned minperf, char *err)
{
	char *s[4] = { 0 };
	struct nym_text mix, gw;
	struct nym_api_answers a = { 0 };
	struct nym_topology_filter f = { minperf, minperf };
	int r;

	for (int i = 0; i < 4; i++)
		s[i] = j[i] ? json_dumps(j[i], JSON_COMPACT) : NULL;
	a.rewarded_set.data = s[0];
	a.rewarded_set.len = s[0] ? strlen(s[0]) : 0;
	mix.data = raw_mix ? raw_mix : s[1];
	mix.len = mix.data ? strlen(mix.data) : 0;
	gw.data = s[2];
	gw.len = s[2] ? strlen(s[2]) : 0;
	a.mixnodes = &mix;
	a.n_mixnodes = 1;
	a.gateways = &gw;
	a.n_gateways = 1;
	a.key_rotation.data = s[3];
	a.key_rotation.len = s[3] ? strlen(s[3]) : 0;
	err[0] = 0;
	r = nym_topology_from_api(t, &a, &f, err, NYM_TOPOLOGY_ERR_MAX);
	for (int i = 0; i < 4; i++)
		free(s[i]);
	return r;
}

static void
copies(json_t *j[4])
{
	for (int i = 0; i < 4; i++)
		j[i] = json_deep_copy(fx[i]);
}

static void
drop(json_t *j[4])
{
	for (int i = 0; i < 4; i++)
		json_decref(j[i]);
}

static json_t *
mixnode(json_t *j[4], size_t i)
{
	return json_array_get(json_object_get(json_object_get(j[1], "nodes"), "data"), i);
}

static json_t *
gateway(json_t *j[4])
{
	return json_array_get(json_object_get(json_object_get(j[2], "nodes"), "data"), 0);
}

/* Expect failure whose message contains want (and names node if given). */
static void
expect_fail(json_t *j[4], const char *raw, const char *what, const char *want, int code)
{
	struct nym_topology *t = NULL;
	char err[NYM_TOPOLOGY_ERR_MAX];
	int r = build(j, raw, &t, 50, err);

	CHECK(r < 0 && t == NULL && strstr(err, want) != NULL && (code == 0 || r == code),
	      "%s: rejected (%d) with \"%s\"", what, r, err);
	nym_topology_free(t);
	drop(j);
}

static void
test_recorded(void)
{
	json_t *j[4];
	struct nym_topology *t;
	char err[NYM_TOPOLOGY_ERR_MAX];
	uint8_t k[32];

	copies(j);
	CHECK(build(j, NULL, &t, 50, err) == 0, "recorded official answers parse (%s)", err);
	drop(j);
	CHECK(t->n_nodes == 4, "4 nodes");
	CHECK(t->absolute_epoch_id == 1 && t->rotation_id == 0 && t->rewarded_set_epoch_id == 1,
	      "epoch 1, rotation 0");
	CHECK(t->key_rotation.present && t->key_rotation.validity_epochs == 24 &&
	      t->key_rotation.ending_epoch == 24 && t->key_rotation.epoch_secs == 3600 &&
	      !strcmp(t->key_rotation.epoch_start, "2025-11-20T12:00:00Z"), "key-rotation info");
	for (uint32_t id = 1; id <= 3; id++) {
		const struct nym_node *n = nym_topology_find(t, id);
		CHECK(n && n->layer == id && !n->is_gateway && n->roles == NYM_NODE_MIXNODE &&
		      n->performance == 100, "node %u on layer %u", id, id);
	}
	const struct nym_node *g = nym_topology_find(t, 4);
	CHECK(g && g->is_gateway && g->layer == 0 && !strcmp(g->ws_url, "ws://127.0.0.1:9000") &&
	      g->wss_url[0] == 0 && g->epoch_roles == (NYM_EPOCH_ENTRY | NYM_EPOCH_EXIT) &&
	      g->roles == (NYM_NODE_ENTRY | NYM_NODE_EXIT), "node 4 is the gateway at ws://127.0.0.1:9000");
	CHECK(!strcmp(nym_topology_find(t, 1)->mix_host, "127.0.0.1:17891"), "mix_host of node 1");
	CHECK(nym_base58_decode32(k, "GHEgHYSqBxPacAQsHjfjcCb6Q39kUWmM6N5ehQPdSJQN") >= 0 &&
	      memcmp(nym_topology_find(t, 1)->sphinx_key, k, 32) == 0, "sphinx key of node 1");
	CHECK(nym_base58_decode32(k, "9sKSCDHm1jX9XC1zEgjxaqqms6GVe4GNymYHA7HUcDn6") >= 0 &&
	      nym_topology_find_identity(t, k) == g, "gateway found by identity");
	CHECK(nym_topology_find(t, 5) == NULL, "no node 5");
	nym_topology_free(t);
}

static void
test_roundtrips(void)
{
	json_t *j[4];
	struct nym_topology *t, *u, *v;
	char err[NYM_TOPOLOGY_ERR_MAX], *a, *b, *c;

	copies(j);
	build(j, NULL, &t, 50, err);
	drop(j);
	snprintf(t->source, sizeof t->source, "http://127.0.0.1:8080/");
	snprintf(t->fetched_at, sizeof t->fetched_at, "2026-01-01T00:00:00Z");
	CHECK(nym_topology_dump(t, NYM_TOPOLOGY_NORMALIZED, 0, &a) == 0, "normalized dump");
	CHECK(nym_topology_parse(&u, a, strlen(a), err, sizeof err) == 0, "normalized parse (%s)", err);
	CHECK(nym_topology_dump(u, NYM_TOPOLOGY_NORMALIZED, 0, &b) == 0 && !strcmp(a, b),
	      "normalized round trip is exact");
	free(b);
	CHECK(nym_topology_dump(t, NYM_TOPOLOGY_NORMALIZED, NYM_JSON_PRETTY, &b) == 0 &&
	      strchr(b, '\n') != NULL, "pretty form");
	free(b);

	CHECK(nym_topology_dump(t, NYM_TOPOLOGY_CUSTOM_MIXNET, 0, &b) == 0, "custom-mixnet dump");
	json_t *cm = json_loads(b, 0, NULL);
	json_t *n1 = json_object_get(json_object_get(cm, "node_details"), "1");
	CHECK(json_array_size(json_object_get(n1, "identity_key")) == 32 &&
	      json_integer_value(json_array_get(json_object_get(n1, "identity_key"), 0)) == 0xa0,
	      "custom-mixnet keys are arrays of 32 integers");
	CHECK(json_is_null(json_object_get(n1, "entry")) &&
	      json_integer_value(json_object_get(json_object_get(json_object_get(cm, "node_details"), "4"),
					       "entry") ? json_object_get(json_object_get(json_object_get(
						  json_object_get(cm, "node_details"), "4"), "entry"), "clients_ws_port") : NULL) == 9000,
	      "custom-mixnet entry details");
	CHECK(json_integer_value(json_array_get(json_object_get(json_object_get(cm, "rewarded_set"), "layer2"), 0)) == 2,
	      "custom-mixnet rewarded set");
	json_decref(cm);
	CHECK(nym_topology_parse(&v, b, strlen(b), err, sizeof err) == 0, "custom-mixnet parse (%s)", err);
	snprintf(v->source, sizeof v->source, "%s", t->source);
	snprintf(v->fetched_at, sizeof v->fetched_at, "%s", t->fetched_at);
	/* the custom file carries no performance, key-rotation details or refreshed_at */
	v->key_rotation = t->key_rotation;
	snprintf(v->refreshed_at, sizeof v->refreshed_at, "%s", t->refreshed_at);
	CHECK(nym_topology_dump(v, NYM_TOPOLOGY_NORMALIZED, 0, &c) == 0 && !strcmp(a, c),
	      "custom-mixnet round trip keeps every node, key, address and role");
	free(a);
	free(b);
	free(c);
	nym_topology_free(u);
	nym_topology_free(v);

	/* through the serve answers (paged by 1) and back */
	{
		char *rs, *kr, *m[4], *g[4];
		struct nym_text mt[4], gt[4];
		struct nym_api_answers ans = { 0 };
		struct nym_topology *w;
		nym_topology_api_answer(t, NYM_API_ROUTE_REWARDED_SET, 0, 0, &rs);
		nym_topology_api_answer(t, NYM_API_ROUTE_KEY_ROTATION, 0, 0, &kr);
		for (int p = 0; p < 3; p++) {
			nym_topology_api_answer(t, NYM_API_ROUTE_MIXNODES_ACTIVE, (uint32_t)p, 1, &m[p]);
			mt[p].data = m[p];
			mt[p].len = strlen(m[p]);
		}
		nym_topology_api_answer(t, NYM_API_ROUTE_ENTRY_GATEWAYS, 0, 0, &g[0]);
		gt[0].data = g[0];
		gt[0].len = strlen(g[0]);
		ans.rewarded_set.data = rs;
		ans.rewarded_set.len = strlen(rs);
		ans.key_rotation.data = kr;
		ans.key_rotation.len = strlen(kr);
		ans.mixnodes = mt;
		ans.n_mixnodes = 3;
		ans.gateways = gt;
		ans.n_gateways = 1;
		uint32_t total = 0;
		size_t count = 0;
		CHECK(nym_topology_page_info(&mt[1], &total, &count, err, sizeof err) == 0 && total == 3 &&
		      count == 1, "page info: total 3, 1 item");
		CHECK(nym_topology_from_api(&w, &ans, NULL, err, sizeof err) == 0, "serve answers parse (%s)", err);
		snprintf(w->source, sizeof w->source, "%s", t->source);
		snprintf(w->fetched_at, sizeof w->fetched_at, "%s", t->fetched_at);
		CHECK(nym_topology_dump(w, NYM_TOPOLOGY_NORMALIZED, 0, &a) == 0 &&
		      nym_topology_dump(t, NYM_TOPOLOGY_NORMALIZED, 0, &b) == 0 && !strcmp(a, b),
		      "serve answers (3 pages) rebuild the same topology");
		free(a);
		free(b);
		nym_topology_free(w);
		ans.n_mixnodes = 2; /* a page missing */
		CHECK(nym_topology_from_api(&w, &ans, NULL, err, sizeof err) == NYM_ESHORT &&
		      strstr(err, "got 2 nodes but pagination.total says 3"), "missing page detected: %s", err);
		free(rs);
		free(kr);
		free(g[0]);
		for (int p = 0; p < 3; p++)
			free(m[p]);
		nym_topology_free(w);
	}
	nym_topology_free(t);
}

static void
test_validation(void)
{
	json_t *j[4];

	copies(j);
	json_object_del(mixnode(j, 1), "x25519_sphinx_pubkey");
	expect_fail(j, NULL, "missing sphinx key", "node 2: missing field \"x25519_sphinx_pubkey\"", NYM_EJSON);

	copies(j);
	json_object_del(mixnode(j, 0), "node_id");
	expect_fail(j, NULL, "missing node_id", "item 0: missing field \"node_id\"", NYM_EJSON);

	copies(j);
	json_object_del(gateway(j), "performance");
	expect_fail(j, NULL, "missing performance", "node 4: missing field \"performance\"", 0);

	copies(j);
	json_object_del(mixnode(j, 2), "role");
	expect_fail(j, NULL, "missing role", "node 3: missing field \"role\"", 0);

	copies(j);
	json_object_set_new(mixnode(j, 0), "ed25519_identity_pubkey",
			    json_string("BnJTXCcpGDmHgYjD92Tr56TPPFQRuumQ5S4Ps"));
	expect_fail(j, NULL, "short identity", "node 1: \"ed25519_identity_pubkey\" decodes to 27 bytes, not a 32-byte key", NYM_EKEY);

	copies(j);
	json_object_set_new(mixnode(j, 0), "x25519_sphinx_pubkey",
			    json_string("GHEgHYSqBxPacAQsHjfjcCb6Q39kUWmM6N5ehQPdSJQNGHEg"));
	expect_fail(j, NULL, "too long sphinx key", "node 1: \"x25519_sphinx_pubkey\" decodes to 35 bytes, not a 32-byte key", NYM_EKEY);

	copies(j);
	json_object_set_new(gateway(j), "x25519_sphinx_pubkey", json_string("0OIl"));
	expect_fail(j, NULL, "not base58", "node 4: \"x25519_sphinx_pubkey\" is not base58", NYM_EKEY);

	copies(j);
	json_object_set_new(mixnode(j, 1), "ip_addresses", json_pack("[s]", "300.1.1.1"));
	expect_fail(j, NULL, "bad IP", "node 2: \"ip_addresses\"[0] is not an IP address", NYM_EADDR);

	copies(j);
	json_object_set_new(mixnode(j, 1), "ip_addresses", json_array());
	expect_fail(j, NULL, "no IP", "node 2: \"ip_addresses\" is empty", NYM_EADDR);

	copies(j);
	json_object_set_new(mixnode(j, 1), "mix_port", json_integer(70000));
	expect_fail(j, NULL, "bad port", "node 2: \"mix_port\" is not a port number", NYM_EJSON);

	copies(j);
	json_object_set_new(mixnode(j, 1), "performance", json_string("1.5"));
	expect_fail(j, NULL, "performance above 1", "node 2: performance \"1.5\"", NYM_EJSON);

	copies(j);
	json_object_set_new(mixnode(j, 1), "performance", json_real(0.5));
	expect_fail(j, NULL, "performance as a number", "node 2: \"performance\" is not a string", NYM_EJSON);

	copies(j);
	json_object_set_new(mixnode(j, 1), "role", json_string("Boss"));
	expect_fail(j, NULL, "unknown role", "node 2: unknown role \"Boss\"", NYM_EJSON);

	copies(j);
	json_object_set_new(gateway(j), "entry", json_pack("{ss}", "hostname", "bad host/x"));
	expect_fail(j, NULL, "entry without ws_port", "node 4: missing field \"ws_port\"", NYM_EJSON);

	{
		struct nym_topology *t = NULL;
		char err[NYM_TOPOLOGY_ERR_MAX];
		copies(j);
		json_object_set_new(gateway(j), "entry", json_pack("{sssisi}", "hostname", "https://x/y", "ws_port", 9000,
								   "wss_port", 443));
		CHECK(build(j, NULL, &t, 50, err) == 0 && t->n_bad_hostnames == 1 &&
		      nym_topology_find(t, 4)->hostname_dropped &&
		      !strcmp(nym_topology_find(t, 4)->ws_url, "ws://127.0.0.1:9000") &&
		      nym_topology_find(t, 4)->wss_url[0] == 0,
		      "API: an unusable host name is dropped and counted, the gateway reached by IP");
		nym_topology_free(t);
		drop(j);
	}

	copies(j);
	json_object_set_new(gateway(j), "entry", json_null());
	expect_fail(j, NULL, "gateway without entry", "node 4 has no \"entry\" details", NYM_EJSON);

	copies(j);
	json_array_append(json_object_get(json_object_get(j[1], "nodes"), "data"), mixnode(j, 1));
	json_object_set_new(json_object_get(json_object_get(j[1], "nodes"), "pagination"), "total", json_integer(4));
	expect_fail(j, NULL, "duplicate node id", "duplicate node id 2", NYM_EEXIST);

	copies(j);
	json_object_set_new(json_object_get(json_object_get(j[1], "nodes"), "pagination"), "total", json_integer(5));
	expect_fail(j, NULL, "short of pagination.total", "got 3 nodes but pagination.total says 5", NYM_ESHORT);

	copies(j);
	json_object_set_new(j[0], "layer2", json_array());
	expect_fail(j, NULL, "empty layer", "layer 2 is empty", NYM_EROUTE);

	copies(j);
	json_array_append_new(json_object_get(j[0], "layer3"), json_integer(1));
	expect_fail(j, NULL, "node on two layers", "node id 1 is in both \"layer1\" and \"layer3\"", NYM_EEXIST);

	copies(j);
	json_array_append_new(json_object_get(j[0], "layer1"), json_integer(1));
	expect_fail(j, NULL, "duplicate in a layer", "duplicate node id 1 in \"layer1\"", NYM_EEXIST);

	copies(j);
	json_object_del(j[0], "layer3");
	expect_fail(j, NULL, "rewarded set without layer3", "missing field \"layer3\"", NYM_EJSON);

	copies(j);
	json_object_set_new(json_object_get(j[2], "metadata"), "rotation_id", json_integer(7));
	expect_fail(j, NULL, "metadata mismatch", "disagree on the epoch", NYM_EPROTO);

	copies(j);
	json_object_set_new(json_object_get(j[1], "metadata"), "status", json_string("no-updates"));
	expect_fail(j, NULL, "no-updates", "no-updates", NYM_EPROTO);

	copies(j);
	json_object_del(j[1], "metadata");
	expect_fail(j, NULL, "no metadata", "missing field \"metadata\"", NYM_EJSON);

	copies(j);
	json_object_del(json_object_get(j[3], "progress"), "current_key_rotation_id");
	expect_fail(j, NULL, "key rotation incomplete", "missing field \"current_key_rotation_id\"", NYM_EJSON);

	copies(j);
	expect_fail(j, "{\"metadata\": {\"status\": null, \"absolute_ep", "truncated JSON", "invalid JSON at line 1", NYM_EJSON);
	copies(j);
	expect_fail(j, "<html>502 Bad Gateway</html>", "HTML", "invalid JSON", NYM_EJSON);
	copies(j);
	expect_fail(j, "[1,2]", "an array", "not a JSON object", NYM_EJSON);
	copies(j);
	expect_fail(j, "", "empty answer", "empty answer", NYM_EJSON);
	copies(j);
	expect_fail(j, "{\"a\":1,\"a\":2}", "duplicate keys", "invalid JSON", NYM_EJSON);
}

static void
test_performance(void)
{
	struct { const char *s; int want; } v[] = {
		{ "1", 100 }, { "0.97", 97 }, { "0.987654321", 98 }, { "0", 0 }, { "1.0", 100 },
		{ "0.5", 50 }, { "0.499999", 49 }, { "0.05", 5 }, { "1.01", -1 }, { "2", -1 },
		{ ".5", -1 }, { "0.", -1 }, { "-0.5", -1 }, { "0.5x", -1 }, { "0.1234567890123456789", -1 },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		json_t *j[4];
		struct nym_topology *t = NULL;
		char err[NYM_TOPOLOGY_ERR_MAX];
		copies(j);
		json_object_set_new(mixnode(j, 0), "performance", json_string(v[i].s));
		int r = build(j, NULL, &t, 0, err);
		if (v[i].want < 0)
			CHECK(r < 0, "performance \"%s\" rejected", v[i].s);
		else
			CHECK(r == 0 && nym_topology_find(t, 1)->performance == v[i].want,
			      "performance \"%s\" scores %d", v[i].s, v[i].want);
		nym_topology_free(t);
		drop(j);
	}
	/* the filter: 0.49 is below 50 and empties layer 1; with threshold 49 it stays */
	json_t *j[4];
	struct nym_topology *t = NULL;
	char err[NYM_TOPOLOGY_ERR_MAX];
	copies(j);
	json_object_set_new(mixnode(j, 0), "performance", json_string("0.49"));
	CHECK(build(j, NULL, &t, 50, err) == NYM_EROUTE && strstr(err, "layer 1 is empty") &&
	      strstr(err, "performance filter"), "node below 50 filtered: %s", err);
	CHECK(build(j, NULL, &t, 49, err) == 0 && t->n_nodes == 4, "kept at --min-performance 49");
	nym_topology_free(t);
	drop(j);
	copies(j);
	json_object_set_new(gateway(j), "performance", json_string("0.2"));
	CHECK(build(j, NULL, &t, 50, err) == NYM_EROUTE && strstr(err, "no gateway"),
	      "gateway below 50 filtered: %s", err);
	drop(j);
}

/* A normalized document: n nodes on each layer, 2 gateways (one IPv6, one with TLS). */
static char *
doc(int per_layer)
{
	json_t *o = json_object(), *layers = json_object(), *gws = json_array();
	uint8_t k[32];
	char s[NYM_B58_KEY_MAX], host[64];

	for (int l = 1; l <= 3; l++) {
		json_t *a = json_array();
		for (int i = 0; i < per_layer; i++) {
			uint32_t id = (uint32_t)(l * 10 + i);
			json_t *n = json_object();
			json_object_set_new(n, "node_id", json_integer(id));
			memset(k, (int)id, 32);
			nym_base58_encode(s, sizeof s, k, 32);
			json_object_set_new(n, "identity_key", json_string(s));
			k[0] ^= 0xff;
			nym_base58_encode(s, sizeof s, k, 32);
			json_object_set_new(n, "sphinx_key", json_string(s));
			snprintf(host, sizeof host, "10.0.%d.%d:1789", l, i);
			json_object_set_new(n, "mix_host", json_string(host));
			json_array_append_new(a, n);
		}
		snprintf(host, sizeof host, "%d", l);
		json_object_set_new(layers, host, a);
	}
	for (int g = 0; g < 2; g++) {
		json_t *n = json_object();
		json_object_set_new(n, "node_id", json_integer(100 + g));
		memset(k, 100 + g, 32);
		nym_base58_encode(s, sizeof s, k, 32);
		json_object_set_new(n, "identity_key", json_string(s));
		k[1] ^= 0xff;
		nym_base58_encode(s, sizeof s, k, 32);
		json_object_set_new(n, "sphinx_key", json_string(s));
		if (g == 0) {
			json_object_set_new(n, "mix_host", json_string("[2001:db8::7]:1789"));
			json_object_set_new(n, "ws_url", json_string("ws://[2001:db8::7]:9000"));
		} else {
			json_object_set_new(n, "mix_host", json_string("192.0.2.1:1789"));
			json_object_set_new(n, "entry", json_pack("{sssisi}", "hostname", "gw.example.net",
								  "ws_port", 9000, "wss_port", 9001));
		}
		json_array_append_new(gws, n);
	}
	json_object_set_new(o, "layers", layers);
	json_object_set_new(o, "gateways", gws);
	char *out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return out;
}

static void
expect_doc_fail(const char *json, const char *what, const char *want)
{
	struct nym_topology *t = NULL;
	char err[NYM_TOPOLOGY_ERR_MAX] = "";
	int r = nym_topology_parse(&t, json, strlen(json), err, sizeof err);
	CHECK(r < 0 && !t && strstr(err, want), "%s: rejected with \"%s\"", what, err);
	nym_topology_free(t);
}

static void
test_document(void)
{
	struct nym_topology *t;
	char err[NYM_TOPOLOGY_ERR_MAX] = "", *d = doc(2), *bad;

	CHECK(nym_topology_parse(&t, d, strlen(d), err, sizeof err) == 0, "hand-written document (%s)", err);
	const struct nym_node *g6 = nym_topology_find(t, 100), *gt = nym_topology_find(t, 101);
	CHECK(g6 && !strcmp(g6->mix_host, "[2001:db8::7]:1789") && !strcmp(g6->ws_url, "ws://[2001:db8::7]:9000") &&
	      g6->ws_port == 9000 && g6->wss_url[0] == 0, "IPv6 gateway: bracketed mix_host and ws_url");
	CHECK(gt && !strcmp(gt->ws_url, "ws://gw.example.net:9000") &&
	      !strcmp(gt->wss_url, "wss://gw.example.net:9001"), "hostname gateway: ws and wss URLs");
	CHECK(nym_topology_find(t, 10)->performance == 100 && nym_topology_find(t, 10)->roles == NYM_NODE_MIXNODE,
	      "defaults: performance 100, role mixnode");
	nym_topology_free(t);
	free(d);

	expect_doc_fail("{\"layers\":{}}", "no gateways", "missing array \"gateways\"");
	{
		json_t *o = json_loads(d = doc(1), 0, NULL);
		free(d);
		json_object_set_new(json_object_get(json_array_get(json_object_get(o, "gateways"), 1), "entry"),
				    "hostname", json_string("bad host/x"));
		bad = json_dumps(o, 0);
		expect_doc_fail(bad, "bad host name in a document", "gateways: node 101: hostname \"bad host/x\"");
		free(bad);
		json_decref(o);
	}
	expect_doc_fail("{\"gateways\":[]}", "neither format", "neither a nym-topology document");
	d = doc(1);
	/* layer 2 emptied */
	{
		json_t *o = json_loads(d, 0, NULL);
		json_object_set_new(json_object_get(o, "layers"), "2", json_array());
		bad = json_dumps(o, 0);
		expect_doc_fail(bad, "empty layer", "layer 2 is empty");
		free(bad);
		json_decref(o);
	}
	{
		json_t *o = json_loads(d, 0, NULL);
		json_array_append(json_object_get(json_object_get(o, "layers"), "2"),
				  json_array_get(json_object_get(json_object_get(o, "layers"), "1"), 0));
		bad = json_dumps(o, 0);
		expect_doc_fail(bad, "same node on two layers", "duplicate node id 10");
		free(bad);
		json_decref(o);
	}
	{
		json_t *o = json_loads(d, 0, NULL);
		json_array_append(json_object_get(o, "gateways"), json_array_get(json_object_get(o, "gateways"), 0));
		bad = json_dumps(o, 0);
		expect_doc_fail(bad, "duplicate gateway", "duplicate node id 100");
		free(bad);
		json_decref(o);
	}
	{
		json_t *o = json_loads(d, 0, NULL);
		json_object_set_new(json_array_get(json_object_get(o, "gateways"), 0), "sphinx_key", json_string("abc"));
		bad = json_dumps(o, 0);
		expect_doc_fail(bad, "short key in the document", "gateways: node 100: \"sphinx_key\" decodes to");
		free(bad);
		json_decref(o);
	}
	{
		json_t *o = json_loads(d, 0, NULL);
		json_object_set_new(json_array_get(json_object_get(json_object_get(o, "layers"), "3"), 0),
				    "mix_host", json_string("example.com:1789"));
		bad = json_dumps(o, 0);
		expect_doc_fail(bad, "host name as mix_host", "layer 3: node 30: mix_host \"example.com:1789\" is not IP:PORT");
		free(bad);
		json_decref(o);
	}
	{
		json_t *o = json_loads(d, 0, NULL);
		json_object_del(json_array_get(json_object_get(o, "gateways"), 0), "ws_url");
		bad = json_dumps(o, 0);
		expect_doc_fail(bad, "gateway without ws_url", "a gateway needs \"ws_url\" or \"entry\"");
		free(bad);
		json_decref(o);
	}
	{
		/* a node on layer 1 that is also a gateway: listed twice, read back the same */
		json_t *o = json_loads(d, 0, NULL), *g = json_deep_copy(json_array_get(
			json_object_get(json_object_get(o, "layers"), "1"), 0));
		struct nym_topology *t2;
		char *x = NULL, *y = NULL;
		json_object_set_new(g, "ws_url", json_string("ws://10.0.1.0:9000"));
		json_array_append_new(json_object_get(o, "gateways"), g);
		bad = json_dumps(o, 0);
		CHECK(nym_topology_parse(&t2, bad, strlen(bad), err, sizeof err) == 0 &&
		      nym_topology_find(t2, 10)->layer == 1 && nym_topology_find(t2, 10)->is_gateway &&
		      nym_topology_find(t2, 10)->epoch_roles == 0, "mix node that is also a gateway (%s)", err);
		nym_topology_dump(t2, NYM_TOPOLOGY_NORMALIZED, 0, &x);
		nym_topology_free(t2);
		CHECK(nym_topology_parse(&t2, x, strlen(x), err, sizeof err) == 0 &&
		      nym_topology_dump(t2, NYM_TOPOLOGY_NORMALIZED, 0, &y) == 0 && !strcmp(x, y),
		      "... and its document round-trips (%s)", err);
		free(y);
		nym_topology_dump(t2, NYM_TOPOLOGY_CUSTOM_MIXNET, 0, &y);
		nym_topology_free(t2);
		CHECK(nym_topology_parse(&t2, y, strlen(y), err, sizeof err) == 0 && nym_topology_find(t2, 10)->is_gateway &&
		      nym_topology_find(t2, 10)->layer == 1, "... and its custom-mixnet file too (%s)", err);
		nym_topology_free(t2);
		free(x);
		free(y);
		free(bad);
		/* stated as an entry gateway while on a layer: contradiction */
		json_object_set_new(g, "epoch_roles", json_pack("[s]", "entry"));
		bad = json_dumps(o, 0);
		expect_doc_fail(bad, "layer and entry role at once", "node 10 is on layer 1 and also has a gateway");
		free(bad);
		json_decref(o);
	}
	free(d);
	expect_doc_fail("{\"rewarded_set\":{\"epoch_id\":0,\"entry_gateways\":[],\"exit_gateways\":[],\"layer1\":[],"
			"\"layer2\":[],\"layer3\":[],\"standby\":[]},\"node_details\":{\"1\":{\"node_id\":2}}}",
			"custom file: key and node_id differ", "node_id 2 differs from its key");
	expect_doc_fail("{\"rewarded_set\":{\"epoch_id\":0,\"entry_gateways\":[],\"exit_gateways\":[],\"layer1\":[],"
			"\"layer2\":[],\"layer3\":[],\"standby\":[]},\"node_details\":{\"1\":{\"node_id\":1,"
			"\"mix_host\":\"1.2.3.4:1\",\"identity_key\":[1,2,3],\"sphinx_key\":[]}}}",
			"custom file: 3-byte key", "\"identity_key\" has 3 bytes");
}

static void
test_routes(void)
{
	struct nym_topology *t;
	struct nym_route r, back;
	struct nym_rng_fixed st;
	struct nym_rng rng;
	char err[NYM_TOPOLOGY_ERR_MAX] = "", *d = doc(3), *s, dest[200];
	uint8_t gw[32];

	nym_topology_parse(&t, d, strlen(d), err, sizeof err);
	free(d);
	/* 3 nodes a layer: 2^32 mod 3 = 1, so the draw 0 is rejected and redrawn */
	static const uint8_t bytes[] = {
		0, 0, 0, 0, 5, 0, 0, 0, /* layer 1: reject 0, then 5 % 3 = 2 -> node 12 */
		1, 0, 0, 0,             /* layer 2: 1 -> node 21 */
		3, 0, 0, 0,             /* layer 3: 3 % 3 = 0 -> node 30 */
		1, 0, 0, 0,             /* gateways: 1 % 2 -> node 101 */
	};
	rng = nym_rng_fixed(&st, bytes, sizeof bytes);
	CHECK(nym_route_choose(t, &rng, NULL, &r, err, sizeof err) == 0 && r.n_hops == 4,
	      "route with a fixed rng (%s)", err);
	CHECK(r.hops[0].node_id == 12 && r.hops[1].node_id == 21 && r.hops[2].node_id == 30 &&
	      r.hops[3].node_id == 101 && st.pos == sizeof bytes,
	      "uniform picks with rejection: 12, 21, 30, gateway 101 (%u %u %u %u)", r.hops[0].node_id,
	      r.hops[1].node_id, r.hops[2].node_id, r.hops[3].node_id);

	memset(gw, 100, 32);
	rng = nym_rng_fixed(&st, bytes + 4, 12);
	CHECK(nym_route_choose(t, &rng, gw, &r, err, sizeof err) == 0 && r.hops[3].node_id == 100 &&
	      r.hops[0].node_id == 12, "egress by the recipient's gateway identity");
	CHECK(nym_route_dump(&r, "a.b@c", &s) == 0, "route dump");
	json_t *o = json_loads(s, 0, NULL);
	CHECK(!strcmp(json_string_value(json_object_get(o, "destination")), "a.b@c") &&
	      json_array_size(json_object_get(o, "hops")) == 4 &&
	      !strcmp(json_string_value(json_object_get(json_array_get(json_object_get(o, "hops"), 3), "layer")), "gateway") &&
	      json_integer_value(json_object_get(json_array_get(json_object_get(o, "hops"), 0), "layer")) == 1 &&
	      !strcmp(json_string_value(json_object_get(json_array_get(json_object_get(o, "hops"), 3), "mix_host")),
		      "[2001:db8::7]:1789"), "route JSON: destination, layers 1..3 then gateway, IPv6 host");
	json_decref(o);
	CHECK(nym_route_parse(&back, dest, sizeof dest, s, strlen(s), err, sizeof err) == 0 &&
	      back.n_hops == 4 && !strcmp(dest, "a.b@c") &&
	      !memcmp(back.hops[2].sphinx_key, r.hops[2].sphinx_key, 32) &&
	      !strcmp(back.hops[3].mix_host, r.hops[3].mix_host), "route parse reads it back (%s)", err);
	free(s);
	const char *minimal = "{\"hops\":[{\"mix_host\":\"127.0.0.1:1\",\"sphinx_key\":\"GHEgHYSqBxPacAQsHjfjcCb6Q39kUWmM6N5ehQPdSJQN\",\"x\":1}]}";
	CHECK(nym_route_parse(&back, dest, sizeof dest, minimal, strlen(minimal), err, sizeof err) == 0 &&
	      back.n_hops == 1 && dest[0] == 0, "a minimal route (mix_host + sphinx_key) is enough");
	const char *six = "{\"hops\":[{},{},{},{},{},{}]}";
	CHECK(nym_route_parse(&back, dest, sizeof dest, six, strlen(six), err, sizeof err) == NYM_EROUTE,
	      "six hops rejected");

	memset(gw, 7, 32);
	rng = nym_rng_fixed(&st, bytes + 4, 12);
	CHECK(nym_route_choose(t, &rng, gw, &r, err, sizeof err) == NYM_EROUTE &&
	      strstr(err, "is not in the topology"), "unknown gateway: %s", err);
	rng = nym_rng_fixed(&st, bytes, 2);
	CHECK(nym_route_choose(t, &rng, NULL, &r, err, sizeof err) == NYM_ESHORT, "rng failure is passed on");

	/* distribution: with the system rng each layer-1 node is chosen */
	{
		int seen[3] = { 0 };
		struct nym_rng sys = nym_rng_system();
		for (int i = 0; i < 300; i++)
			if (nym_route_choose(t, &sys, NULL, &r, err, sizeof err) == 0)
				seen[r.hops[0].node_id - 10]++;
		CHECK(seen[0] > 50 && seen[1] > 50 && seen[2] > 50, "all layer-1 nodes drawn (%d %d %d)",
		      seen[0], seen[1], seen[2]);
	}
	nym_topology_free(t);
}

static void
test_hosts(void)
{
	char ip[NYM_TOPOLOGY_IPSTR], out[NYM_TOPOLOGY_HOST];
	uint16_t port;

	CHECK(nym_topology_parse_host("[::1]:1789", ip, &port) == 0 && !strcmp(ip, "::1") && port == 1789, "[::1]:1789");
	CHECK(nym_topology_parse_host("127.0.0.1:0", ip, &port) == 0 && port == 0, "127.0.0.1:0");
	CHECK(nym_topology_parse_host("::1:1789", ip, &port) < 0, "unbracketed IPv6 rejected");
	CHECK(nym_topology_parse_host("1.2.3.4:65536", ip, &port) < 0, "port 65536 rejected");
	CHECK(nym_topology_parse_host("host:1", ip, &port) < 0, "host name rejected");
	CHECK(nym_topology_format_host(out, sizeof out, "2001:0db8:0:0::1", 9) == 0 &&
	      !strcmp(out, "[2001:db8::1]:9"), "IPv6 normalized and bracketed: %s", out);
}

int
main(void)
{
	for (int i = 0; i < 4; i++) {
		char path[512];
		json_error_t je;
		snprintf(path, sizeof path, "%s/api/%s", fixdir(), names[i]);
		if (!(fx[i] = json_load_file(path, 0, &je))) {
			printf("Bail out! cannot read %s: %s\n", path, je.text);
			return 1;
		}
	}
	test_recorded();
	test_roundtrips();
	test_validation();
	test_performance();
	test_document();
	test_routes();
	test_hosts();
	for (int i = 0; i < 4; i++)
		json_decref(fx[i]);
	return t_done();
}
