/* held.c — messages kept on disk for the next nym-recv (see held.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "held.h"

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

static int
write_full(int fd, const uint8_t *b, size_t n)
{
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 1 on a whole block, 0 at a clean end of file, -1 on a short read or error
 * (errno 0 for a short read). */
static int
read_full(int fd, uint8_t *b, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, b + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = 0;
			return got ? -1 : 0;
		}
		got += (size_t)r;
	}
	return 1;
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
	if (write_full(fd, h, sizeof h) < 0 || write_full(fd, data, len) < 0 || fsync(fd) < 0) {
		e = errno;
		if (end >= 0 && ftruncate(fd, end) == 0)
			(void)fsync(fd);
	}
	close(fd);
	held_unlock(lk);
	errno = e;
	return e ? NYM_EIO : 0;
}

/* Copy the rest of in (from its current offset) to a new file that then
 * replaces path; unlink path when nothing is left. */
static int
keep_rest(int in, const char *path, off_t from, off_t size)
{
	char tmp[4300];
	uint8_t buf[65536];
	int out;
	if (from >= size)
		return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -1;
	if (lseek(in, from, SEEK_SET) < 0)
		goto fail;
	for (;;) {
		ssize_t r = read(in, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		if (write_full(out, buf, (size_t)r) < 0)
			goto fail;
	}
	if (fsync(out) < 0 || close(out) < 0) {
		out = -1;
		goto fail;
	}
	return rename(tmp, path);
fail:
	if (out >= 0)
		close(out);
	unlink(tmp);
	return -1;
}

int
nym_held_take(const char *path,
    int (*take)(const uint8_t *data, size_t len, const uint8_t *sender_tag, void *arg), void *arg,
    size_t *dropped)
{
	struct stat st;
	off_t at = 0;
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
	if (fstat(fd, &st) < 0)
		goto io;
	for (;;) {
		uint8_t h[NYM_HELD_HDR], *data;
		size_t len;
		rc = read_full(fd, h, sizeof h);
		if (rc == 0)
			break;
		len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
		if (rc < 0 && errno)
			goto io;
		if (rc < 0 || len > NYM_HELD_MAX || h[4] > 1 ||
		    (off_t)(at + NYM_HELD_HDR + (off_t)len) > st.st_size) {
			/* a damaged tail: drop it */
			if (dropped)
				*dropped = (size_t)(st.st_size - at);
			st.st_size = at;
			break;
		}
		if (!(data = malloc(len ? len : 1))) {
			close(fd);
			held_unlock(lk);
			return n ? n : NYM_ENOMEM;
		}
		if (read_full(fd, data, len) != 1 && len) {
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
	if (keep_rest(fd, path, at, st.st_size) < 0)
		goto io;
	close(fd);
	held_unlock(lk);
	return n;
io:
	rc = errno;
	close(fd);
	held_unlock(lk);
	errno = rc;
	return NYM_EIO;
}
