/* test_inbox.c — the gateway's SQLite store: keys persist, messages are
 * delivered in order and deleted once, kill -9 loses nothing committed. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "io/inbox.h"
#include "test.h"

static char dir[] = "/tmp/test_inbox.XXXXXX";
static char path[64];

int
main(void)
{
	struct nym_inbox *ib;
	struct nym_inbox_client c;
	struct nym_inbox_msg m[8];
	uint8_t a[32], b[32], k1[32], k2[32];
	struct stat st;
	int64_t id;

	memset(a, 0xaa, 32);
	memset(b, 0xbb, 32);
	memset(k1, 0x11, 32);
	memset(k2, 0x22, 32);
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(path, sizeof path, "%s/inbox.db", dir);

	CHECK(nym_inbox_open(&ib, path) == 0, "open creates the database");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "database file is mode 0600");
	CHECK(nym_inbox_client_get(ib, a, &c) == NYM_ENOTFOUND, "unknown client: NYM_ENOTFOUND");
	CHECK(nym_inbox_client_register(ib, a, k1) == 0, "register a");
	CHECK(nym_inbox_client_get(ib, a, &c) == 0 && memcmp(c.key, k1, 32) == 0 &&
	      c.last_auth_ts == 0 && c.bandwidth == 0, "a has key k1, no timestamp, no bandwidth");
	CHECK(nym_inbox_client_set_auth_ts(ib, a, 1778900000) == 0 &&
	      nym_inbox_client_set_bandwidth(ib, a, 12345, 20000) == 0, "set timestamp and bandwidth");
	CHECK(nym_inbox_client_register(ib, a, k2) == 0 && nym_inbox_client_get(ib, a, &c) == 0 &&
	      memcmp(c.key, k2, 32) == 0 && c.last_auth_ts == 1778900000 && c.bandwidth == 12345 &&
	      c.bandwidth_day == 20000, "re-registration overwrites the key, keeps the rest");
	CHECK(nym_inbox_client_count(ib) == 1, "one client");

	CHECK(nym_inbox_store(ib, a, (const uint8_t *)"one", 3, 1000, &id) == 0 && id > 0, "store one");
	CHECK(nym_inbox_store(ib, b, (const uint8_t *)"for b", 5, 1000, NULL) == 0, "store for b");
	CHECK(nym_inbox_store(ib, a, (const uint8_t *)"two", 3, 2000, NULL) == 0, "store two");
	CHECK(nym_inbox_store(ib, a, NULL, 0, 3000, NULL) == 0, "store an empty message");
	CHECK(nym_inbox_count(ib, a) == 3 && nym_inbox_count(ib, NULL) == 4, "counts");

	int n = nym_inbox_fetch(ib, a, 0, m, 2);
	CHECK(n == 2 && m[0].len == 3 && memcmp(m[0].data, "one", 3) == 0 &&
	      memcmp(m[1].data, "two", 3) == 0 && m[0].id < m[1].id, "fetch returns a's oldest first");
	int64_t last = m[1].id;
	CHECK(nym_inbox_delete(ib, m[0].id) == 0 && nym_inbox_delete(ib, m[1].id) == 0, "delete delivered");
	CHECK(nym_inbox_delete(ib, m[1].id) == 0, "deleting twice is harmless");
	nym_inbox_msgs_free(m, n);
	n = nym_inbox_fetch(ib, a, last, m, 8);
	CHECK(n == 1 && m[0].len == 0, "the empty message remains");
	nym_inbox_msgs_free(m, n);
	CHECK(nym_inbox_purge(ib, 1500) == 1 && nym_inbox_count(ib, b) == 0, "purge removes b's old message");
	nym_inbox_close(ib);

	/* kill -9 in the middle of a run: everything stored before is there */
	pid_t pid = fork();
	if (pid == 0) {
		struct nym_inbox *cib;
		if (nym_inbox_open(&cib, path) != 0)
			_exit(3);
		for (int i = 0; i < 50; i++)
			if (nym_inbox_store(cib, b, (const uint8_t *)"persist", 7, 5000, NULL) != 0)
				_exit(4);
		nym_inbox_client_register(cib, b, k1);
		kill(getpid(), SIGKILL);
		_exit(5);
	}
	int wst;
	waitpid(pid, &wst, 0);
	CHECK(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL, "writer was killed with SIGKILL");
	CHECK(nym_inbox_open(&ib, path) == 0, "reopen after kill -9");
	CHECK(nym_inbox_count(ib, b) == 50, "all 50 messages survived kill -9");
	CHECK(nym_inbox_client_get(ib, b, &c) == 0 && memcmp(c.key, k1, 32) == 0,
	      "key registered before kill -9 persists");
	CHECK(nym_inbox_client_get(ib, a, &c) == 0 && memcmp(c.key, k2, 32) == 0, "a's key persists");

	CHECK(nym_inbox_client_forget(ib, b) == 0 && nym_inbox_count(ib, b) == 0 &&
	      nym_inbox_client_get(ib, b, &c) == NYM_ENOTFOUND, "forget deletes key and messages");
	CHECK(nym_inbox_count(ib, a) == 1, "other clients untouched");
	nym_inbox_close(ib);

	CHECK(nym_inbox_open(&ib, "/nonexistent-dir/x/inbox.db") == NYM_EIO, "unwritable path: NYM_EIO");

	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return t_done();
}
