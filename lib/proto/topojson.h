/* topojson.h — the JSON vocabulary the topology modules share (topology.c,
 * nymapi_doc.c, route.c), not a public API: strict field getters that write
 * one error line naming the context (ctx) and the field; a node's fields
 * (addresses, host names, URLs, performance) normalized as the official
 * client does; the node object of our document; the rewarded set
 * {"epoch_id","layer1".."layer3","entry_gateways","exit_gateways","standby"}.
 * JSON through jansson; objects are parsed with duplicate keys rejected.
 * Getters return 0 or a negative NYM_E* (the get_* with a "required" flag:
 * 1 when present, 0 when absent and optional). */
#ifndef NYM_TOPOJSON_H
#define NYM_TOPOJSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/topology.h"

/* Parse data as one JSON object; NULL (err set, prefixed "what: ") if it is not. */
json_t *nym_tj_load_object(const char *what, const char *data, size_t len, char *err, size_t errlen);

/* Fields of object o; ctx names the object in error lines. */
int nym_tj_get_u32(json_t *o, const char *key, uint32_t *v, int required, const char *ctx,
                   char *err, size_t errlen);
int nym_tj_get_u16(json_t *o, const char *key, uint16_t *v, int required, const char *ctx,
                   char *err, size_t errlen);
int nym_tj_get_str(json_t *o, const char *key, const char **v, int required, const char *ctx,
                   char *err, size_t errlen);
int nym_tj_copy_str(char *dst, size_t cap, const char *s, const char *ctx, const char *key,
                    char *err, size_t errlen);
int nym_tj_get_b58key(json_t *o, const char *key, uint8_t out[32], const char *ctx,
                      char *err, size_t errlen);
int nym_tj_get_intkey(json_t *o, const char *key, uint8_t out[32], const char *ctx,
                      char *err, size_t errlen);
int nym_tj_get_bool(json_t *o, const char *key, int *v, const char *ctx, char *err, size_t errlen);

/* Addresses: ip_norm gives 4 or 6 and the canonical text, 0 if ip is none. */
int nym_tj_ip_norm(const char *ip, char out[NYM_TOPOLOGY_IPSTR]);
int nym_tj_parse_port(const char *s, uint16_t *port);
/* A node's URLs from hostname/ips[0] and the ports; its host name (an IP
 * literal is kept bracketed for v6); mix_host from ips[0] and mix_port. */
void nym_tj_make_urls(struct nym_node *n);
int nym_tj_set_hostname(struct nym_node *n, const char *h, const char *ctx, char *err, size_t errlen);
int nym_tj_set_mix_host(struct nym_node *n, const char *ctx, char *err, size_t errlen);
int nym_tj_get_ips(json_t *o, const char *key, struct nym_node *n, const char *ctx,
                   char *err, size_t errlen);
/* cosmwasm Decimal text in [0, 1] -> floor(100 * p); -1 if it is none. */
int nym_tj_parse_perf(const char *s, uint8_t *out);

/* A growing array of nodes; finish sorts it by id, rejects duplicates and
 * hands it to t. */
struct nym_tj_nodes {
	struct nym_node *v;
	size_t n, cap;
};
struct nym_node *nym_tj_nodes_push(struct nym_tj_nodes *nv);
/* qsort/bsearch order of nodes: by node_id. */
int nym_tj_cmp_node(const void *a, const void *b);
struct nym_topology *nym_tj_topology_new(void);
int nym_tj_nodes_finish(struct nym_topology *t, struct nym_tj_nodes *nv, const char *ctx,
                        char *err, size_t errlen);

/* The rewarded set: ids per role (layer1..3, entry, exit, standby), sorted. */
struct nym_tj_rset {
	uint32_t epoch_id;
	uint32_t *ids[6];
	size_t n[6];
};
void nym_tj_rset_free(struct nym_tj_rset *s);
int nym_tj_parse_rset(json_t *o, struct nym_tj_rset *s, int standby_required, const char *ctx,
                      char *err, size_t errlen);
void nym_tj_apply_rset(struct nym_topology *t, const struct nym_tj_rset *s);
json_t *nym_tj_rset_json(const struct nym_topology *t);

/* A node of our document (lenient: a route hop, only mix_host and sphinx_key
 * required), read and written. */
int nym_tj_parse_doc_node(json_t *j, struct nym_node *n, int as_gateway, int lenient, const char *list,
                          size_t idx, char *err, size_t errlen);
json_t *nym_tj_node_json(const struct nym_node *n, int as_gateway);

/* Output pieces; dumps frees o and gives the compact (or NYM_JSON_PRETTY) text. */
json_t *nym_tj_key_json(const uint8_t k[32]);
json_t *nym_tj_str_or_null(const char *s);
json_t *nym_tj_ips_json(const struct nym_node *n);
json_t *nym_tj_hostname_json(const struct nym_node *n);
int nym_tj_dumps(json_t *o, unsigned flags, char **out);
const char *nym_tj_refreshed(const struct nym_topology *t);

#endif
