/* keyfile.c — PEM key files, key directories, whole key sets on disk. Key
 * files are where the toolkit meets the official clients' directories. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/codec.h"
#include "base/err.h"
#include "crypto/crypto.h"
#include "io/fileio.h"
#include "io/keyfile.h"

/* ---- key files ------------------------------------------------------------ */

#define KEYFILE_MAX 4096 /* far more than any key file; bounds what we read */

static int
keyfile_read(const char *path, const char *label, uint8_t *out, size_t len, int private)
{
	char buf[KEYFILE_MAX + 1];
	struct stat st;
	size_t n = 0;
	int fd, r, saved;

	/* O_NONBLOCK: opening a FIFO would wait for a writer (forever) */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return NYM_EIO;
	if (fstat(fd, &st) < 0)
		goto ioerr;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return NYM_ENOTFILE;
	}
	if (private && (st.st_mode & 077)) {
		close(fd);
		return NYM_EPERM;
	}
	for (;;) {
		ssize_t got = read(fd, buf + n, sizeof buf - n);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			nym_wipe(buf, n);
			goto ioerr;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n == sizeof buf)
			break;
	}
	close(fd);
	if (n > KEYFILE_MAX)
		r = NYM_EPEM; /* not a key file */
	else
		r = nym_pem_decode(out, len, label, buf, n);
	nym_wipe(buf, n);
	return r < 0 ? r : 0;
ioerr:
	saved = errno;
	close(fd);
	errno = saved;
	return NYM_EIO;
}

int
nym_keyfile_read(const char *path, const char *label, uint8_t *out, size_t len)
{
	return keyfile_read(path, label, out, len, 0);
}

int
nym_keyfile_read_private(const char *path, const char *label, uint8_t *out, size_t len)
{
	return keyfile_read(path, label, out, len, 1);
}

/* mkdir -p of the directory part of path, new directories 0700. */
static int
make_parents(const char *path)
{
	char d[4096];
	size_t n = strlen(path);

	if (n >= sizeof d) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(d, path, n + 1);
	char *slash = strrchr(d, '/');
	if (!slash || slash == d)
		return 0;
	*slash = 0;
	for (char *p = d + 1; ; p++) {
		if (*p != '/' && *p != 0)
			continue;
		char c = *p;
		*p = 0;
		if (mkdir(d, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = c;
		if (!c)
			break;
	}
	/* EEXIST also covers a regular file in the way: say so. */
	struct stat st;
	if (stat(d, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* The directory part of path into dir ("." or "/" when it has none). */
static int
dir_of(char *dir, size_t cap, const char *path, const char **base)
{
	const char *b = strrchr(path, '/');
	size_t dl = b ? (size_t)(b - path) : 0;

	*base = b ? b + 1 : path;
	if (!**base || dl >= cap) {
		errno = EINVAL;
		return -1;
	}
	if (dl)
		memcpy(dir, path, dl);
	else
		dir[dl++] = '.';
	dir[dl] = 0;
	if (*base == path + 1 && path[0] == '/')
		strcpy(dir, "/");
	return 0;
}

/* First half of a key file write: the PEM in a synced temporary file
 * beside path (its name in tmp, 4200 bytes), parents made. NYM_EIO (errno
 * set), or the PEM encoder's code for a bad label. */
static int
keyfile_temp(const char *path, const char *label, const uint8_t *key, size_t len, char *tmp)
{
	char pem[1024], dir[4096];
	const char *base;
	int n, fd, saved;

	if ((n = nym_pem_encode(pem, sizeof pem, label, key, len)) < 0)
		return n;
	if (make_parents(path) < 0 || dir_of(dir, sizeof dir, path, &base) < 0)
		goto fail;
	if ((size_t)snprintf(tmp, 4200, "%s/.%s.tmp.XXXXXX", dir, base) >= 4200) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	/* mkstemp creates the file 0600 whatever the umask. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		goto fail;
	if (fchmod(fd, 0600) < 0 || nym_write_full(fd, pem, (size_t)n) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		goto fail;
	}
	if (close(fd) < 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		goto fail;
	}
	nym_wipe(pem, sizeof pem);
	return 0;
fail:
	saved = errno;
	nym_wipe(pem, sizeof pem);
	errno = saved;
	return NYM_EIO;
}

/* Second half: the temporary file becomes path (replacing it when replace,
 * else failing with EEXIST). The temporary file is gone either way. */
static int
keyfile_commit(const char *tmp, const char *path, int replace)
{
	int saved;

	if (replace) {
		if (rename(tmp, path) < 0)
			goto fail_unlink;
	} else {
		/* link() fails with EEXIST rather than replace: no window in which
		 * an existing key could be overwritten. */
		if (link(tmp, path) < 0) {
			struct stat st;
			/* File systems without hard links: check, then rename. */
			if (errno == EEXIST || (errno != EPERM && errno != ENOTSUP &&
			                        errno != EOPNOTSUPP && errno != ENOSYS))
				goto fail_unlink;
			if (lstat(path, &st) == 0) {
				errno = EEXIST;
				goto fail_unlink;
			}
			if (rename(tmp, path) < 0)
				goto fail_unlink;
		} else {
			unlink(tmp);
		}
	}
	return 0;
fail_unlink:
	saved = errno;
	unlink(tmp);
	errno = saved;
	return -1;
}

static int
keyfile_write(const char *path, const char *label, const uint8_t *key, size_t len, int replace)
{
	char tmp[4200], dir[4096];
	const char *base;

	int r;

	if (!path || !*path || !label)
		return NYM_EINVAL;
	if ((r = keyfile_temp(path, label, key, len, tmp)) < 0)
		return r;
	if (keyfile_commit(tmp, path, replace) < 0)
		return errno == EEXIST && !replace ? NYM_EEXIST : NYM_EIO;
	if (dir_of(dir, sizeof dir, path, &base) == 0)
		nym_fsync_dir(dir);
	return 0;
}

int
nym_keyfile_write(const char *path, const char *label, const uint8_t *key, size_t len)
{
	return keyfile_write(path, label, key, len, 1);
}

int
nym_keyfile_create(const char *path, const char *label, const uint8_t *key, size_t len)
{
	return keyfile_write(path, label, key, len, 0);
}

/* ---- directories ---------------------------------------------------------- */

static int
kind_dir(char *out, size_t cap, const char *home, const char *kind, const char *id)
{
	int n;

	if (!home || !*home || !id || !*id || strchr(id, '/') || !strcmp(id, ".") ||
	    !strcmp(id, ".."))
		return NYM_EINVAL;
	n = snprintf(out, cap, "%s%s.nym/%s/%s/data", home,
	             home[strlen(home) - 1] == '/' ? "" : "/", kind, id);
	if (n < 0 || (size_t)n >= cap)
		return NYM_ESIZE;
	return n;
}

int
nym_client_dir(char *out, size_t cap, const char *home, const char *id)
{
	return kind_dir(out, cap, home, "clients", id);
}

int
nym_network_requester_dir(char *out, size_t cap, const char *home, const char *id)
{
	return kind_dir(out, cap, home, "service-providers/network-requester", id);
}

int
nym_node_dir(char *out, size_t cap, const char *home, const char *id)
{
	return kind_dir(out, cap, home, "nym-nodes", id);
}

/* ---- key sets ------------------------------------------------------------- */

struct keyfile {
	const char *name, *label;
	size_t len;
	int private;
};

static const struct keyfile client_files[] = {
	{NYM_CLIENT_PUBLIC_IDENTITY, NYM_PEM_ED25519_PUBLIC, 32, 0},
	{NYM_CLIENT_PRIVATE_IDENTITY, NYM_PEM_ED25519_PRIVATE, 32, 1},
	{NYM_CLIENT_PUBLIC_ENCRYPTION, NYM_PEM_X25519_PUBLIC, 32, 0},
	{NYM_CLIENT_PRIVATE_ENCRYPTION, NYM_PEM_X25519_PRIVATE, 32, 1},
	{NYM_CLIENT_ACK_KEY, NYM_PEM_ACK_KEY, 16, 1},
};

static const struct keyfile node_files[] = {
	{NYM_NODE_PUBLIC_IDENTITY, NYM_PEM_ED25519_PUBLIC, 32, 0},
	{NYM_NODE_PRIVATE_IDENTITY, NYM_PEM_ED25519_PRIVATE, 32, 1},
	{NYM_NODE_SPHINX_PRIMARY, NYM_PEM_X25519_SPHINX_PRIVATE, NYM_SPHINX_KEYFILE_LEN, 1},
};

static const struct keyfile node_legacy_sphinx = {
	NYM_NODE_SPHINX_LEGACY, NYM_PEM_X25519_PRIVATE, 32, 1,
};

static int
join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return NYM_EIO;
	}
	return 0;
}

#define SET_MAX 6 /* a client's five files and its gateway */

/* Write files[i] with data[i] as one set: refuse up front if any exists
 * and !force; every file goes to a temporary file first, and only when all
 * of them are written (a full disk fails here) are they renamed into place,
 * so that a failure leaves no part of a set behind. A directory this
 * creates is removed again on failure. */
static int
save_set(const char *dir, const struct keyfile *f, size_t nf, const uint8_t *const *data,
         int force, const char **bad)
{
	char path[SET_MAX][4200], tmp[SET_MAX][4200];
	struct stat st;
	size_t i, done = 0;
	int r = 0, fresh = stat(dir, &st) < 0, saved;

	for (i = 0; i < nf; i++) {
		if ((r = join(path[i], sizeof path[i], dir, f[i].name)) < 0)
			goto out_i;
		if (!force && lstat(path[i], &st) == 0) {
			r = NYM_EEXIST;
			goto out_i;
		}
	}
	for (i = 0; i < nf; i++, done++)
		if ((r = keyfile_temp(path[i], f[i].label, data[i], f[i].len, tmp[i])) < 0)
			goto undo;
	for (i = 0; i < nf; i++)
		if (keyfile_commit(tmp[i], path[i], force) < 0) {
			r = errno == EEXIST && !force ? NYM_EEXIST : NYM_EIO;
			goto undo;
		}
	nym_fsync_dir(dir);
	return 0;
undo:
	/* files [0, i) of this phase are in place (commit) or written (temp) */
	saved = errno;
	for (size_t j = 0; j < done; j++)
		if (done < nf || j > i)
			unlink(tmp[j]); /* not yet committed */
		else if (j < i && !force)
			unlink(path[j]); /* ours: nothing existed */
	if (fresh)
		rmdir(dir);
	errno = saved;
out_i:
	if (bad)
		*bad = f[i].name;
	return r;
}

static int
load_one(const char *dir, const struct keyfile *f, uint8_t *out, const char **bad)
{
	char path[4200];
	int r;

	if ((r = join(path, sizeof path, dir, f->name)) < 0 ||
	    (r = keyfile_read(path, f->label, out, f->len, f->private)) < 0) {
		if (bad)
			*bad = f->name;
		return r;
	}
	return 0;
}

int
nym_client_keys_save(const char *dir, const struct nym_client_keys *k, int force,
                     const char **bad)
{
	return nym_client_keys_save_gw(dir, k, NULL, force, bad);
}

int
nym_client_keys_save_gw(const char *dir, const struct nym_client_keys *k, const uint8_t *gw,
                        int force, const char **bad)
{
	struct keyfile files[6];
	const uint8_t *data[] = {k->identity_pk, k->identity_seed, k->encryption_pk,
	                         k->encryption_sk, k->ack_key, gw};

	if (gw && nym_ed25519_pk_valid(gw) != 0)
		return NYM_EKEY;
	memcpy(files, client_files, sizeof client_files);
	files[5] = (struct keyfile){NYM_CLIENT_GATEWAY_IDENTITY, NYM_PEM_ED25519_PUBLIC, 32, 0};
	return save_set(dir, files, gw ? 6 : 5, data, force, bad);
}

int
nym_client_keys_load(const char *dir, struct nym_client_keys *k, const char **bad)
{
	uint8_t *data[] = {k->identity_pk, k->identity_seed, k->encryption_pk,
	                   k->encryption_sk, k->ack_key};
	uint8_t pk[32];
	int r = 0;

	for (size_t i = 0; i < 5 && r == 0; i++)
		r = load_one(dir, &client_files[i], data[i], bad);
	if (r == 0 && (nym_ed25519_public(pk, k->identity_seed) < 0 ||
	               memcmp(pk, k->identity_pk, 32))) {
		r = NYM_EKEY;
		if (bad)
			*bad = NYM_CLIENT_PUBLIC_IDENTITY;
	}
	if (r == 0 && (nym_x25519_base(pk, k->encryption_sk) < 0 ||
	               memcmp(pk, k->encryption_pk, 32))) {
		r = NYM_EKEY;
		if (bad)
			*bad = NYM_CLIENT_PUBLIC_ENCRYPTION;
	}
	if (r < 0)
		nym_wipe(k, sizeof *k);
	return r;
}

int
nym_node_keys_save(const char *dir, const struct nym_node_keys *k, int force,
                   const char **bad)
{
	uint8_t sphinx[NYM_SPHINX_KEYFILE_LEN];
	const uint8_t *data[] = {k->identity_pk, k->identity_seed, sphinx};
	int r;

	sphinx[0] = (uint8_t)(k->sphinx_rotation >> 24);
	sphinx[1] = (uint8_t)(k->sphinx_rotation >> 16);
	sphinx[2] = (uint8_t)(k->sphinx_rotation >> 8);
	sphinx[3] = (uint8_t)k->sphinx_rotation;
	memcpy(sphinx + 4, k->sphinx_sk, 32);
	r = save_set(dir, node_files, 3, data, force, bad);
	nym_wipe(sphinx, sizeof sphinx);
	return r;
}

int
nym_node_keys_load(const char *dir, struct nym_node_keys *k, const char **bad)
{
	uint8_t sphinx[NYM_SPHINX_KEYFILE_LEN], pk[32];
	int r;

	if ((r = load_one(dir, &node_files[0], k->identity_pk, bad)) < 0 ||
	    (r = load_one(dir, &node_files[1], k->identity_seed, bad)) < 0)
		goto out;
	r = load_one(dir, &node_files[2], sphinx, bad);
	if (r == NYM_EIO && errno == ENOENT) {
		/* An older nym-node's directory: plain X25519 key, rotation 0. */
		const char *bad2 = NULL;
		int r2 = load_one(dir, &node_legacy_sphinx, sphinx + 4, &bad2);
		if (r2 == 0) {
			memset(sphinx, 0, 4);
			r = 0;
		} else if (!(r2 == NYM_EIO && errno == ENOENT)) {
			r = r2;
			if (bad)
				*bad = bad2;
		} else {
			errno = ENOENT; /* report the primary file as missing */
		}
	}
	if (r < 0)
		goto out;
	k->sphinx_rotation = (uint32_t)sphinx[0] << 24 | (uint32_t)sphinx[1] << 16 |
	                     (uint32_t)sphinx[2] << 8 | sphinx[3];
	memcpy(k->sphinx_sk, sphinx + 4, 32);
	if ((r = nym_x25519_base(k->sphinx_pk, k->sphinx_sk)) < 0)
		goto out;
	if (nym_ed25519_public(pk, k->identity_seed) < 0 || memcmp(pk, k->identity_pk, 32)) {
		r = NYM_EKEY;
		if (bad)
			*bad = NYM_NODE_PUBLIC_IDENTITY;
	}
out:
	nym_wipe(sphinx, sizeof sphinx);
	if (r < 0) {
		int saved = errno;
		nym_wipe(k, sizeof *k);
		errno = saved;
	}
	return r;
}

int
nym_node_sphinx_secondary_load(const char *dir, uint8_t key[32])
{
	uint8_t sec[NYM_SPHINX_KEYFILE_LEN];
	char path[4200];
	int r;

	if ((r = join(path, sizeof path, dir, NYM_NODE_SPHINX_SECONDARY)) < 0)
		return r;
	r = nym_keyfile_read_private(path, NYM_PEM_X25519_SPHINX_PRIVATE, sec, sizeof sec);
	if (r == NYM_EIO && errno == ENOENT)
		r = NYM_ENOTFOUND;
	if (r == 0)
		memcpy(key, sec + 4, 32);
	nym_wipe(sec, sizeof sec);
	return r;
}

int
nym_client_gateway_save(const char *dir, const uint8_t gw[32])
{
	char path[4200];
	int r;

	if (nym_ed25519_pk_valid(gw) != 0)
		return NYM_EKEY;
	if ((r = join(path, sizeof path, dir, NYM_CLIENT_GATEWAY_IDENTITY)) < 0)
		return r;
	return keyfile_write(path, NYM_PEM_ED25519_PUBLIC, gw, 32, 1);
}

int
nym_client_gateway_load(const char *dir, uint8_t gw[32])
{
	char path[4200];
	int r;

	if ((r = join(path, sizeof path, dir, NYM_CLIENT_GATEWAY_IDENTITY)) < 0)
		return r;
	r = keyfile_read(path, NYM_PEM_ED25519_PUBLIC, gw, 32, 0);
	if (r == NYM_EIO && errno == ENOENT)
		return NYM_ENOTFOUND;
	if (r == 0 && nym_ed25519_pk_valid(gw) != 0)
		return NYM_EKEY;
	return r;
}
