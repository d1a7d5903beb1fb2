/* test_held.c — lib/io/held.c: messages kept on disk for the next nym-recv.
 * Order kept, a refused message and those after it stay, sender tags round
 * trip, a record cut short by a crash is dropped, the file is 0600. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "io/held.h"
#include "test.h"

struct got {
	int n, refuse_at;
	char text[8][32];
	int tagged[8];
	uint8_t tag[8][16];
};

static int
take(const uint8_t *data, size_t len, const uint8_t *tag, void *arg)
{
	struct got *g = arg;
	if (g->n == g->refuse_at)
		return 1;
	snprintf(g->text[g->n], sizeof g->text[0], "%.*s", (int)len, (const char *)data);
	g->tagged[g->n] = tag != NULL;
	if (tag)
		memcpy(g->tag[g->n], tag, 16);
	g->n++;
	return 0;
}

static off_t
size_of(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? st.st_size : -1;
}

int
main(void)
{
	char dir[] = "/tmp/nym-held-XXXXXX", path[200], cmd[300];
	uint8_t tag[16];
	struct got g;
	struct stat st;
	size_t dropped = 99;

	CHECK(mkdtemp(dir) != NULL, "temp dir");
	snprintf(path, sizeof path, "%s/held", dir);
	memset(tag, 0xab, sizeof tag);

	memset(&g, 0, sizeof g);
	g.refuse_at = -1;
	CHECK(nym_held_take(path, take, &g, &dropped) == 0 && g.n == 0 && dropped == 0,
	    "no file: nothing taken");

	CHECK(nym_held_append(path, (const uint8_t *)"one", 3, NULL) == 0, "append one");
	CHECK(nym_held_append(path, (const uint8_t *)"two", 3, tag) == 0, "append two (tagged)");
	CHECK(nym_held_append(path, (const uint8_t *)"", 0, NULL) == 0, "append an empty message");
	CHECK(nym_held_append(path, (const uint8_t *)"four", 4, NULL) == 0, "append four");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "file is 0600");
	CHECK(size_of(path) == 4 * NYM_HELD_HDR + 10, "four records, %lld bytes",
	    (long long)size_of(path));
	CHECK(nym_held_append(path, (const uint8_t *)"x", NYM_HELD_MAX + 1ul, NULL) == NYM_ETOOBIG,
	    "a message above the limit is refused");

	/* take two, refuse the third: the third and fourth stay */
	memset(&g, 0, sizeof g);
	g.refuse_at = 2;
	CHECK(nym_held_take(path, take, &g, NULL) == 2, "two taken");
	CHECK(!strcmp(g.text[0], "one") && !strcmp(g.text[1], "two"), "in order");
	CHECK(!g.tagged[0] && g.tagged[1] && !memcmp(g.tag[1], tag, 16), "sender tag kept");
	CHECK(size_of(path) == 2 * NYM_HELD_HDR + 4, "the refused message and the one after stay");

	/* prepended messages come first, in the order given */
	struct nym_held_msg pre[2] = {{(const uint8_t *)"p1", 2, tag}, {(const uint8_t *)"p2", 2, NULL}};
	CHECK(nym_held_prepend(path, pre, 2) == 0, "prepend two");
	memset(&g, 0, sizeof g);
	g.refuse_at = 2;
	CHECK(nym_held_take(path, take, &g, NULL) == 2 && !strcmp(g.text[0], "p1") &&
	    g.tagged[0] && !strcmp(g.text[1], "p2") && !g.tagged[1], "prepended first, tag kept");
	CHECK(size_of(path) == 2 * NYM_HELD_HDR + 4, "the earlier ones stay after them");

	/* a crash in the middle of an append: a header and half a message */
	int fd = open(path, O_WRONLY | O_APPEND);
	const uint8_t cut[NYM_HELD_HDR + 2] = {0, 0, 0, 9, 0};
	CHECK(fd >= 0 && write(fd, cut, sizeof cut) == (ssize_t)sizeof cut, "a record cut short");
	close(fd);
	memset(&g, 0, sizeof g);
	g.refuse_at = -1;
	CHECK(nym_held_take(path, take, &g, &dropped) == 2 && !strcmp(g.text[0], "") &&
	    !strcmp(g.text[1], "four"), "the whole records still come out");
	CHECK(dropped == NYM_HELD_HDR + 2, "the cut record is dropped (%zu bytes)", dropped);
	CHECK(access(path, F_OK) != 0, "all taken: the file is gone");

	/* a cut record with nothing taken: the tail still goes, so that the
	 * next append follows whole records */
	CHECK(nym_held_append(path, (const uint8_t *)"six", 3, NULL) == 0, "append six");
	fd = open(path, O_WRONLY | O_APPEND);
	CHECK(fd >= 0 && write(fd, cut, sizeof cut) == (ssize_t)sizeof cut, "another record cut short");
	close(fd);
	memset(&g, 0, sizeof g);
	g.refuse_at = 0;
	CHECK(nym_held_take(path, take, &g, &dropped) == 0 && dropped == NYM_HELD_HDR + 2,
	    "nothing taken, the cut tail dropped");
	CHECK(size_of(path) == NYM_HELD_HDR + 3, "six stays");
	CHECK(nym_held_append(path, (const uint8_t *)"seven", 5, NULL) == 0, "append seven");
	memset(&g, 0, sizeof g);
	g.refuse_at = -1;
	CHECK(nym_held_take(path, take, &g, NULL) == 2 && !strcmp(g.text[0], "six") &&
	    !strcmp(g.text[1], "seven"), "six and seven come out whole");

	/* refused at once, nothing damaged: the file is left as it was */
	CHECK(nym_held_append(path, (const uint8_t *)"eight", 5, NULL) == 0, "append eight");
	struct stat before, after;
	stat(path, &before);
	memset(&g, 0, sizeof g);
	g.refuse_at = 0;
	CHECK(nym_held_take(path, take, &g, NULL) == 0, "refused");
	stat(path, &after);
	CHECK(before.st_ino == after.st_ino && after.st_size == NYM_HELD_HDR + 5, "file untouched");
	memset(&g, 0, sizeof g);
	g.refuse_at = -1;
	CHECK(nym_held_take(path, take, &g, NULL) == 1 && !strcmp(g.text[0], "eight"), "eight taken");

	/* an appender after a take starts a new file */
	CHECK(nym_held_append(path, (const uint8_t *)"five", 4, NULL) == 0, "append after take");
	memset(&g, 0, sizeof g);
	g.refuse_at = -1;
	CHECK(nym_held_take(path, take, &g, NULL) == 1 && !strcmp(g.text[0], "five"), "taken");

	/* a directory where the file should be: an error, not a crash */
	char bad[220];
	snprintf(bad, sizeof bad, "%s/sub", dir);
	mkdir(bad, 0700);
	CHECK(nym_held_append(bad, (const uint8_t *)"x", 1, NULL) == NYM_EIO, "unwritable: NYM_EIO");

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd)) {
	}
	return t_done();
}
