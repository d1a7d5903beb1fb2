/* nymapi_doc.h — the nym-api JSON answers the official client fetches
 * (doc/spec/topology.md §2-3): the skimmed node lists (SkimmedNodeV1 pages), the
 * rewarded set, the key-rotation info and the current epoch. Read into a
 * struct nym_topology the way the official client builds its topology, and
 * written from one (what `nym-topology serve` answers). Pure: bytes in,
 * bytes out; the fetching is io/nymapi.h. */
#ifndef NYM_NYMAPI_DOC_H
#define NYM_NYMAPI_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "proto/topology.h"

/* A text buffer (need not be NUL-terminated). */
struct nym_text {
	const char *data;
	size_t len;
};

/* The nym-api answers the official client fetches (doc/spec/topology.md §2):
 *   rewarded_set   GET v1/nym-nodes/rewarded-set
 *   mixnodes[]     GET v2/unstable/nym-nodes/skimmed/mixnodes/active?page=N
 *   gateways[]     GET v2/unstable/nym-nodes/skimmed/entry-gateways?page=N
 *   key_rotation   GET v1/epoch/key-rotation-info (data NULL: not fetched) */
struct nym_api_answers {
	struct nym_text rewarded_set, key_rotation;
	const struct nym_text *mixnodes;
	size_t n_mixnodes;
	const struct nym_text *gateways;
	size_t n_gateways;
};

/* The API routes, relative to the base URL (which ends in "/"). */
#define NYM_API_REWARDED_SET "v1/nym-nodes/rewarded-set"
#define NYM_API_MIXNODES "v2/unstable/nym-nodes/skimmed/mixnodes/active"
#define NYM_API_GATEWAYS "v2/unstable/nym-nodes/skimmed/entry-gateways"
#define NYM_API_KEY_ROTATION "v1/epoch/key-rotation-info"

/* Look at one page of a skimmed route: pagination.total and the number of
 * items in nodes.data, so a fetcher knows whether to ask for the next page. */
int nym_topology_page_info(const struct nym_text *page, uint32_t *total,
                           size_t *count, char *err, size_t errlen);

/* Build a topology from the API answers as the official client does: every
 * node validated; nodes below the filter's thresholds dropped (counted in
 * n_filtered); pages of a route must agree on metadata, and the mixnode and
 * gateway routes on absolute_epoch_id and rotation_id; layers from the
 * rewarded set; gateways = the nodes of the entry-gateways route. Fails if a
 * layer or the gateway list ends up empty. *out is freed with
 * nym_topology_free. filter NULL: defaults. */
int nym_topology_from_api(struct nym_topology **out, const struct nym_api_answers *a,
                          const struct nym_topology_filter *filter,
                          char *err, size_t errlen);

/* The nym-api answers that would describe t (for `nym-topology serve`).
 * Skimmed routes: items [offset, offset+limit) of the list (limit 0: all),
 * pagination {total, page, size}. */
enum nym_api_route {
	NYM_API_ROUTE_REWARDED_SET,
	NYM_API_ROUTE_MIXNODES_ACTIVE,  /* nodes on layers 1-3 */
	NYM_API_ROUTE_MIXNODES_ALL,     /* every node declaring the mixnode role */
	NYM_API_ROUTE_ENTRY_GATEWAYS,   /* nodes with entry details */
	NYM_API_ROUTE_EXIT_GATEWAYS,    /* gateways declaring exit */
	NYM_API_ROUTE_ALL_NODES,        /* all of them */
	NYM_API_ROUTE_KEY_ROTATION,
	NYM_API_ROUTE_EPOCH,            /* v1/epoch/current */
};
int nym_topology_api_answer(const struct nym_topology *t, enum nym_api_route route,
                            uint32_t page, uint32_t per_page, char **out);

#endif
