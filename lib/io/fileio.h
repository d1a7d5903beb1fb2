/* fileio.h — the small file helpers lib/'s on-disk state shares (key files,
 * the held messages): whole writes and durable renames. An I/O layer module. */
#ifndef NYM_FILEIO_H
#define NYM_FILEIO_H

#include <stddef.h>

/* Write all len bytes (retrying short writes and EINTR); 0, or -1 with errno. */
int nym_write_full(int fd, const void *buf, size_t len);

/* fsync the directory holding a file just renamed into it, so that the
 * rename survives a crash; best effort (some file systems refuse). */
void nym_fsync_dir(const char *dir);
/* The same for the directory holding path (a file renamed or unlinked). */
void nym_fsync_parent(const char *path);

/* Replace path by len bytes, atomically and durably: a 0600 temporary file
 * beside it, written, fsynced, renamed over it, the directory fsynced.
 * 0, or -1 with errno (path untouched, the temporary file removed). */
int nym_write_file_atomic(const char *path, const void *buf, size_t len);

#endif
