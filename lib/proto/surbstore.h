/* surbstore.h — the reply SURBs anonymous senders gave us, held per sender
 * tag (doc/spec/nym-message.md §7): what a client replies through.
 *
 * Per 16-byte sender tag: serialized ReplySurbs of one record length (the
 * latest format wins: records of another length from the same tag replace
 * those held), and the key-rotation byte of the latest message that brought
 * some (NYM_ROTATION_UNKNOWN for DataV1 senders). A SURB is used once: take
 * hands out the most recently added and wipes its record. */
#ifndef NYM_SURBSTORE_H
#define NYM_SURBSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/reply.h"

struct nym_surbstore;

struct nym_surbstore *nym_surbstore_new(void);
/* Wipes every record held. */
void nym_surbstore_free(struct nym_surbstore *st);
/* Keep n records of rec_len bytes (recs, back to back) from tag. n = 0 or
 * rec_len = 0: nothing. NYM_ENOMEM leaves what was held. */
int nym_surbstore_add(struct nym_surbstore *st, const uint8_t tag[16], const uint8_t *recs,
                      size_t n, size_t rec_len, uint8_t rotation);
/* SURBs held for tag (0 for an unknown tag). */
size_t nym_surbstore_count(const struct nym_surbstore *st, const uint8_t tag[16]);
/* The most recent SURB of tag, parsed, its key_rotation set; records that
 * do not parse are dropped on the way. NYM_ENOTFOUND when none is left. */
int nym_surbstore_take(struct nym_surbstore *st, const uint8_t tag[16], struct nym_reply_surb *rs);

#endif
