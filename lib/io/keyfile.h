/* keyfile.h — key files and key directories (the key sets are proto/keys.h).
 *
 * Files are PEM as the official clients write them: the body is
 * the raw key bytes in base64, CRLF line ends, mode 0600, written atomically
 * (temp file in the same directory, fsync, rename), parent directories
 * created with mode 0700.
 *
 * Layout (a directory is interchangeable with the official programs'):
 *   client  <home>/.nym/clients/<id>/data/    private_identity.pem ...
 *   node    <home>/.nym/nym-nodes/<id>/data/  ed25519_identity ...
 *   network requester <home>/.nym/service-providers/network-requester/<id>/data/
 *           (a client's files)
 * where <home> is $NYM_HOME_DIR or else $HOME. lib/ reads no environment:
 * the tool resolves <home> and passes it in.
 *
 * The client's gateway. The official client keeps its gateway registration
 * in SQLite (gateways_registrations.sqlite). nymkit keeps it in plain files
 * beside the keys instead, which the official client ignores:
 *   gateway_identity.pem  "ED25519 PUBLIC KEY", the gateway's identity key,
 *                          the part after '@' in the client's address;
 *   (issue 7 adds the client-gateway shared key in a file of its own).
 * A client directory without gateway_identity.pem is a client that has not
 * chosen a gateway yet: its address is incomplete. The gateway files belong
 * to the keys they were made with: replacing the keys must drop them
 * (nym-keygen --force does; issue 7's shared-key file must follow suit).
 *
 * Permissions. Private key files must not be accessible by group or others:
 * loading one that is (mode & 077) fails with NYM_EPERM, as ssh refuses an
 * unprotected private key. The official client does not check, but writes
 * 0600, so its directories pass. Public files are not checked. */
#ifndef NYM_KEYFILE_H
#define NYM_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/keys.h"

#define NYM_PEM_ED25519_PRIVATE "ED25519 PRIVATE KEY"
#define NYM_PEM_ED25519_PUBLIC "ED25519 PUBLIC KEY"
#define NYM_PEM_X25519_PRIVATE "X25519 PRIVATE KEY"
#define NYM_PEM_X25519_PUBLIC "X25519 PUBLIC KEY"
#define NYM_PEM_ACK_KEY "AES-128-CTR ACKNOWLEDGEMENTS KEY"
/* nym-node's sphinx key: u32 rotation id (big-endian) || 32-byte X25519 key
 * (nym-node/src/node/key_rotation/key.rs). */
#define NYM_PEM_X25519_SPHINX_PRIVATE "X25519 SPHINX PRIVATE KEY"
#define NYM_SPHINX_KEYFILE_LEN 36

/* File names in a client's data directory (client-core disk_persistence). */
#define NYM_CLIENT_PRIVATE_IDENTITY "private_identity.pem"
#define NYM_CLIENT_PUBLIC_IDENTITY "public_identity.pem"
#define NYM_CLIENT_PRIVATE_ENCRYPTION "private_encryption.pem"
#define NYM_CLIENT_PUBLIC_ENCRYPTION "public_encryption.pem"
#define NYM_CLIENT_ACK_KEY "ack_key.pem"
#define NYM_CLIENT_GATEWAY_IDENTITY "gateway_identity.pem" /* nymkit's own */

/* File names in a node's data directory (nym-node config/persistence.rs). */
#define NYM_NODE_PRIVATE_IDENTITY "ed25519_identity"
#define NYM_NODE_PUBLIC_IDENTITY "ed25519_identity.pub"
#define NYM_NODE_SPHINX_PRIMARY "x25519_sphinx_primary"
#define NYM_NODE_SPHINX_SECONDARY "x25519_sphinx_secondary"
/* Older nym-node releases: "X25519 PRIVATE KEY", 32 bytes, no rotation id.
 * Read when there is no primary file (rotation id 0), never written. */
#define NYM_NODE_SPHINX_LEGACY "x25519_sphinx"

/* Read one PEM key file of exactly len bytes under label. NYM_EIO (errno
 * set), NYM_ENOTFILE (a FIFO, device, socket or directory: refused without
 * waiting on it), NYM_EPEM (framing, label, too big to be a key file),
 * NYM_EENCODING (body not base64), NYM_EKEY (wrong length). */
int nym_keyfile_read(const char *path, const char *label, uint8_t *out, size_t len);
/* The same for a private key: also NYM_EPERM when group or others may access
 * the file (checked on the open file). */
int nym_keyfile_read_private(const char *path, const char *label, uint8_t *out, size_t len);
/* Write atomically with mode 0600; parent directories are created (0700).
 * nym_keyfile_write replaces an existing file; nym_keyfile_create fails with
 * NYM_EEXIST instead. No temporary file is left behind on failure. */
int nym_keyfile_write(const char *path, const char *label, const uint8_t *key, size_t len);
int nym_keyfile_create(const char *path, const char *label, const uint8_t *key, size_t len);

/* "<home>/.nym/clients/<id>/data" and "<home>/.nym/nym-nodes/<id>/data".
 * NYM_EINVAL if id is empty, ".", "..", or holds '/'; NYM_ESIZE if cap is
 * too small; else the length. */
int nym_client_dir(char *out, size_t cap, const char *home, const char *id);
int nym_node_dir(char *out, size_t cap, const char *home, const char *id);
/* "<home>/.nym/service-providers/network-requester/<id>/data", the official
 * network requester's; its key files are a client's. */
int nym_network_requester_dir(char *out, size_t cap, const char *home, const char *id);

/* Whole key sets in a data directory. save: force = 0 refuses (NYM_EEXIST,
 * nothing written) when any of the set's files exists; the files are
 * written to temporary files first and renamed into place only when all
 * are written, so a failure (a full disk: NYM_EIO) leaves none of them,
 * nor a directory it created. load: reads every file
 * and checks that each public key is the one its private key gives (NYM_EKEY
 * otherwise). On failure, if bad is not NULL, *bad names the file at fault
 * (one of the names above); k is wiped. */
int nym_client_keys_save(const char *dir, const struct nym_client_keys *k, int force,
                         const char **bad);
/* The same with the client's gateway (gw, 32 bytes; NULL: none) in
 * NYM_CLIENT_GATEWAY_IDENTITY, all six files as one set. */
int nym_client_keys_save_gw(const char *dir, const struct nym_client_keys *k, const uint8_t *gw,
                            int force, const char **bad);
int nym_client_keys_load(const char *dir, struct nym_client_keys *k, const char **bad);
int nym_node_keys_save(const char *dir, const struct nym_node_keys *k, int force,
                       const char **bad);
int nym_node_keys_load(const char *dir, struct nym_node_keys *k, const char **bad);
/* A node's secondary sphinx key (NYM_NODE_SPHINX_SECONDARY: the previous
 * rotation's, kept through the transition; nym-mixnode and nym-gateway try
 * it after the primary): 0 with key filled, NYM_ENOTFOUND when dir holds
 * none, else nym_keyfile_read_private's errors (NYM_EIO with errno set). */
int nym_node_sphinx_secondary_load(const char *dir, uint8_t key[32]);

/* The client's gateway identity (gateway_identity.pem). load: NYM_ENOTFOUND
 * when the client has no gateway yet; NYM_EKEY when the key is not a valid
 * Ed25519 point. */
int nym_client_gateway_save(const char *dir, const uint8_t gw[32]);
int nym_client_gateway_load(const char *dir, uint8_t gw[32]);

#endif
