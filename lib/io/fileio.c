/* fileio.c — whole writes and durable renames (see fileio.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/fileio.h"

int
nym_write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

void
nym_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int
nym_write_file_atomic(const char *path, const void *buf, size_t len)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 32];
	const char *slash = strrchr(path, '/');
	int fd, saved;

	if (slash) {
		size_t dl = (size_t)(slash - path);
		if (dl >= sizeof dir) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(dir, path, dl);
		dir[dl ? dl : 1] = 0;
		if (!dl)
			dir[0] = '/';
	} else
		strcpy(dir, ".");
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* mkstemp creates the file 0600 whatever the umask */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return -1;
	if (fchmod(fd, 0600) < 0 || nym_write_full(fd, buf, len) < 0 || fsync(fd) < 0 ||
	    close(fd) < 0 || rename(tmp, path) < 0) {
		saved = errno;
		close(fd); /* EBADF when already closed: harmless */
		unlink(tmp);
		errno = saved;
		return -1;
	}
	nym_fsync_dir(dir);
	return 0;
}
