/* surbfile.h — the reply SURBs of a client kept on disk, so that it can
 * still answer anonymous senders after a restart: the bytes of
 * nym_surbstore_encode (proto/surbstore.h) in one file of the client
 * directory, mode 0600, replaced atomically on every change. */
#ifndef NYM_SURBFILE_H
#define NYM_SURBFILE_H

#include "proto/surbstore.h"

#define NYM_CLIENT_REPLY_SURBS "reply_surbs.dat"

/* Largest file accepted: the store's bounds at the largest record. */
#define NYM_SURBFILE_MAX ((size_t)12 + (size_t)NYM_SURBSTORE_TOTAL * (29 + NYM_SURBSTORE_REC_MAX))

/* Fill st from path. No file: 0, nothing loaded. NYM_EIO (errno), or the
 * decoder's NYM_EFORMAT / NYM_ESHORT for a damaged file (st unchanged). */
int nym_surbfile_load(const char *path, struct nym_surbstore *st);
/* Write st to path (atomic, 0600, the directory fsynced). */
int nym_surbfile_save(const char *path, const struct nym_surbstore *st);

#endif
