/* fragstore.c — reassembly state on disk (see fragstore.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/err.h"
#include "io/fileio.h"
#include "io/fragstore.h"

#define MAGIC "NYMFRAG1"
#define MAGIC_LEN 8

struct nym_fragstore {
	int fd, lock;
	uint64_t size;
	int dirty;          /* appended since the last fdatasync */
	char path[4096];
};

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
header(uint8_t h[NYM_FRAGSTORE_HDR], int kind, uint64_t t, size_t len)
{
	h[0] = (uint8_t)kind;
	for (int i = 0; i < 8; i++)
		h[1 + i] = (uint8_t)(t >> (56 - 8 * i));
	put32(h + 9, (uint32_t)len);
}

int
nym_fragstore_open(struct nym_fragstore **out, const char *path)
{
	struct nym_fragstore *fs;
	char lp[4200];
	struct stat st;

	*out = NULL;
	if (strlen(path) >= sizeof fs->path || snprintf(lp, sizeof lp, "%s.lock", path) >= (int)sizeof lp) {
		errno = ENAMETOOLONG;
		return NYM_EIO;
	}
	if (!(fs = calloc(1, sizeof *fs)))
		return NYM_ENOMEM;
	snprintf(fs->path, sizeof fs->path, "%s", path);
	fs->fd = -1;
	if ((fs->lock = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		free(fs);
		return NYM_EIO;
	}
	while (flock(fs->lock, LOCK_EX | LOCK_NB) < 0)
		if (errno != EINTR) {
			int busy = errno == EWOULDBLOCK;
			nym_fragstore_close(fs);
			return busy ? NYM_EEXIST : NYM_EIO;
		}
	if ((fs->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    fstat(fs->fd, &st) < 0) {
		int e = errno;
		nym_fragstore_close(fs);
		errno = e;
		return NYM_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		nym_fragstore_close(fs);
		return NYM_ENOTFILE;
	}
	fs->size = (uint64_t)st.st_size;
	if (fs->size < MAGIC_LEN) {
		/* new (or cut before its magic): start it */
		if (ftruncate(fs->fd, 0) < 0 || nym_write_full(fs->fd, MAGIC, MAGIC_LEN) < 0) {
			int e = errno;
			nym_fragstore_close(fs);
			errno = e;
			return NYM_EIO;
		}
		fs->size = MAGIC_LEN;
		fs->dirty = 1;
	}
	*out = fs;
	return 0;
}

void
nym_fragstore_close(struct nym_fragstore *fs)
{
	if (!fs)
		return;
	if (fs->fd >= 0) {
		nym_fragstore_sync(fs);
		close(fs->fd);
	}
	if (fs->lock >= 0)
		close(fs->lock);
	free(fs);
}

int
nym_fragstore_load(struct nym_fragstore *fs,
    int (*fn)(void *arg, int kind, const uint8_t *body, size_t len, uint64_t unix_ms), void *arg,
    size_t *dropped)
{
	uint8_t h[NYM_FRAGSTORE_HDR], magic[MAGIC_LEN], *body = NULL;
	uint64_t off = MAGIC_LEN;
	int n = 0, e = 0;

	if (dropped)
		*dropped = 0;
	if (pread(fs->fd, magic, MAGIC_LEN, 0) != MAGIC_LEN || memcmp(magic, MAGIC, MAGIC_LEN))
		off = 0; /* not ours: all of it is dropped */
	else if (!(body = malloc(NYM_FRAGSTORE_BODY_MAX)))
		return NYM_ENOMEM;
	while (off && off + NYM_FRAGSTORE_HDR <= fs->size) {
		uint32_t len;
		uint64_t t = 0;
		if (pread(fs->fd, h, sizeof h, (off_t)off) != (ssize_t)sizeof h)
			break;
		len = get32(h + 9);
		if ((h[0] != NYM_FRAGSTORE_FRAGMENT && h[0] != NYM_FRAGSTORE_DONE) ||
		    len > NYM_FRAGSTORE_BODY_MAX || off + sizeof h + len > fs->size ||
		    pread(fs->fd, body, len, (off_t)(off + sizeof h)) != (ssize_t)len)
			break;
		for (int i = 0; i < 8; i++)
			t = t << 8 | h[1 + i];
		if ((e = fn(arg, h[0], body, len, t)) < 0)
			break;
		n++;
		off += sizeof h + len;
	}
	free(body);
	if (e < 0)
		return e;
	if (off < fs->size) {
		/* a torn or foreign tail: cut it, so that appends stay readable */
		if (dropped)
			*dropped = (size_t)(fs->size - off);
		if (!off) {
			if (ftruncate(fs->fd, 0) < 0 || nym_write_full(fs->fd, MAGIC, MAGIC_LEN) < 0)
				return NYM_EIO;
			off = MAGIC_LEN;
		} else if (ftruncate(fs->fd, (off_t)off) < 0)
			return NYM_EIO;
		fs->size = off;
		fs->dirty = 1;
	}
	return n;
}

/* One record in one writev; a short write (a full disk) is cut off again so
 * that the file stays a sequence of whole records. */
static int
append(struct nym_fragstore *fs, int kind, uint64_t t, const uint8_t *body, size_t len)
{
	uint8_t h[NYM_FRAGSTORE_HDR];
	struct iovec v[2];
	ssize_t w;

	if (len > NYM_FRAGSTORE_BODY_MAX)
		return NYM_ETOOBIG;
	header(h, kind, t, len);
	v[0].iov_base = h;
	v[0].iov_len = sizeof h;
	v[1].iov_base = (void *)body;
	v[1].iov_len = len;
	while ((w = writev(fs->fd, v, 2)) < 0 && errno == EINTR)
		;
	if (w >= 0 && (size_t)w < sizeof h + len) {
		/* the rest, or give up and cut the record off */
		size_t done = (size_t)w;
		int r = 0;
		if (done < sizeof h)
			r = nym_write_full(fs->fd, h + done, sizeof h - done) < 0 ||
			    nym_write_full(fs->fd, body, len) < 0;
		else
			r = nym_write_full(fs->fd, body + (done - sizeof h), len - (done - sizeof h)) < 0;
		if (!r)
			w = (ssize_t)(sizeof h + len);
		else
			w = -1;
	}
	if (w < 0) {
		int e = errno;
		if (ftruncate(fs->fd, (off_t)fs->size) < 0) {
			/* nothing better to do: the load drops a torn tail */
		}
		errno = e;
		return NYM_EIO;
	}
	fs->size += sizeof h + len;
	fs->dirty = 1;
	return 0;
}

int
nym_fragstore_add(struct nym_fragstore *fs, const uint8_t *frag, size_t len, uint64_t unix_ms)
{
	return append(fs, NYM_FRAGSTORE_FRAGMENT, unix_ms, frag, len);
}

int
nym_fragstore_done(struct nym_fragstore *fs, const uint32_t *ids, size_t n, uint64_t unix_ms)
{
	uint8_t b[4 * 64] = {0}, *p = b;
	int e;

	if (n > NYM_FRAGSTORE_BODY_MAX / 4)
		return NYM_ETOOBIG;
	if (n > sizeof b / 4 && !(p = malloc(4 * n)))
		return NYM_ENOMEM;
	for (size_t i = 0; i < n; i++)
		put32(p + 4 * i, ids[i]);
	e = append(fs, NYM_FRAGSTORE_DONE, unix_ms, p, 4 * n);
	if (p != b)
		free(p);
	return e;
}

int
nym_fragstore_sync(struct nym_fragstore *fs)
{
	if (!fs->dirty)
		return 0;
	if (fdatasync(fs->fd) < 0)
		return NYM_EIO;
	fs->dirty = 0;
	return 0;
}

uint64_t
nym_fragstore_size(const struct nym_fragstore *fs)
{
	return fs->size;
}

/* The rewrite: records through a buffer into the temporary file. */
struct rw {
	int fd;
	uint8_t *buf;
	size_t used, cap;
	uint64_t size, rnow, unow;
};

static int
rw_flush(struct rw *w)
{
	if (w->used && nym_write_full(w->fd, w->buf, w->used) < 0)
		return NYM_EIO;
	w->used = 0;
	return 0;
}

static int
rw_put(struct rw *w, const void *p, size_t n)
{
	if (w->used + n > w->cap && rw_flush(w) < 0)
		return NYM_EIO;
	if (n > w->cap)
		return nym_write_full(w->fd, p, n) < 0 ? NYM_EIO : 0;
	memcpy(w->buf + w->used, p, n);
	w->used += n;
	return 0;
}

static int
rw_each(void *arg, const struct nym_fragment *f, uint64_t last_ms)
{
	struct rw *w = arg;
	uint64_t t = w->rnow >= last_ms ? w->unow - (w->rnow - last_ms) : w->unow;
	uint8_t h[NYM_FRAGSTORE_HDR], fh[NYM_FRAG_LINKED_HEADER_LEN];
	int hl, e;

	if (!f->position) {
		/* a completed set: its own record, with its own time */
		uint8_t b[4];
		put32(b, f->set_id);
		header(h, NYM_FRAGSTORE_DONE, t, 4);
		if ((e = rw_put(w, h, sizeof h)) < 0 || (e = rw_put(w, b, 4)) < 0)
			return e;
		w->size += sizeof h + 4;
		return 0;
	}
	hl = nym_fragment_header_write(fh, f);
	header(h, NYM_FRAGSTORE_FRAGMENT, t, (size_t)hl + f->payload_len);
	if ((e = rw_put(w, h, sizeof h)) < 0 || (e = rw_put(w, fh, (size_t)hl)) < 0 ||
	    (e = rw_put(w, f->payload, f->payload_len)) < 0)
		return e;
	w->size += sizeof h + (size_t)hl + f->payload_len;
	return 0;
}

int
nym_fragstore_rewrite(struct nym_fragstore *fs, const struct nym_reasm *r,
    uint64_t reasm_now_ms, uint64_t unix_now_ms)
{
	char tmp[4200];
	struct rw w = {.fd = -1, .cap = 1u << 16, .size = MAGIC_LEN, .rnow = reasm_now_ms,
	               .unow = unix_now_ms};
	int e = NYM_EIO;

	snprintf(tmp, sizeof tmp, "%s.tmp", fs->path);
	if (!(w.buf = malloc(w.cap)))
		return NYM_ENOMEM;
	if ((w.fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		goto out;
	if ((e = rw_put(&w, MAGIC, MAGIC_LEN)) < 0 || (e = nym_reasm_each(r, rw_each, &w)) < 0)
		goto out;
	e = NYM_EIO;
	if (rw_flush(&w) < 0 || fsync(w.fd) < 0 || rename(tmp, fs->path) < 0)
		goto out;
	nym_fsync_parent(fs->path);
	close(fs->fd);
	fs->fd = w.fd;
	w.fd = -1;
	fs->size = w.size;
	fs->dirty = 0;
	e = 0;
out:
	if (w.fd >= 0) {
		int saved = errno;
		close(w.fd);
		unlink(tmp);
		errno = saved;
	}
	free(w.buf);
	return e;
}
