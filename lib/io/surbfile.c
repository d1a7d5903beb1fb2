/* surbfile.c — reply SURBs on disk (surbfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "io/fileio.h"
#include "io/surbfile.h"

int
nym_surbfile_load(const char *path, struct nym_surbstore *st)
{
	struct stat sb;
	uint8_t *b;
	size_t got = 0;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : NYM_EIO;
	if (fstat(fd, &sb) < 0) {
		close(fd);
		return NYM_EIO;
	}
	if (!S_ISREG(sb.st_mode) || (size_t)sb.st_size > NYM_SURBFILE_MAX) {
		close(fd);
		return NYM_EFORMAT;
	}
	if (!(b = malloc((size_t)sb.st_size + 1))) {
		close(fd);
		return NYM_ENOMEM;
	}
	/* read to the size seen (one byte more: a file that grew is not ours) */
	while (got <= (size_t)sb.st_size) {
		ssize_t r = read(fd, b + got, (size_t)sb.st_size + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			nym_wipe(b, got);
			free(b);
			close(fd);
			errno = e;
			return NYM_EIO;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	e = got > (size_t)sb.st_size ? NYM_EFORMAT : nym_surbstore_decode(st, b, got);
	nym_wipe(b, got);
	free(b);
	return e;
}

int
nym_surbfile_save(const char *path, const struct nym_surbstore *st)
{
	uint8_t *b;
	size_t len;
	int e;

	if ((e = nym_surbstore_encode(st, &b, &len)) < 0)
		return e;
	e = nym_write_file_atomic(path, b, len) < 0 ? NYM_EIO : 0;
	nym_wipe(b, len);
	free(b);
	return e;
}
