/* topology.h — the Nym network as a client sees it (doc/spec/topology.md): the
 * nodes of mix layers 1-3 and the gateways, in memory; our normalized
 * document and the official custom-mixnet file parsed into it and written
 * from it. Built from the nym-api answers by proto/nymapi_doc.h; routes
 * through it in proto/route.h; read from a file by io/topofile.h.
 *
 * Pure: bytes in, no files, no sockets, no clocks (callers pass times as
 * strings).
 *
 * Formats understood (nym_topology_parse detects which one it is given):
 *  - our normalized document (doc/topology-document.md; what `nym-topology --json` prints):
 *      {"source","fetched_at","epoch":{...},"key_rotation":{...},
 *       "layers":{"1":[node...],"2":[...],"3":[...]},"gateways":[node...]}
 *  - the official custom topology file (serialized NymTopology, what official
 *    clients load with --custom-mixnet): {"metadata","rewarded_set","node_details"},
 *    keys as JSON arrays of 32 integers, node_details keyed by node id.
 * The nym-api answers go through nym_topology_from_api() (proto/nymapi_doc.h).
 *
 * Every parser (here and in nymapi_doc.h) is strict: a missing field, a key
 * that is not 32 bytes of base58, an IP address that does not parse, a
 * duplicate node id or an empty mix layer is an error, never silently skipped; `err` then holds one line
 * naming the problem and the node. One exception, for the API only: a
 * gateway's free-text host name that is no DNS name or IP literal is dropped
 * (the node is reached by IP, as the official client's fallback) and counted
 * in n_bad_hostnames, so that one operator's typo cannot hide the network. */
#ifndef NYM_TOPOLOGY_H
#define NYM_TOPOLOGY_H

#include <stddef.h>
#include <stdint.h>

#define NYM_TOPOLOGY_ERR_MAX 256       /* size of an error-line buffer */
#define NYM_TOPOLOGY_IPS 4             /* IP addresses kept per node */
#define NYM_TOPOLOGY_IPSTR 46          /* INET6_ADDRSTRLEN */
#define NYM_TOPOLOGY_HOST 56           /* "[v6]:port" + NUL */
#define NYM_TOPOLOGY_HOSTNAME 254      /* DNS name + NUL */
#define NYM_TOPOLOGY_URL 272           /* "wss://" hostname ":" port + NUL */
#define NYM_TOPOLOGY_TIME 64           /* a timestamp string as received */
#define NYM_TOPOLOGY_MIN_PERFORMANCE 50 /* the official clients' default */
#define NYM_TOPOLOGY_DEFAULT_MIX_PORT 1789

/* Supported (declared) roles, from supported_roles: exit = exit_nr && exit_ipr. */
enum { NYM_NODE_MIXNODE = 1, NYM_NODE_ENTRY = 2, NYM_NODE_EXIT = 4 };
/* Gateway roles of this epoch, from the rewarded set (layers are in .layer). */
enum { NYM_EPOCH_ENTRY = 1, NYM_EPOCH_EXIT = 2, NYM_EPOCH_STANDBY = 4 };

struct nym_node {
	uint32_t node_id;
	uint8_t identity[32];     /* Ed25519 public key (base58 in JSON) */
	uint8_t sphinx_key[32];   /* X25519 public key of the current rotation */
	char ips[NYM_TOPOLOGY_IPS][NYM_TOPOLOGY_IPSTR]; /* as announced; [0] mixes */
	unsigned n_ips;
	uint16_t mix_port;
	char mix_host[NYM_TOPOLOGY_HOST];  /* "1.2.3.4:1789" or "[2001:db8::1]:1789" */
	uint8_t layer;            /* 1..3: mix layer this epoch; 0: none */
	uint8_t epoch_roles;      /* NYM_EPOCH_* */
	uint8_t roles;            /* NYM_NODE_* */
	uint8_t performance;      /* floor(100 * performance), 0..100 */
	/* Entry (client-facing websocket) details; is_gateway says they are set. */
	uint8_t is_gateway;
	uint16_t ws_port, wss_port;        /* wss_port 0: no TLS listener */
	char hostname[NYM_TOPOLOGY_HOSTNAME];  /* "" when none announced */
	char ws_url[NYM_TOPOLOGY_URL];     /* ws://hostname|ip:ws_port (IPv6 bracketed) */
	char wss_url[NYM_TOPOLOGY_URL];    /* wss://hostname:wss_port, or "" */
	uint8_t hostname_dropped;          /* the API announced a host name unfit for a URL */
};

struct nym_topology {
	char source[512];                  /* API URL or file name; may be "" */
	char fetched_at[NYM_TOPOLOGY_TIME]; /* RFC 3339, set by the caller; may be "" */
	char refreshed_at[NYM_TOPOLOGY_TIME]; /* from the API metadata; may be "" */
	uint32_t absolute_epoch_id;        /* metadata.absolute_epoch_id */
	uint32_t rewarded_set_epoch_id;    /* rewarded-set epoch_id */
	uint32_t rotation_id;              /* metadata.rotation_id (u32 max: unknown) */
	struct {
		int present;               /* key-rotation info was given */
		uint32_t validity_epochs, initial_epoch_id, current_absolute_epoch_id;
		uint32_t rotation_id, starting_epoch, ending_epoch;
		uint64_t epoch_secs;
		char epoch_start[NYM_TOPOLOGY_TIME];
	} key_rotation;
	struct nym_node *nodes;            /* sorted by node_id, ids unique */
	size_t n_nodes;
	size_t n_filtered;                 /* dropped below the performance threshold */
	size_t n_bad_hostnames;            /* gateways whose announced host name was unusable
	                                      (not a DNS name or IP): reached by IP instead */
};

struct nym_topology_filter {
	unsigned min_mix_performance;      /* 0..100; default 50 */
	unsigned min_gateway_performance;  /* 0..100; default 50 */
};
#define NYM_TOPOLOGY_FILTER_DEFAULT { NYM_TOPOLOGY_MIN_PERFORMANCE, NYM_TOPOLOGY_MIN_PERFORMANCE }

/* Parse a normalized document or a custom-mixnet file (detected by shape),
 * validated like the API answers. */
int nym_topology_parse(struct nym_topology **out, const char *json, size_t len,
                       char *err, size_t errlen);

void nym_topology_free(struct nym_topology *t);

/* Drop the nodes below the thresholds (as nym_topology_from_api does), counting
 * them in n_filtered, then nym_topology_validate. For a topology read from a file. */
int nym_topology_apply_filter(struct nym_topology *t, const struct nym_topology_filter *f,
                              char *err, size_t errlen);

/* Check what a client needs: a node in each of layers 1-3 and a gateway. */
int nym_topology_validate(const struct nym_topology *t, char *err, size_t errlen);

/* Lookups; NULL when absent. */
const struct nym_node *nym_topology_find(const struct nym_topology *t, uint32_t node_id);
const struct nym_node *nym_topology_find_identity(const struct nym_topology *t,
                                                  const uint8_t identity[32]);

/* Output. Each returns 0 and a malloc'd NUL-terminated string in *out. */
enum nym_topology_format {
	NYM_TOPOLOGY_NORMALIZED,    /* our document (doc/topology-document.md) */
	NYM_TOPOLOGY_CUSTOM_MIXNET, /* the official clients' --custom-mixnet file */
};
enum { NYM_JSON_PRETTY = 1 };       /* flags: indent instead of one line */
int nym_topology_dump(const struct nym_topology *t, enum nym_topology_format fmt,
                      unsigned flags, char **out);
/* One node as in the normalized document ({"node_id":..,"layer":1|"gateway"}).
 * as_gateway chooses the "layer" value for a node that is both. */
int nym_node_dump(const struct nym_node *n, int as_gateway, char **out);

/* "ip:port" / "[ipv6]:port" from an IP string; NYM_EADDR if ip is no address. */
int nym_topology_format_host(char *out, size_t cap, const char *ip, uint16_t port);
/* Parse "1.2.3.4:5" or "[::1]:5" into ip + port; NYM_EADDR on failure. */
int nym_topology_parse_host(const char *host, char ip[NYM_TOPOLOGY_IPSTR], uint16_t *port);

#endif
