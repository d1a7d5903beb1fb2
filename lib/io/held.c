/* held.c — messages kept on disk for the next nym-recv (see held.h). */
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
#include "io/held.h"

/* flock() on a separate file: the held file itself is replaced by rename. */
static int
held_lock(const char *path)
{
	char lp[4200];
	int fd;
	if (snprintf(lp, sizeof lp, "%s.lock", path) >= (int)sizeof lp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

static void
held_unlock(int fd)
{
	int e = errno;
	close(fd); /* releases the lock */
	errno = e;
}

/* Header and message in one writev, so that a record is not split between
 * two system calls; continues after a short write. */
static int
writev_full(int fd, const uint8_t h[NYM_HELD_HDR], const uint8_t *data, size_t len)
{
	struct iovec v[2] = {{(void *)h, NYM_HELD_HDR}, {(void *)data, len}};
	ssize_t w;
	while ((w = writev(fd, v, len ? 2 : 1)) < 0)
		if (errno != EINTR)
			return -1;
	if ((size_t)w < NYM_HELD_HDR)
		return nym_write_full(fd, h + w, NYM_HELD_HDR - (size_t)w) < 0 ||
		    nym_write_full(fd, data, len) < 0 ? -1 : 0;
	if (!len)
		return 0;
	return nym_write_full(fd, data + (w - NYM_HELD_HDR), len - (size_t)(w - NYM_HELD_HDR));
}

int
nym_held_append(const char *path, const uint8_t *data, size_t len, const uint8_t *sender_tag)
{
	uint8_t h[NYM_HELD_HDR] = {0};
	int lk, fd, e = 0;
	off_t end;

	if (len > NYM_HELD_MAX)
		return NYM_ETOOBIG;
	h[0] = (uint8_t)(len >> 24), h[1] = (uint8_t)(len >> 16);
	h[2] = (uint8_t)(len >> 8), h[3] = (uint8_t)len;
	if (sender_tag) {
		h[4] = 1;
		memcpy(h + 5, sender_tag, 16);
	}
	if ((lk = held_lock(path)) < 0)
		return NYM_EIO;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
		held_unlock(lk);
		return NYM_EIO;
	}
	/* a record that does not fit (full disk) is cut off again, so the file
	 * stays a sequence of whole records */
	end = lseek(fd, 0, SEEK_END);
	if (writev_full(fd, h, data, len) < 0 || fsync(fd) < 0) {
		e = errno;
		if (end >= 0 && ftruncate(fd, end) == 0)
			(void)fsync(fd);
	}
	close(fd);
	held_unlock(lk);
	errno = e;
	return e ? NYM_EIO : 0;
}

static void
held_header(uint8_t h[NYM_HELD_HDR], size_t len, const uint8_t *sender_tag)
{
	memset(h, 0, NYM_HELD_HDR);
	h[0] = (uint8_t)(len >> 24), h[1] = (uint8_t)(len >> 16);
	h[2] = (uint8_t)(len >> 8), h[3] = (uint8_t)len;
	if (sender_tag) {
		h[4] = 1;
		memcpy(h + 5, sender_tag, 16);
	}
}

int
nym_held_prepend(const char *path, const struct nym_held_msg *m, size_t n)
{
	char tmp[4300];
	uint8_t h[NYM_HELD_HDR], buf[65536];
	int lk, in, out, e = 0;
	ssize_t r;

	for (size_t i = 0; i < n; i++)
		if (m[i].len > NYM_HELD_MAX)
			return NYM_ETOOBIG;
	if (!n)
		return 0;
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return NYM_EIO;
	}
	if ((lk = held_lock(path)) < 0)
		return NYM_EIO;
	/* a new file: these records, then the old file's bytes; renamed over */
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		held_unlock(lk);
		return NYM_EIO;
	}
	for (size_t i = 0; i < n && !e; i++) {
		held_header(h, m[i].len, m[i].sender_tag);
		if (writev_full(out, h, m[i].data, m[i].len) < 0)
			e = errno;
	}
	if (!e && (in = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		while ((r = read(in, buf, sizeof buf)) != 0) {
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 || nym_write_full(out, buf, (size_t)r) < 0) {
				e = errno ? errno : EIO;
				break;
			}
		}
		close(in);
	} else if (!e && errno != ENOENT)
		e = errno;
	if (!e && fsync(out) < 0)
		e = errno;
	if (close(out) < 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) < 0)
		e = errno;
	if (e)
		unlink(tmp);
	else
		nym_fsync_parent(path);
	held_unlock(lk);
	errno = e;
	return e ? NYM_EIO : 0;
}

/* Copy in's bytes [from, end) to a new file that then replaces path;
 * unlink path when there are none. */
static int
keep_rest(int in, const char *path, off_t from, off_t end)
{
	char tmp[4300];
	uint8_t buf[65536];
	int out;
	if (from >= end) {
		if (unlink(path) < 0 && errno != ENOENT)
			return -1;
		nym_fsync_parent(path); /* taken for good: not back after a power loss */
		return 0;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -1;
	while (from < end) {
		size_t want = (size_t)(end - from) < sizeof buf ? (size_t)(end - from) : sizeof buf;
		ssize_t r = pread(in, buf, want, from);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || nym_write_full(out, buf, (size_t)r) < 0)
			goto fail;
		from += r;
	}
	if (fsync(out) < 0) {
		close(out);
		out = -1;
		goto fail;
	}
	int closed = close(out);
	out = -1;
	if (closed < 0 || rename(tmp, path) < 0)
		goto fail;
	nym_fsync_parent(path); /* the rename durable: what was taken stays taken */
	return 0;
fail:
	if (out >= 0)
		close(out);
	unlink(tmp);
	return -1;
}

/* The length of a record's message from its header; -1 when the header is
 * not one this module writes. */
static long
record_len(const uint8_t h[NYM_HELD_HDR])
{
	size_t len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
	return len > NYM_HELD_MAX || h[4] > 1 ? -1 : (long)len;
}

/* Where the whole records end: a crash (or power loss) may have left a
 * record cut short, or garbage, after them. */
static int
whole_records_end(int fd, off_t size, off_t *end)
{
	off_t at = 0;
	uint8_t h[NYM_HELD_HDR];
	while (at + NYM_HELD_HDR <= size) {
		ssize_t r = pread(fd, h, sizeof h, at);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		long len = r == (ssize_t)sizeof h ? record_len(h) : -1;
		if (len < 0 || at + NYM_HELD_HDR + len > size)
			break;
		at += NYM_HELD_HDR + len;
	}
	*end = at;
	return 0;
}

int
nym_held_take(const char *path,
    int (*take)(const uint8_t *data, size_t len, const uint8_t *sender_tag, void *arg), void *arg,
    size_t *dropped)
{
	struct stat st;
	off_t at = 0, end;
	int lk, fd, n = 0, rc;

	if (dropped)
		*dropped = 0;
	if ((lk = held_lock(path)) < 0)
		return NYM_EIO;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		int e = errno;
		held_unlock(lk);
		errno = e;
		return e == ENOENT ? 0 : NYM_EIO;
	}
	if (fstat(fd, &st) < 0 || whole_records_end(fd, st.st_size, &end) < 0)
		goto io;
	if (dropped)
		*dropped = (size_t)(st.st_size - end);
	while (at < end) {
		uint8_t h[NYM_HELD_HDR], *data;
		if (pread(fd, h, sizeof h, at) != (ssize_t)sizeof h)
			goto io;
		long l = record_len(h); /* checked above; the lock keeps it so */
		size_t len = (size_t)(l > 0 ? l : 0);
		if (l < 0) {
			errno = EIO;
			goto io;
		}
		if (!(data = malloc(len ? len : 1))) {
			errno = ENOMEM;
			goto io;
		}
		if (len && pread(fd, data, len, at + NYM_HELD_HDR) != (ssize_t)len) {
			free(data);
			goto io;
		}
		rc = take(data, len, h[4] ? h + 5 : NULL, arg);
		free(data);
		if (rc)
			break;
		n++;
		at += NYM_HELD_HDR + (off_t)len;
	}
	/* nothing taken and nothing cut: the file stays as it is. Otherwise the
	 * rest is kept without a cut tail, so that appends follow whole records. */
	if ((at || end < st.st_size) && keep_rest(fd, path, at, end) < 0)
		goto io;
	close(fd);
	held_unlock(lk);
	return n;
io:
	rc = errno ? errno : EIO;
	close(fd);
	held_unlock(lk);
	errno = rc;
	return NYM_EIO;
}
