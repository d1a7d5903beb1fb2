/* seen.c — delivered-message fingerprints, in memory and in a file (seen.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "crypto/blake3.h"
#include "io/fileio.h"
#include "io/seen.h"

#define SEEN_CAP (1u << 19) /* room for NYM_SEEN_MAX at half load */

struct nym_seen {
	uint8_t *set;       /* SEEN_CAP slots of 16 bytes; all-zero = empty */
	size_t n;
	int fd;             /* append; -1 when not open */
};

/* 1 if fp is in the set; else 0, and added if insert (and below half load). */
static int
slot(struct nym_seen *s, const uint8_t fp[16], int insert)
{
	static const uint8_t zero[16];
	size_t mask = SEEN_CAP - 1, i;
	uint64_t h;

	memcpy(&h, fp, 8);
	for (i = (size_t)h & mask;; i = (i + 1) & mask) {
		uint8_t *e = s->set + i * 16;
		if (!memcmp(e, fp, 16))
			return 1;
		if (!memcmp(e, zero, 16)) {
			if (insert && s->n < SEEN_CAP / 2) {
				memcpy(e, fp, 16);
				s->n++;
			}
			return 0;
		}
	}
}

static void
fingerprint(uint8_t fp[16], uint32_t set_id, const uint8_t *data, size_t len)
{
	static const uint8_t zero[16];
	struct nym_blake3 h;
	uint8_t id[4] = {(uint8_t)(set_id >> 24), (uint8_t)(set_id >> 16), (uint8_t)(set_id >> 8),
	                 (uint8_t)set_id}, out[32];

	nym_blake3_init(&h);
	nym_blake3_update(&h, id, 4);
	nym_blake3_update(&h, data, len);
	nym_blake3_final(&h, out, 32);
	memcpy(fp, out, 16);
	if (!memcmp(fp, zero, 16))
		fp[0] = 1; /* all-zero marks an empty slot */
}

void
nym_seen_free(struct nym_seen *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->set);
	free(s);
}

int
nym_seen_open(struct nym_seen **out, const char *path, uint64_t now_s)
{
	struct nym_seen *s;
	uint8_t rec[NYM_SEEN_REC];
	char tmp[4300];
	FILE *f;
	int fd;

	*out = NULL;
	if (!(s = calloc(1, sizeof *s)) || !(s->set = calloc(SEEN_CAP, 16))) {
		free(s);
		return NYM_ENOMEM;
	}
	s->fd = -1;
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp ||
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		nym_seen_free(s);
		return NYM_EIO;
	}
	if ((f = fopen(path, "rb"))) {
		while (fread(rec, 1, NYM_SEEN_REC, f) == NYM_SEEN_REC) {
			uint64_t t = 0;
			for (int i = 16; i < 24; i++)
				t = t << 8 | rec[i];
			if (t + NYM_SEEN_SECS < now_s || s->n >= NYM_SEEN_MAX || slot(s, rec, 1))
				continue;
			if (write(fd, rec, NYM_SEEN_REC) != NYM_SEEN_REC) {
				fclose(f);
				close(fd);
				unlink(tmp);
				nym_seen_free(s);
				return NYM_EIO;
			}
		}
		fclose(f);
	}
	if (fsync(fd) < 0 || rename(tmp, path) < 0) {
		close(fd);
		unlink(tmp);
		nym_seen_free(s);
		return NYM_EIO;
	}
	close(fd);
	nym_fsync_parent(path);
	if ((s->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0) {
		nym_seen_free(s);
		return NYM_EIO;
	}
	*out = s;
	return 0;
}

int
nym_seen_check(struct nym_seen *s, uint32_t set_id, const uint8_t *data, size_t len, uint64_t now_s)
{
	uint8_t rec[NYM_SEEN_REC];

	fingerprint(rec, set_id, data, len);
	if (slot(s, rec, 1))
		return 1;
	for (int i = 23; i >= 16; i--, now_s >>= 8)
		rec[i] = (uint8_t)now_s;
	if (s->fd >= 0 && write(s->fd, rec, NYM_SEEN_REC) != NYM_SEEN_REC)
		return NYM_EIO;
	return 0;
}
