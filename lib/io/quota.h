/* quota.h — the byte bounds of a gateway's inbox, shared between threads.
 *
 * The gateway acknowledges a packet (sends its SURB-ack) on a mixer worker,
 * before the main thread pushes the payload or stores it (io/inbox.h). So
 * the worker asks here first: a payload that would take its recipient over
 * per_client bytes, or the inbox over total bytes, is refused — dropped
 * without its SURB-ack, so the sender retransmits and in the end reports it
 * not acknowledged, and nothing acknowledged is lost.
 *
 * Per client address (32 bytes), two counts:
 *   stored  — bytes in the inbox (kept by the inbox's observer: +len when a
 *             message is stored, −len when it is delivered, purged, forgotten)
 *   pending — bytes admitted, not yet pushed or stored (+len at admission,
 *             −len once the main thread has handled the payload)
 * admit checks stored + pending + len against both bounds. In memory: an
 * open-addressing table of the addresses with a non-zero count, under a
 * mutex. An I/O layer module: it uses threads. */
#ifndef NYM_QUOTA_H
#define NYM_QUOTA_H

#include <stddef.h>
#include <stdint.h>

struct nym_quota;

/* per_client, total: bytes; 0 = no bound. NULL when out of memory. */
struct nym_quota *nym_quota_new(uint64_t per_client, uint64_t total);
void nym_quota_free(struct nym_quota *q);

/* Reserve len bytes for client: 0, or NYM_EFULL (a bound would be crossed;
 * nothing reserved), NYM_ENOMEM. Any thread. */
int nym_quota_admit(struct nym_quota *q, const uint8_t client[32], size_t len);
/* An admitted payload was handled (pushed or stored): its reservation ends. */
void nym_quota_settle(struct nym_quota *q, const uint8_t client[32], size_t len);
/* The inbox's stored bytes for client changed by delta. */
void nym_quota_stored(struct nym_quota *q, const uint8_t client[32], int64_t delta);
/* Bytes stored and pending in all (for statistics). */
uint64_t nym_quota_total(struct nym_quota *q);

#endif
