/* nymapi.h — the I/O layer under topology: fetch the nym-api answers the
 * official client fetches (doc/spec/topology.md §2) over HTTP(S) with libcurl and
 * hand them to nym_topology_from_api().
 *
 * TLS certificates are verified; connect and total timeouts bound every
 * request; transport failures, HTTP 429 and 5xx are retried with exponential
 * backoff; libcurl honours the proxy variables (http_proxy, https_proxy,
 * no_proxy, ...). Errors name the URL and what failed (HTTP status or curl's
 * words). Responses are JSON: we never ask for bincode. */
#ifndef NYM_NYMAPI_H
#define NYM_NYMAPI_H

#include <stddef.h>

#include "proto/nymapi_doc.h"

/* What the official clients use on mainnet (network-defaults/src/mainnet.rs). */
#define NYM_API_DEFAULT_URL "https://validator.nymtech.net/api/"

struct nym_api_opts {
	const char *base_url;     /* e.g. "http://127.0.0.1:8080/"; "/" appended if missing */
	long connect_timeout_ms;  /* 0: 10 s */
	long timeout_ms;          /* per request, whole transfer; 0: 60 s */
	int retries;              /* extra attempts after a retryable failure; <0: 0; default 3 via NYM_API_OPTS_DEFAULT */
	long backoff_ms;          /* first pause between attempts, doubled each time; 0: 500 ms */
	size_t max_body;          /* largest answer accepted; 0: 64 MiB */
	const char *user_agent;   /* NULL: "nymkit/<version>" */
	long read_timeout_ms;     /* a connection that brings no byte for this long is
	                           * given up (a server that accepts and never answers);
	                           * 0: 10 s; whole seconds (libcurl's low-speed check) */
	uint64_t deadline_ms;     /* nym_mono_ms() by which the whole call ends, every
	                           * request, retry and pause included (NYM_ETIMEOUT);
	                           * 0: none beyond the per-request limits */
};
#define NYM_API_OPTS_DEFAULT { NYM_API_DEFAULT_URL, 10000, 60000, 3, 500, 0, NULL, 10000, 0 }

/* GET base_url + route (e.g. "v1/nym-nodes/rewarded-set?page=0"). On success
 * *body is a malloc'd NUL-terminated buffer of *len bytes (a 2xx answer). */
int nym_api_get(const struct nym_api_opts *o, const char *route, char **body, size_t *len,
                char *err, size_t errlen);

/* Fetch the four routes (all pages of the two skimmed ones) and build the
 * topology; source = the base URL, fetched_at = now (UTC, RFC 3339). */
int nym_api_fetch_topology(const struct nym_api_opts *o, const struct nym_topology_filter *f,
                           struct nym_topology **out, char *err, size_t errlen);

/* The same off the caller's thread, so that an event loop never waits on a
 * slow or hung nym-api: start copies o (and its strings); poll returns 0
 * while the fetch runs, 1 with *out set once it succeeded, or its negative
 * code with err filled; free may be called at any time (a running fetch
 * finishes on its own, within o's limits, and is discarded). */
struct nym_api_job;
int nym_api_job_start(struct nym_api_job **out, const struct nym_api_opts *o);
int nym_api_job_poll(struct nym_api_job *j, struct nym_topology **out, char *err, size_t errlen);
void nym_api_job_free(struct nym_api_job *j);

#endif
