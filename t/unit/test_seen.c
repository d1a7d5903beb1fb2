/* test_seen.c — delivered messages remembered in a file (lib/io/seen.h). */
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "io/seen.h"
#include "test.h"

static long
file_size(const char *p)
{
	struct stat st;
	return stat(p, &st) < 0 ? -1 : (long)st.st_size;
}

int
main(void)
{
	char dir[] = "/tmp/test_seen.XXXXXX", path[256], tmp[300];
	struct nym_seen *s;
	uint64_t now = 1700000000;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/seen", dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	CHECK(nym_seen_open(&s, path, now) == 0 && file_size(path) == 0, "a new file: empty");
	CHECK(nym_seen_check(s, 1, (const uint8_t *)"hello", 5, now) == 0, "first delivery: new");
	CHECK(nym_seen_check(s, 1, (const uint8_t *)"hello", 5, now) == 1, "the same again: seen");
	CHECK(nym_seen_check(s, 2, (const uint8_t *)"hello", 5, now) == 0 &&
	      nym_seen_check(s, 1, (const uint8_t *)"hellO", 5, now) == 0, "another set or other bytes: new");
	CHECK(file_size(path) == 3 * NYM_SEEN_REC, "one record per new message");
	CHECK(nym_seen_check(s, 3, (const uint8_t *)"old", 3, now - NYM_SEEN_SECS - 1) == 0, "an old one");
	nym_seen_free(s);

	CHECK(nym_seen_open(&s, path, now) == 0 && access(tmp, F_OK) < 0, "reopened (no .tmp left)");
	CHECK(nym_seen_check(s, 1, (const uint8_t *)"hello", 5, now) == 1 &&
	      nym_seen_check(s, 2, (const uint8_t *)"hello", 5, now) == 1, "after a restart: still seen");
	CHECK(file_size(path) == 3 * NYM_SEEN_REC &&
	      nym_seen_check(s, 3, (const uint8_t *)"old", 3, now) == 0, "a record older than a day is dropped");
	nym_seen_free(s);
	CHECK(nym_seen_open(&s, path, now + NYM_SEEN_SECS + 10) == 0 && file_size(path) == 0 &&
	      nym_seen_check(s, 1, (const uint8_t *)"hello", 5, now) == 0, "a day later: all forgotten");
	nym_seen_free(s);
	nym_seen_free(NULL);
	snprintf(tmp, sizeof tmp, "%s/none/seen", dir);
	CHECK(nym_seen_open(&s, tmp, now) == NYM_EIO && s == NULL, "unwritable place: NYM_EIO");
	unlink(path);
	rmdir(dir);
	return t_done();
}
