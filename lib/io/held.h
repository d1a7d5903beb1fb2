/* held.h — messages a client received but could not hand on, kept on disk.
 *
 * A gateway forgets a message once it has pushed it to the client. So a
 * whole message that arrives when no one will print it — after
 * `nym-recv --count N` is met, while it shuts down, when stdout refuses it,
 * or at a nym-send or nym-cover holding its own gateway connection — is
 * appended here, and the next nym-recv of the identity prints it first.
 *
 * The file (mode 0600) is a sequence of records:
 *
 *   u32  length of the message, big-endian
 *   u8   1 when the message came with a sender tag (an anonymous sender), else 0
 *   [16] the sender tag (zeros when there is none)
 *   [length] the message
 *
 * Writers and the taker serialise on flock() of "<path>.lock", so that
 * several tools of one identity may append while one takes. A record cut
 * short by a crash is dropped when the file is next taken. An I/O layer
 * module: it touches files. */
#ifndef NYM_HELD_H
#define NYM_HELD_H

#include <stddef.h>
#include <stdint.h>

#define NYM_HELD_HDR 21 /* 4 + 1 + 16 */
#define NYM_HELD_MAX (64u << 20) /* largest message kept: 64 MiB */

/* Append one message (sender_tag NULL when there is none); durable (fsync)
 * when it returns 0. NYM_EIO with errno set, NYM_ETOOBIG above NYM_HELD_MAX. */
int nym_held_append(const char *path, const uint8_t *data, size_t len, const uint8_t *sender_tag);

/* Put messages before the held ones (in the order given), as if they had
 * been appended first: those a reader was sent but never got. Durable when
 * it returns 0; NYM_EIO (errno) leaves the file as it was; NYM_ETOOBIG for a
 * message above NYM_HELD_MAX. */
struct nym_held_msg {
	const uint8_t *data;
	size_t len;
	const uint8_t *sender_tag; /* NULL: none */
};
int nym_held_prepend(const char *path, const struct nym_held_msg *m, size_t n);

/* Hand the held messages to take() in the order they were appended, as long
 * as it returns 0; the first it refuses (non-zero) and all after it stay for
 * next time, the rest are removed. Returns the number handed over, 0 when
 * there is no file, or a negative code (NYM_EIO). *dropped (may be NULL)
 * counts bytes of a damaged tail that was discarded. */
int nym_held_take(const char *path,
    int (*take)(const uint8_t *data, size_t len, const uint8_t *sender_tag, void *arg), void *arg,
    size_t *dropped);

#endif
