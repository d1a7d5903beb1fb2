/* inbox.c — the gateway's SQLite store (see inbox.h). */
#include "io/inbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "proto/gwserver.h"

enum {
	S_CGET, S_CREG, S_CTS, S_CBW, S_CDEL, S_MDELC, S_CCOUNT,
	S_STORE, S_FETCH, S_MDEL, S_COUNT, S_COUNTALL, S_PURGE, S_SIZES, S_CSIZE, S_PSIZES, S_MSIZE,
	S_N
};

static const char *const sql[S_N] = {
	[S_CGET] = "SELECT key, last_auth_ts, bandwidth, bandwidth_day FROM clients WHERE address = ?1",
	[S_CREG] = ("INSERT INTO clients (address, key) VALUES (?1, ?2) "
	            "ON CONFLICT(address) DO UPDATE SET key = excluded.key"),
	[S_CTS] = "UPDATE clients SET last_auth_ts = ?2 WHERE address = ?1",
	[S_CBW] = "UPDATE clients SET bandwidth = ?2, bandwidth_day = ?3 WHERE address = ?1",
	[S_CDEL] = "DELETE FROM clients WHERE address = ?1",
	[S_MDELC] = "DELETE FROM messages WHERE address = ?1",
	[S_CCOUNT] = "SELECT count(*) FROM clients",
	[S_STORE] = "INSERT INTO messages (address, arrived, data) VALUES (?1, ?2, ?3)",
	[S_FETCH] = "SELECT id, data FROM messages WHERE address = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
	[S_MDEL] = "DELETE FROM messages WHERE id = ?1",
	[S_COUNT] = "SELECT count(*) FROM messages WHERE address = ?1",
	[S_COUNTALL] = "SELECT count(*) FROM messages",
	[S_PURGE] = "DELETE FROM messages WHERE arrived < ?1",
	[S_SIZES] = "SELECT address, sum(length(data)) FROM messages GROUP BY address",
	[S_CSIZE] = "SELECT sum(length(data)) FROM messages WHERE address = ?1",
	[S_PSIZES] = "SELECT address, sum(length(data)) FROM messages WHERE arrived < ?1 GROUP BY address",
	[S_MSIZE] = "SELECT address, length(data) FROM messages WHERE id = ?1",
};

struct nym_inbox {
	sqlite3 *db;
	sqlite3_stmt *st[S_N];
	int64_t max_clients;   /* 0: no bound */
	void (*observe)(void *arg, const uint8_t client[32], int64_t delta);
	void *observe_arg;
};

/* Hand (address, bytes) rows of s to the observer, negated when neg. */
static int
observe_rows(struct nym_inbox *ib, sqlite3_stmt *s, int neg)
{
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (sqlite3_column_bytes(s, 0) == 32 && ib->observe)
			ib->observe(ib->observe_arg, sqlite3_column_blob(s, 0),
			    neg ? -sqlite3_column_int64(s, 1) : sqlite3_column_int64(s, 1));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : NYM_EIO;
}

void
nym_inbox_set_max_clients(struct nym_inbox *ib, int64_t max)
{
	ib->max_clients = max;
}

int
nym_inbox_observe(struct nym_inbox *ib, void (*fn)(void *arg, const uint8_t client[32], int64_t delta),
    void *arg)
{
	ib->observe = fn;
	ib->observe_arg = arg;
	return fn ? observe_rows(ib, ib->st[S_SIZES], 0) : 0;
}

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS clients ("
	" address BLOB PRIMARY KEY,"
	" key BLOB NOT NULL,"
	" last_auth_ts INTEGER NOT NULL DEFAULT 0,"
	" bandwidth INTEGER NOT NULL DEFAULT 0,"
	" bandwidth_day INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS messages ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" address BLOB NOT NULL,"
	" arrived INTEGER NOT NULL,"
	" data BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS messages_by_address ON messages (address, id);"
	"CREATE INDEX IF NOT EXISTS messages_by_time ON messages (arrived);";

void
nym_inbox_close(struct nym_inbox *ib)
{
	if (!ib)
		return;
	for (int i = 0; i < S_N; i++)
		sqlite3_finalize(ib->st[i]);
	sqlite3_close(ib->db);
	free(ib);
}

int
nym_inbox_open(struct nym_inbox **out, const char *path)
{
	struct nym_inbox *ib;
	int fd;

	*out = NULL;
	/* Create it 0600 ourselves: SQLite would use the umask, and it holds keys. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return NYM_EIO;
	close(fd);
	if (!(ib = calloc(1, sizeof *ib)))
		return NYM_ENOMEM;
	if (sqlite3_open_v2(path, &ib->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(ib->db, 2000) != SQLITE_OK ||
	    sqlite3_exec(ib->db, schema, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	for (int i = 0; i < S_N; i++)
		if (sqlite3_prepare_v3(ib->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &ib->st[i], NULL) !=
		    SQLITE_OK)
			goto fail;
	*out = ib;
	return 0;
fail:
	nym_inbox_close(ib);
	errno = EIO;
	return NYM_EIO;
}

const char *
nym_inbox_errmsg(struct nym_inbox *ib)
{
	return ib && ib->db ? sqlite3_errmsg(ib->db) : "no database";
}

static sqlite3_stmt *
stmt(struct nym_inbox *ib, int i)
{
	sqlite3_reset(ib->st[i]);
	sqlite3_clear_bindings(ib->st[i]);
	return ib->st[i];
}

/* Run a statement that returns no rows. */
static int
run(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : NYM_EIO;
}

int
nym_inbox_client_get(struct nym_inbox *ib, const uint8_t client[32], struct nym_inbox_client *c)
{
	sqlite3_stmt *s = stmt(ib, S_CGET);
	int rc;

	sqlite3_bind_blob(s, 1, client, 32, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(s, 0) != 32) {
			rc = NYM_EFORMAT;
		} else {
			memcpy(c->key, sqlite3_column_blob(s, 0), 32);
			c->last_auth_ts = (uint64_t)sqlite3_column_int64(s, 1);
			c->bandwidth = sqlite3_column_int64(s, 2);
			c->bandwidth_day = sqlite3_column_int64(s, 3);
			rc = 0;
		}
	} else {
		rc = rc == SQLITE_DONE ? NYM_ENOTFOUND : NYM_EIO;
	}
	sqlite3_reset(s);
	return rc;
}

int
nym_inbox_client_register(struct nym_inbox *ib, const uint8_t client[32], const uint8_t key[32])
{
	sqlite3_stmt *s = stmt(ib, S_CREG);
	sqlite3_bind_blob(s, 1, client, 32, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, key, 32, SQLITE_STATIC);
	int rc = run(s);
	sqlite3_clear_bindings(s);
	return rc;
}

int
nym_inbox_client_set_auth_ts(struct nym_inbox *ib, const uint8_t client[32], uint64_t ts)
{
	sqlite3_stmt *s = stmt(ib, S_CTS);
	if (ts > INT64_MAX)
		return NYM_ERANGE;
	sqlite3_bind_blob(s, 1, client, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)ts);
	return run(s);
}

int
nym_inbox_client_set_bandwidth(struct nym_inbox *ib, const uint8_t client[32], int64_t bandwidth,
                               int64_t day)
{
	sqlite3_stmt *s = stmt(ib, S_CBW);
	sqlite3_bind_blob(s, 1, client, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, bandwidth);
	sqlite3_bind_int64(s, 3, day);
	return run(s);
}

int
nym_inbox_client_forget(struct nym_inbox *ib, const uint8_t client[32])
{
	int rc;
	int64_t bytes = 0;
	if (ib->observe) {
		sqlite3_stmt *q = stmt(ib, S_CSIZE);
		sqlite3_bind_blob(q, 1, client, 32, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW)
			bytes = sqlite3_column_int64(q, 0);
		sqlite3_reset(q);
	}
	if (sqlite3_exec(ib->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return NYM_EIO;
	sqlite3_stmt *s = stmt(ib, S_MDELC);
	sqlite3_bind_blob(s, 1, client, 32, SQLITE_STATIC);
	rc = run(s);
	if (rc == 0) {
		s = stmt(ib, S_CDEL);
		sqlite3_bind_blob(s, 1, client, 32, SQLITE_STATIC);
		rc = run(s);
	}
	if (sqlite3_exec(ib->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = NYM_EIO;
	if (rc == 0 && bytes && ib->observe)
		ib->observe(ib->observe_arg, client, -bytes);
	return rc;
}

static int64_t
count(sqlite3_stmt *s)
{
	int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : NYM_EIO;
	sqlite3_reset(s);
	return n;
}

int64_t
nym_inbox_client_count(struct nym_inbox *ib)
{
	return count(stmt(ib, S_CCOUNT));
}

int
nym_inbox_store(struct nym_inbox *ib, const uint8_t client[32], const uint8_t *msg, size_t len,
                uint64_t now, int64_t *id)
{
	sqlite3_stmt *s = stmt(ib, S_STORE);
	int rc;

	if (len > INT32_MAX || now > INT64_MAX)
		return NYM_ESIZE;
	sqlite3_bind_blob(s, 1, client, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	sqlite3_bind_blob(s, 3, len ? msg : (const void *)"", (int)len, SQLITE_STATIC);
	rc = run(s);
	if (rc == 0 && id)
		*id = sqlite3_last_insert_rowid(ib->db);
	if (rc == 0 && ib->observe)
		ib->observe(ib->observe_arg, client, (int64_t)len);
	return rc;
}

int
nym_inbox_fetch(struct nym_inbox *ib, const uint8_t client[32], int64_t after,
                struct nym_inbox_msg *out, int max)
{
	sqlite3_stmt *s = stmt(ib, S_FETCH);
	int n = 0, rc;

	sqlite3_bind_blob(s, 1, client, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, after);
	sqlite3_bind_int(s, 3, max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		size_t len = (size_t)sqlite3_column_bytes(s, 1);
		const void *p = sqlite3_column_blob(s, 1);
		out[n].id = sqlite3_column_int64(s, 0);
		out[n].len = len;
		if (!(out[n].data = malloc(len ? len : 1))) {
			sqlite3_reset(s);
			nym_inbox_msgs_free(out, n);
			return NYM_ENOMEM;
		}
		if (len)
			memcpy(out[n].data, p, len);
		n++;
	}
	if (n < max && rc != SQLITE_DONE) {
		sqlite3_reset(s);
		nym_inbox_msgs_free(out, n);
		return NYM_EIO;
	}
	sqlite3_reset(s);
	return n;
}

void
nym_inbox_msgs_free(struct nym_inbox_msg *m, int n)
{
	for (int i = 0; i < n; i++) {
		free(m[i].data);
		m[i].data = NULL;
	}
}

int
nym_inbox_delete(struct nym_inbox *ib, int64_t id)
{
	sqlite3_stmt *s = stmt(ib, S_MDEL);
	uint8_t client[32];
	int64_t len = -1;
	int rc;
	if (ib->observe) {
		sqlite3_stmt *q = stmt(ib, S_MSIZE);
		sqlite3_bind_int64(q, 1, id);
		if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_bytes(q, 0) == 32) {
			memcpy(client, sqlite3_column_blob(q, 0), 32);
			len = sqlite3_column_int64(q, 1);
		}
		sqlite3_reset(q);
	}
	sqlite3_bind_int64(s, 1, id);
	rc = run(s);
	if (rc == 0 && len >= 0 && sqlite3_changes(ib->db) > 0)
		ib->observe(ib->observe_arg, client, -len);
	return rc;
}

int64_t
nym_inbox_count(struct nym_inbox *ib, const uint8_t *client)
{
	sqlite3_stmt *s;
	if (!client)
		return count(stmt(ib, S_COUNTALL));
	s = stmt(ib, S_COUNT);
	sqlite3_bind_blob(s, 1, client, 32, SQLITE_STATIC);
	return count(s);
}

int64_t
nym_inbox_purge(struct nym_inbox *ib, uint64_t before)
{
	sqlite3_stmt *s = stmt(ib, S_PURGE);
	if (before > INT64_MAX)
		return NYM_ERANGE;
	if (ib->observe) {
		sqlite3_stmt *q = stmt(ib, S_PSIZES);
		sqlite3_bind_int64(q, 1, (sqlite3_int64)before);
		if (observe_rows(ib, q, 1) < 0)
			return NYM_EIO;
	}
	sqlite3_bind_int64(s, 1, (sqlite3_int64)before);
	if (run(s))
		return NYM_EIO;
	return sqlite3_changes(ib->db);
}

/* ---- the gateway server's storage ----------------------------------------- */

static int
gws_get(void *ctx, const uint8_t client[32], struct nym_gws_client *c)
{
	struct nym_inbox_client ic;
	int rc = nym_inbox_client_get(ctx, client, &ic);

	if (rc == 0) {
		memcpy(c->key, ic.key, 32);
		c->last_auth_ts = ic.last_auth_ts;
		c->bandwidth = ic.bandwidth;
		c->bandwidth_day = ic.bandwidth_day;
	}
	nym_wipe(&ic, sizeof ic);
	return rc;
}

static int
gws_register(void *ctx, const uint8_t client[32], const uint8_t key[32])
{
	struct nym_inbox *ib = ctx;
	struct nym_inbox_client c;
	/* a new client past the bound is refused; a known one re-registers */
	if (ib->max_clients > 0 && nym_inbox_client_get(ib, client, &c) == NYM_ENOTFOUND &&
	    nym_inbox_client_count(ib) >= ib->max_clients)
		return NYM_EFULL;
	nym_wipe(&c, sizeof c);
	return nym_inbox_client_register(ctx, client, key);
}

static int
gws_auth_ts(void *ctx, const uint8_t client[32], uint64_t ts)
{
	return nym_inbox_client_set_auth_ts(ctx, client, ts);
}

static int
gws_bandwidth(void *ctx, const uint8_t client[32], int64_t bytes, int64_t day)
{
	return nym_inbox_client_set_bandwidth(ctx, client, bytes, day);
}

static int
gws_forget(void *ctx, const uint8_t client[32])
{
	return nym_inbox_client_forget(ctx, client);
}

static int
gws_store(void *ctx, const uint8_t client[32], const uint8_t *msg, size_t len, uint64_t now)
{
	return nym_inbox_store(ctx, client, msg, len, now, NULL);
}

static int
gws_fetch(void *ctx, const uint8_t client[32], int64_t after, int max, nym_gws_stored_fn fn,
          void *arg)
{
	struct nym_inbox_msg m[64];
	int n, total = 0;

	/* in rounds of 64, stopping where fn does */
	while (total < max) {
		n = nym_inbox_fetch(ctx, client, after, m, max - total < 64 ? max - total : 64);
		if (n <= 0)
			return n < 0 ? n : total;
		total += n;
		for (int i = 0; i < n; i++) {
			if (fn(arg, m[i].id, m[i].data, m[i].len) != 0) {
				nym_inbox_msgs_free(m, n);
				return total;
			}
			after = m[i].id;
		}
		nym_inbox_msgs_free(m, n);
		if (n < 64)
			break;
	}
	return total;
}

static int
gws_remove(void *ctx, int64_t id)
{
	return nym_inbox_delete(ctx, id);
}

static const char *
gws_error(void *ctx)
{
	return nym_inbox_errmsg(ctx);
}

void
nym_inbox_gws_storage(struct nym_inbox *ib, struct nym_gws_storage *st)
{
	st->client_get = gws_get;
	st->client_register = gws_register;
	st->client_set_auth_ts = gws_auth_ts;
	st->client_set_bandwidth = gws_bandwidth;
	st->client_forget = gws_forget;
	st->store = gws_store;
	st->fetch = gws_fetch;
	st->remove = gws_remove;
	st->error = gws_error;
	st->ctx = ib;
}
