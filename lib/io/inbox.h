/* inbox.h — the gateway's persistent state, one SQLite database file (WAL):
 *
 *  - clients: per registered client address (32-byte ed25519 key) the
 *    shared AES-256-GCM-SIV key from the registration handshake, the last
 *    authenticateV2 timestamp accepted (replay guard) and the bandwidth
 *    allowance (bytes, and the UTC day it is valid through);
 *  - messages: pushed-message plaintexts waiting for an offline client,
 *    in arrival order, each with its arrival time (for the 24 h purge).
 *
 * Delivery once: the gateway fetches a batch, hands each message to the
 * socket, and only then deletes it (nym_inbox_delete). Every call is its own
 * transaction, committed before it returns, so a kill -9 loses nothing that
 * was acknowledged (WAL, synchronous=NORMAL: durable across a process crash).
 * The file is created mode 0600 (it holds keys). Not thread-safe: one
 * connection per thread. An I/O layer module: it touches a file. It is the
 * storage of proto/gwserver.h (nym_inbox_gws_storage). */
#ifndef NYM_INBOX_H
#define NYM_INBOX_H

#include <stddef.h>
#include <stdint.h>

struct nym_inbox;

/* Open or create the database at path (parent directory must exist). */
int nym_inbox_open(struct nym_inbox **out, const char *path);
void nym_inbox_close(struct nym_inbox *ib);
/* SQLite's words for the last failure (for a log line); never NULL. */
const char *nym_inbox_errmsg(struct nym_inbox *ib);

/* --- registered clients -------------------------------------------------- */
struct nym_inbox_client {
	uint8_t key[32];
	uint64_t last_auth_ts;       /* 0 = never authenticated */
	int64_t bandwidth;           /* bytes left */
	int64_t bandwidth_day;       /* valid through this UTC day (Unix s / 86400) */
};
/* NYM_ENOTFOUND when the client is not registered. */
int nym_inbox_client_get(struct nym_inbox *ib, const uint8_t client[32], struct nym_inbox_client *c);
/* Registration: store (overwrite) the shared key; keep the timestamp and
 * bandwidth of an existing entry, create a zero allowance otherwise. */
int nym_inbox_client_register(struct nym_inbox *ib, const uint8_t client[32], const uint8_t key[32]);
int nym_inbox_client_set_auth_ts(struct nym_inbox *ib, const uint8_t client[32], uint64_t ts);
int nym_inbox_client_set_bandwidth(struct nym_inbox *ib, const uint8_t client[32],
                                   int64_t bandwidth, int64_t day);
/* ForgetMe: the client's key, state and stored messages are deleted. */
int nym_inbox_client_forget(struct nym_inbox *ib, const uint8_t client[32]);
/* Number of registered clients (or a negative code). */
int64_t nym_inbox_client_count(struct nym_inbox *ib);

/* --- stored messages ----------------------------------------------------- */
/* Store one message for client; *id (may be NULL) receives its id. */
int nym_inbox_store(struct nym_inbox *ib, const uint8_t client[32], const uint8_t *msg, size_t len,
                    uint64_t now, int64_t *id);
struct nym_inbox_msg {
	int64_t id;
	uint8_t *data;               /* malloc'd; nym_inbox_msgs_free */
	size_t len;
};
/* Up to max oldest messages for client with id > after (0 = from the
 * start); returns how many were written to out. */
int nym_inbox_fetch(struct nym_inbox *ib, const uint8_t client[32], int64_t after,
                    struct nym_inbox_msg *out, int max);
void nym_inbox_msgs_free(struct nym_inbox_msg *m, int n);
/* Delete one delivered message (0 also when it was already gone). */
int nym_inbox_delete(struct nym_inbox *ib, int64_t id);
/* Messages waiting for client (or for everyone when client is NULL). */
int64_t nym_inbox_count(struct nym_inbox *ib, const uint8_t *client);
/* Delete messages that arrived before `before` (Unix s); returns how many. */
int64_t nym_inbox_purge(struct nym_inbox *ib, uint64_t before);

/* --- bounds ---------------------------------------------------------------- */
/* At most max registered clients (0: no bound): the storage's registration
 * of a new client past it is NYM_EFULL (proto/gwserver.h refuses it). */
void nym_inbox_set_max_clients(struct nym_inbox *ib, int64_t max);
/* fn learns every change of a client's stored bytes (+len stored, −len
 * delivered, purged or forgotten); at once it is told the bytes stored now,
 * per client. For io/quota.h. NYM_EIO. */
int nym_inbox_observe(struct nym_inbox *ib, void (*fn)(void *arg, const uint8_t client[32], int64_t delta),
    void *arg);

/* --- as the gateway server's storage ------------------------------------- */
/* Fill in proto/gwserver.h's storage table over this inbox (its ctx is ib;
 * error gives nym_inbox_errmsg). */
struct nym_gws_storage;
void nym_inbox_gws_storage(struct nym_inbox *ib, struct nym_gws_storage *st);

#endif
