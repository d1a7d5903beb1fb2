/* test_keys.c — addresses (doc/spec/nym-message.md §10.1-10.2 and every address
 * in the official-client vectors), key generation replayed from the vectors'
 * key material, key files and key directories. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/codec.h"
#include "base/err.h"
#include "crypto/crypto.h"
#include "io/keyfile.h"
#include "proto/framing.h"
#include "test.h"

static const struct {
	const char *s, *hex;
} spec_addr[] = {
	{"5WdCMZXZBkGsXwPqzxwJqf9sSzyRLt3xmhuGDBaXiQh5.7nFB8HqKM9jxExRkfhUoLb6oo2LSCDDesP5uuXH5iWY1@3yv4qTKVxC5Vqgtshzkcm8nT1q9zeETnj3RMDiaREeB5",
	 "4305849203ec7459fe39839f45b537d00c6c88533a4cabc31f625c4044359cb8"
	 "64bd4903ee679c6c7cc72a4fac6251b1b664a7a44ab7c7d5a2ad66701e9f9442"
	 "2c4be6b68a72aaa3d152cc64765b3996d49397879410d5dfb6a4f225284989e4"},
	{"CytBseW6yFXUMzz4SGAKdNLGR7q3sJLLYxyBGvutNEQV.4QXYyEVc5fUDjmmi8PrHN9tdUFV4PCvSJE1278cHyvoe@4sBbL1ngf1vtNqykydQKTFh26sQCw888GpUqvPvyNB4f",
	 "b202f5983ab6ad7e78b5237d005ff4887689be9a2341179b05d382cf80f1dade"
	 "3299f6b78e8a0bce4daa9fcca3f93204da56a5d5132ee4d484cec3c9927cb965"
	 "396e13d61e2bc32b6353a31da0c34dcc1545f93bab112ce63d9a2c1d0327a724"},
	{"D1rrpsysCGCYXy9saP8y3kmNpGtJZUXN9SvFoUcqAsM9.9Ssso1ea5NfkbMASdiseDSjTN1fSWda5SgEVjdSN4CvV@GJqd3ZxpXWSNxTfx7B1pPtswpetH4LnJdFeLeuY5KUuN",
	 "b2849e728e3eb226d2d864963f8ca9f5ec81c92558a9f263bdbea29d34edf8a0"
	 "7d7e8a80c987c261bd435fda2099b1d714cc6c46f404b54b82c2fc92a67e6612"
	 "e371277338835b77367d464fc87d5cbe735b44c29cca0ae3633ca54d92733e99"},
	{"3KRydEpanwjFhq5GAraVjRUF1Tno7w7oc4EwJYTGNo5J.RgZ7uMJHruBQqD5hC9Ghi3sqiTn6NycfM5qCfJz6yoM@9Byd9VAtyYMnbVAcqdoQxJnq76XEg2dbxbiF5Aa5Jj9J",
	 "227011b6e106aed8a02948eca05a9c03fa29f335bfb2da35aa0eb9215e991929"
	 "0652a9bb58f6d33944e1e4e7741d77eba00e9ccd42014bccccdc0e96bfcbae58"
	 "79ad53dbbca4c2d4eee404803069e05311f6e910ebdf44570d2822badacc7e91"},
	{"FhtkzizQg2JbZ19kGkRKXdjV2QnFbT5ww88ZAKaD4nkF.7Remi4UVYzn1yL3qYtEcQBGh6tzTYxMdYB4uqyHVc5Z4@62F81C9GrHDRja9WCqozemRFSzFPMecY85MbGwn6efve",
	 "da7d5f7640b38ee7f05d7586252ebb9133425aaa16e9f53ec119bcd76504bef8"
	 "5f76c4c203f8dd9e3a2708234c853905a84af488acfc616f37de70831d536f0b"
	 "4a9bfb588ff88b781b97eabc3ce88c2b34b6c7a555d7b3ffa569c01ad168a6b7"},
};

#define ID "CytBseW6yFXUMzz4SGAKdNLGR7q3sJLLYxyBGvutNEQV"
#define ENC "4QXYyEVc5fUDjmmi8PrHN9tdUFV4PCvSJE1278cHyvoe"
#define GW "4sBbL1ngf1vtNqykydQKTFh26sQCw888GpUqvPvyNB4f"

static void
test_spec_addresses(void)
{
	for (size_t i = 0; i < sizeof spec_addr / sizeof *spec_addr; i++) {
		struct nym_address a;
		char why[NYM_ADDRESS_WHY_MAX], out[NYM_ADDRESS_MAX];
		size_t n;
		uint8_t *bin = t_hex(spec_addr[i].hex, &n);
		int r = nym_address_parse(&a, spec_addr[i].s, why, sizeof why);
		CHECK(r == 0, "nym-message.md §10 address %zu parses (%s)", i, r ? why : "ok");
		CHECK_MEM(&a, bin, 96, "nym-message.md §10 address %zu: binary form", i);
		r = nym_address_format(out, sizeof out, &a);
		CHECK(r == (int)strlen(spec_addr[i].s) && !strcmp(out, spec_addr[i].s),
		      "nym-message.md §10 address %zu formats back", i);
		free(bin);
	}
	CHECK(sizeof(struct nym_address) == 96, "struct nym_address is 96 bytes");
}

/* Every string in the vectors that looks like an address was written by the
 * official client (or the model for it): all must parse and format back. */
static int n_vec_addr;
static void
walk(json_t *j)
{
	size_t i;
	const char *k;
	json_t *v;

	if (json_is_string(j)) {
		const char *s = json_string_value(j);
		const char *at = strchr(s, '@'), *dot = strchr(s, '.');
		if (!at || !dot || dot > at || strlen(s) < 100 || strlen(s) > 140 || strchr(s, ' '))
			return;
		struct nym_address a;
		char why[NYM_ADDRESS_WHY_MAX], out[NYM_ADDRESS_MAX];
		int r = nym_address_parse(&a, s, why, sizeof why);
		CHECK(r == 0, "vector address %.20s... parses (%s)", s, r ? why : "ok");
		nym_address_format(out, sizeof out, &a);
		CHECK(!strcmp(out, s), "vector address %.20s... formats back", s);
		n_vec_addr++;
	} else if (json_is_object(j)) {
		json_object_foreach(j, k, v) walk(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) walk(v);
	}
}

static void
test_vector_addresses(void)
{
	char path[4096];
	DIR *d = opendir(t_vectors());
	struct dirent *e;
	CHECK(d != NULL, "open %s", t_vectors());
	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 5, ".json"))
			continue;
		snprintf(path, sizeof path, "%s/%s", t_vectors(), e->d_name);
		json_t *j = json_load_file(path, 0, NULL);
		if (j)
			walk(j);
		json_decref(j);
	}
	closedir(d);
	CHECK(n_vec_addr >= 30, "found the vectors' addresses (%d)", n_vec_addr);
}

static void
bad(const char *s, int code, const char *want)
{
	struct nym_address a;
	char why[NYM_ADDRESS_WHY_MAX];
	int r = nym_address_parse(&a, s, why, sizeof why);
	CHECK(r == code && strstr(why, want) && !strchr(why, '\n'),
	      "bad address \"%.50s\": %d \"%s\"", s, r, why);
}

/* A 32-byte string that is not a compressed Edwards point, in base58. */
static void
not_a_point(char *out)
{
	uint8_t k[32] = {0};
	for (int y = 2; y < 256; y++) {
		k[0] = (uint8_t)y;
		if (nym_ed25519_pk_valid(k) != 0)
			break;
	}
	nym_base58_encode(out, NYM_B58_KEY_MAX, k, 32);
}

static void
test_bad_addresses(void)
{
	char s[400], np[NYM_B58_KEY_MAX];
	bad("", NYM_EADDR, "empty address");
	bad(ID "." ENC GW, NYM_EADDR, "no '@'");
	bad(ID "." ENC "@@" GW, NYM_EADDR, "more than one '@'");
	bad(ID "." ENC "@" GW "@" GW, NYM_EADDR, "more than one '@'");
	bad(ID ENC "@" GW, NYM_EADDR, "no '.'");
	bad(ID ".." ENC "@" GW, NYM_EADDR, "more than one '.'");
	bad(ID "." ENC "." ENC "@" GW, NYM_EADDR, "more than one '.'");
	bad("." ENC "@" GW, NYM_EADDR, "identity key is empty");
	bad(ID ".@" GW, NYM_EADDR, "encryption key is empty");
	bad(ID "." ENC "@", NYM_EADDR, "gateway key is empty");
	bad(ID "0." ENC "@" GW, NYM_EADDR, "identity key: '0' at character 45 is not base58");
	bad(ID "." ENC "l@" GW, NYM_EADDR, "encryption key: 'l' at character 90 is not base58");
	bad(ID "." ENC "@" GW "\n", NYM_EADDR, "gateway key: 0x0a at character 135 is not base58");
	bad(ID "." ENC "@ " GW, NYM_EADDR, "gateway key: 0x20 at character 91 is not base58");
	bad(ID "." ENC "@" GW ".x", NYM_EADDR, "gateway key: '.'");
	bad("abc." ENC "@" GW, NYM_EKEY, "identity key decodes to 3 bytes, not 32");
	bad(ID ".abc@" GW, NYM_EKEY, "encryption key decodes to 3 bytes");
	bad(ID "." ENC "@" GW "AAAA", NYM_EKEY, "gateway key decodes to more than 32 bytes");
	bad(ID "." ENC "@1" GW, NYM_EKEY, "gateway key decodes to 33 bytes");
	not_a_point(np);
	snprintf(s, sizeof s, "%s." ENC "@" GW, np);
	bad(s, NYM_EKEY, "identity key is not a valid Ed25519 public key");
	snprintf(s, sizeof s, ID "." ENC "@%s", np);
	bad(s, NYM_EKEY, "gateway key is not a valid Ed25519 public key");
	/* the encryption key is any 32 bytes (x25519 accepts everything) */
	snprintf(s, sizeof s, ID ".%s@" GW, np);
	struct nym_address a;
	CHECK(nym_address_parse(&a, s, NULL, 0) == 0, "encryption key need not be a point");
	/* the reference parser's order: '@' before '.', identity before gateway */
	bad("x.y.z", NYM_EADDR, "no '@'");
	snprintf(s, sizeof s, "%s." ENC "@%s", np, np);
	bad(s, NYM_EKEY, "identity key");
	CHECK(nym_address_parse(&a, ID "." ENC, NULL, 0) == NYM_EADDR, "why may be NULL");
	char small[8];
	CHECK(nym_address_parse(&a, ID, small, sizeof small) < 0 && strlen(small) == 7,
	      "reason truncated to the buffer");
	char out[10];
	CHECK(nym_address_parse(&a, spec_addr[1].s, NULL, 0) == 0 &&
	      nym_address_format(out, sizeof out, &a) == NYM_ESIZE, "format: buffer too small");
}

static void
test_generate(void)
{
	/* Replay recipient.json's key material through the generator. */
	char path[4096];
	snprintf(path, sizeof path, "%s/recipient.json", t_vectors());
	json_t *j = json_load_file(path, 0, NULL);
	CHECK(j != NULL, "load recipient.json");
	if (!j)
		return;
	const char *h_seed = json_string_value(json_object_get(j, "identity_secret_seed"));
	const char *h_enc = json_string_value(json_object_get(j, "encryption_secret"));
	const char *h_ack = json_string_value(json_object_get(j, "ack_key"));
	const char *addr = json_string_value(json_object_get(j, "address"));
	uint8_t draw[80];
	int nd = nym_hex_decode(draw, 32, h_seed, 64) + nym_hex_decode(draw + 32, 32, h_enc, 64) +
	         nym_hex_decode(draw + 64, 16, h_ack, 32);
	struct nym_rng_fixed st;
	struct nym_rng rng = nym_rng_fixed(&st, draw, sizeof draw);
	struct nym_client_keys k;
	CHECK(nd == 80 && nym_client_keys_generate(&k, &rng) == 0, "client keys from recipient.json material");
	size_t n;
	uint8_t *pk = t_hex(json_string_value(json_object_get(j, "identity_public")), &n);
	CHECK_MEM(k.identity_pk, pk, 32, "identity public key");
	free(pk);
	pk = t_hex(json_string_value(json_object_get(j, "encryption_public")), &n);
	CHECK_MEM(k.encryption_pk, pk, 32, "encryption public key");
	free(pk);
	CHECK_MEM(k.ack_key, draw + 64, 16, "ack key drawn last");
	struct nym_address a, b;
	int pe = nym_address_parse(&b, addr, NULL, 0);
	nym_client_address(&a, &k, b.gateway);
	char out[NYM_ADDRESS_MAX];
	nym_address_format(out, sizeof out, &a);
	CHECK(pe == 0 && !strcmp(out, addr), "address from generated keys = recipient.json address");
	CHECK(nym_client_keys_generate(&k, &rng) == NYM_ESHORT, "rng failure is passed on");
	json_decref(j);

	/* Node keys from network.json. */
	snprintf(path, sizeof path, "%s/network.json", t_vectors());
	j = json_load_file(path, 0, NULL);
	json_t *nodes = json_object_get(j, "nodes"), *node;
	size_t i;
	json_array_foreach(nodes, i, node) {
		struct nym_node_keys nk;
		char b58[NYM_B58_KEY_MAX];
		nd = nym_hex_decode(draw, 32, json_string_value(json_object_get(node, "identity_secret_seed")), 64) +
		     nym_hex_decode(draw + 32, 32, json_string_value(json_object_get(node, "sphinx_secret")), 64);
		rng = nym_rng_fixed(&st, draw, 64);
		CHECK(nd == 64 && nym_node_keys_generate(&nk, &rng) == 0 && nk.sphinx_rotation == 0, "node %zu keys", i);
		nym_base58_encode(b58, sizeof b58, nk.identity_pk, 32);
		CHECK(!strcmp(b58, json_string_value(json_object_get(node, "identity_key_b58"))),
		      "node %zu identity %s", i, b58);
		nym_base58_encode(b58, sizeof b58, nk.sphinx_pk, 32);
		CHECK(!strcmp(b58, json_string_value(json_object_get(node, "sphinx_key_b58"))),
		      "node %zu sphinx key %s", i, b58);
	}
	json_decref(j);

	struct nym_rng sys = nym_rng_system();
	struct nym_client_keys k1, k2;
	nym_client_keys_generate(&k1, &sys);
	nym_client_keys_generate(&k2, &sys);
	CHECK(memcmp(&k1, &k2, sizeof k1) != 0, "system rng gives fresh keys");
}

/* ---- files ---------------------------------------------------------------- */

static char tmpd[256];

static int
count_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".tmp."))
			n++;
	closedir(d);
	return n;
}

static void
put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static mode_t
mode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_mode & 07777 : 0;
}

static void
test_dirs(void)
{
	char p[256];
	CHECK(nym_client_dir(p, sizeof p, "/h", "alice") == 26 && !strcmp(p, "/h/.nym/clients/alice/data"),
	      "client dir: %s", p);
	CHECK(nym_client_dir(p, sizeof p, "/h/", "alice") > 0 && !strcmp(p, "/h/.nym/clients/alice/data"),
	      "client dir: trailing slash in home");
	CHECK(nym_node_dir(p, sizeof p, "/h", "mix1") > 0 && !strcmp(p, "/h/.nym/nym-nodes/mix1/data"),
	      "node dir: %s", p);
	CHECK(nym_client_dir(p, sizeof p, "/h", "") == NYM_EINVAL, "id: empty refused");
	CHECK(nym_client_dir(p, sizeof p, "/h", "..") == NYM_EINVAL, "id: .. refused");
	CHECK(nym_client_dir(p, sizeof p, "/h", ".") == NYM_EINVAL, "id: . refused");
	CHECK(nym_client_dir(p, sizeof p, "/h", "a/b") == NYM_EINVAL, "id: slash refused");
	CHECK(nym_client_dir(p, sizeof p, "", "a") == NYM_EINVAL, "home: empty refused");
	CHECK(nym_client_dir(p, 10, "/h", "alice") == NYM_ESIZE, "dir: buffer too small");
}

static void
test_keyfiles(void)
{
	char dir[512], p[600], p2[600];
	uint8_t key[32], got[32];
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(i + 1);

	snprintf(dir, sizeof dir, "%s/a/b/c", tmpd);
	snprintf(p, sizeof p, "%s/k.pem", dir);
	CHECK(nym_keyfile_write(p, NYM_PEM_X25519_PRIVATE, key, 32) == 0, "write key file, parents created");
	CHECK(mode_of(p) == 0600, "key file mode 0600 (%o)", mode_of(p));
	CHECK(mode_of(dir) == 0700, "new directory mode 0700 (%o)", mode_of(dir));
	CHECK(count_tmp(dir) == 0, "no temporary file left");
	char want[256], have[256];
	int n = nym_pem_encode(want, sizeof want, NYM_PEM_X25519_PRIVATE, key, 32);
	FILE *f = fopen(p, "r");
	size_t hn = fread(have, 1, sizeof have, f);
	fclose(f);
	CHECK(hn == (size_t)n && !memcmp(have, want, hn), "file bytes are the pem 0.8 encoding (CRLF)");
	CHECK(nym_keyfile_read(p, NYM_PEM_X25519_PRIVATE, got, 32) == 0 && !memcmp(got, key, 32),
	      "read it back");
	CHECK(nym_keyfile_read_private(p, NYM_PEM_X25519_PRIVATE, got, 32) == 0, "read as private (0600)");
	chmod(p, 0640);
	CHECK(nym_keyfile_read_private(p, NYM_PEM_X25519_PRIVATE, got, 32) == NYM_EPERM, "group-readable private key refused");
	chmod(p, 0604);
	CHECK(nym_keyfile_read_private(p, NYM_PEM_X25519_PRIVATE, got, 32) == NYM_EPERM, "world-readable private key refused");
	CHECK(nym_keyfile_read(p, NYM_PEM_X25519_PRIVATE, got, 32) == 0, "public read ignores mode");
	CHECK(nym_keyfile_write(p, NYM_PEM_X25519_PRIVATE, key, 32) == 0 && mode_of(p) == 0600,
	      "rewrite restores 0600");
	CHECK(nym_keyfile_create(p, NYM_PEM_X25519_PRIVATE, key, 32) == NYM_EEXIST, "create refuses an existing file");
	CHECK(count_tmp(dir) == 0, "no temporary file left after refusal");

	CHECK(nym_keyfile_read(p, NYM_PEM_X25519_PUBLIC, got, 32) == NYM_EPEM, "wrong label -> EPEM");
	CHECK(nym_keyfile_read(p, NYM_PEM_X25519_PRIVATE, got, 16) == NYM_EKEY, "wrong length -> EKEY");
	snprintf(p2, sizeof p2, "%s/trunc.pem", dir);
	put(p2, "-----BEGIN X25519 PRIVATE KEY-----\r\nAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\r\n", 0600);
	CHECK(nym_keyfile_read(p2, NYM_PEM_X25519_PRIVATE, got, 32) == NYM_EPEM, "truncated -> EPEM");
	put(p2, "-----BEGIN X25519 PRIVATE KEY-----\r\nAQIDBAUGBwgJCgsMDQ4PEBE$ExQVFhcYGRobHB0eHyA=\r\n"
	        "-----END X25519 PRIVATE KEY-----\r\n", 0600);
	CHECK(nym_keyfile_read(p2, NYM_PEM_X25519_PRIVATE, got, 32) == NYM_EENCODING, "garbled -> EENCODING");
	put(p2, "-----BEGIN X25519 PRIVATE KEY-----\nAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n"
	        "-----END X25519 PRIVATE KEY-----\n", 0600);
	CHECK(nym_keyfile_read(p2, NYM_PEM_X25519_PRIVATE, got, 32) == 0 && !memcmp(got, key, 32),
	      "LF file accepted");
	put(p2, "", 0600);
	CHECK(nym_keyfile_read(p2, NYM_PEM_X25519_PRIVATE, got, 32) == NYM_EPEM, "empty file -> EPEM");
	f = fopen(p2, "w");
	for (int i = 0; i < 5000; i++)
		fputc('A', f);
	fclose(f);
	CHECK(nym_keyfile_read(p2, NYM_PEM_X25519_PRIVATE, got, 32) == NYM_EPEM, "huge file -> EPEM");
	snprintf(p2, sizeof p2, "%s/missing.pem", dir);
	errno = 0;
	CHECK(nym_keyfile_read(p2, NYM_PEM_X25519_PRIVATE, got, 32) == NYM_EIO && errno == ENOENT,
	      "missing -> EIO, ENOENT");
	CHECK(nym_keyfile_read(dir, NYM_PEM_X25519_PRIVATE, got, 32) == NYM_ENOTFILE,
	      "directory -> ENOTFILE");
	/* a FIFO: refused at once, not waited on for a writer */
	snprintf(p2, sizeof p2, "%s/fifo.pem", dir);
	CHECK(mkfifo(p2, 0600) == 0 && nym_keyfile_read_private(p2, NYM_PEM_X25519_PRIVATE, got, 32) ==
	      NYM_ENOTFILE, "FIFO -> ENOTFILE");
	unlink(p2);

	/* A write that must fail even as root: a regular file in the path. */
	snprintf(p2, sizeof p2, "%s/k.pem/sub/x.pem", dir);
	errno = 0;
	CHECK(nym_keyfile_write(p2, NYM_PEM_X25519_PRIVATE, key, 32) == NYM_EIO && errno == ENOTDIR,
	      "write under a regular file -> EIO, ENOTDIR");
	snprintf(p2, sizeof p2, "%s/k.pem/x.pem", dir);
	CHECK(nym_keyfile_write(p2, NYM_PEM_X25519_PRIVATE, key, 32) == NYM_EIO, "write beside a file-as-dir fails");
	CHECK(count_tmp(dir) == 0, "no temporary file left after failures");
	CHECK(nym_keyfile_write(p, "BAD-----", key, 32) == NYM_EINVAL, "bad label refused");
}

static void
test_client_set(void)
{
	char home[512], dir[600], p[700];
	struct nym_client_keys k, l;
	struct nym_rng sys = nym_rng_system();
	const char *bad = NULL;

	snprintf(home, sizeof home, "%s/home", tmpd);
	nym_client_dir(dir, sizeof dir, home, "alice");
	nym_client_keys_generate(&k, &sys);
	CHECK(nym_client_keys_save(dir, &k, 0, &bad) == 0, "save client keys");
	const char *names[] = {NYM_CLIENT_PRIVATE_IDENTITY, NYM_CLIENT_PUBLIC_IDENTITY,
	                       NYM_CLIENT_PRIVATE_ENCRYPTION, NYM_CLIENT_PUBLIC_ENCRYPTION,
	                       NYM_CLIENT_ACK_KEY};
	for (int i = 0; i < 5; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		CHECK(mode_of(p) == 0600, "%s is 0600", names[i]);
	}
	CHECK(count_tmp(dir) == 0, "no temporary files in the client directory");
	snprintf(p, sizeof p, "%s/.nym", home);
	CHECK(mode_of(p) == 0700, "~/.nym created 0700");
	CHECK(nym_client_keys_load(dir, &l, &bad) == 0 && !memcmp(&k, &l, sizeof k), "load = saved");
	bad = NULL;
	CHECK(nym_client_keys_save(dir, &k, 0, &bad) == NYM_EEXIST && bad &&
	      !strcmp(bad, NYM_CLIENT_PUBLIC_IDENTITY), "save refuses existing keys (%s)", bad);
	struct nym_client_keys k2;
	nym_client_keys_generate(&k2, &sys);
	CHECK(nym_client_keys_save(dir, &k2, 1, &bad) == 0, "save with force");
	CHECK(nym_client_keys_load(dir, &l, &bad) == 0 && !memcmp(&k2, &l, sizeof k), "load = forced");

	/* Each file damaged in turn, named as the culprit. */
	snprintf(p, sizeof p, "%s/%s", dir, NYM_CLIENT_PRIVATE_ENCRYPTION);
	chmod(p, 0644);
	CHECK(nym_client_keys_load(dir, &l, &bad) == NYM_EPERM && !strcmp(bad, NYM_CLIENT_PRIVATE_ENCRYPTION),
	      "open private key refused, file named");
	uint8_t zero[32] = {0};
	CHECK(l.ack_key[0] == 0 && !memcmp(l.identity_seed, zero, 32), "keys wiped on failure");
	chmod(p, 0600);
	snprintf(p, sizeof p, "%s/%s", dir, NYM_CLIENT_PUBLIC_IDENTITY);
	nym_keyfile_write(p, NYM_PEM_ED25519_PUBLIC, k.identity_pk, 32);
	CHECK(nym_client_keys_load(dir, &l, &bad) == NYM_EKEY && !strcmp(bad, NYM_CLIENT_PUBLIC_IDENTITY),
	      "public identity that does not match -> EKEY");
	nym_keyfile_write(p, NYM_PEM_ED25519_PUBLIC, k2.identity_pk, 32);
	snprintf(p, sizeof p, "%s/%s", dir, NYM_CLIENT_PUBLIC_ENCRYPTION);
	nym_keyfile_write(p, NYM_PEM_X25519_PUBLIC, k.encryption_pk, 32);
	CHECK(nym_client_keys_load(dir, &l, &bad) == NYM_EKEY && !strcmp(bad, NYM_CLIENT_PUBLIC_ENCRYPTION),
	      "public encryption key that does not match -> EKEY");
	nym_keyfile_write(p, NYM_PEM_X25519_PUBLIC, k2.encryption_pk, 32);
	snprintf(p, sizeof p, "%s/%s", dir, NYM_CLIENT_ACK_KEY);
	nym_keyfile_write(p, NYM_PEM_ACK_KEY, k.encryption_pk, 32);
	CHECK(nym_client_keys_load(dir, &l, &bad) == NYM_EKEY && !strcmp(bad, NYM_CLIENT_ACK_KEY),
	      "32-byte ack key -> EKEY");
	nym_keyfile_write(p, NYM_PEM_X25519_PRIVATE, k.ack_key, 16);
	CHECK(nym_client_keys_load(dir, &l, &bad) == NYM_EPEM && !strcmp(bad, NYM_CLIENT_ACK_KEY),
	      "ack key under another label -> EPEM");
	unlink(p);
	errno = 0;
	CHECK(nym_client_keys_load(dir, &l, &bad) == NYM_EIO && errno == ENOENT && !strcmp(bad, NYM_CLIENT_ACK_KEY),
	      "missing ack key -> EIO ENOENT");

	/* gateway */
	uint8_t gw[32], g2[32];
	struct nym_address a;
	int ae = nym_address_parse(&a, spec_addr[1].s, NULL, 0);
	memcpy(gw, a.gateway, 32);
	CHECK(ae == 0 && nym_client_gateway_load(dir, g2) == NYM_ENOTFOUND, "no gateway yet -> ENOTFOUND");
	CHECK(nym_client_gateway_save(dir, gw) == 0, "save gateway");
	snprintf(p, sizeof p, "%s/%s", dir, NYM_CLIENT_GATEWAY_IDENTITY);
	CHECK(mode_of(p) == 0600, "gateway file 0600");
	CHECK(nym_client_gateway_load(dir, g2) == 0 && !memcmp(gw, g2, 32), "load gateway");
	uint8_t np[32] = {0};
	for (int y = 2; y < 256; y++) {
		np[0] = (uint8_t)y;
		if (nym_ed25519_pk_valid(np) != 0)
			break;
	}
	CHECK(nym_client_gateway_save(dir, np) == NYM_EKEY, "gateway that is not a point refused");
	nym_keyfile_write(p, NYM_PEM_ED25519_PUBLIC, np, 32);
	CHECK(nym_client_gateway_load(dir, g2) == NYM_EKEY, "stored gateway that is not a point -> EKEY");
}

static void
test_node_set(void)
{
	char dir[600], p[700];
	struct nym_node_keys k, l;
	struct nym_rng sys = nym_rng_system();
	const char *bad = NULL;
	char home[512];

	snprintf(home, sizeof home, "%s/home", tmpd);
	nym_node_dir(dir, sizeof dir, home, "mix1");
	nym_node_keys_generate(&k, &sys);
	k.sphinx_rotation = 0x01020304;
	CHECK(nym_node_keys_save(dir, &k, 0, &bad) == 0, "save node keys");
	CHECK(nym_node_keys_load(dir, &l, &bad) == 0 && !memcmp(&k, &l, sizeof k), "load = saved (rotation kept)");
	snprintf(p, sizeof p, "%s/%s", dir, NYM_NODE_SPHINX_PRIMARY);
	uint8_t raw[36];
	CHECK(nym_keyfile_read(p, NYM_PEM_X25519_SPHINX_PRIVATE, raw, 36) == 0 &&
	      raw[0] == 1 && raw[3] == 4 && !memcmp(raw + 4, k.sphinx_sk, 32),
	      "sphinx file: rotation id BE || key, as nym-node");
	CHECK(mode_of(p) == 0600, "sphinx file 0600");
	CHECK(nym_node_keys_save(dir, &k, 0, &bad) == NYM_EEXIST, "save refuses existing node keys");

	/* The secondary sphinx key, kept through a rotation. */
	uint8_t sec[32], sec_file[36] = {0, 0, 0, 7};
	CHECK(nym_node_sphinx_secondary_load(dir, sec) == NYM_ENOTFOUND, "no secondary key: NYM_ENOTFOUND");
	memset(sec_file + 4, 0x5e, 32);
	snprintf(p, sizeof p, "%s/%s", dir, NYM_NODE_SPHINX_SECONDARY);
	nym_keyfile_write(p, NYM_PEM_X25519_SPHINX_PRIVATE, sec_file, sizeof sec_file);
	CHECK(nym_node_sphinx_secondary_load(dir, sec) == 0 && !memcmp(sec, sec_file + 4, 32),
	      "secondary key read (rotation id skipped)");
	chmod(p, 0644);
	CHECK(nym_node_sphinx_secondary_load(dir, sec) == NYM_EPERM, "an open secondary key file is refused");
	unlink(p);
	snprintf(p, sizeof p, "%s/%s", dir, NYM_NODE_SPHINX_PRIMARY);

	/* An older nym-node directory: x25519_sphinx, plain 32 bytes. */
	unlink(p);
	snprintf(p, sizeof p, "%s/%s", dir, NYM_NODE_SPHINX_LEGACY);
	nym_keyfile_write(p, NYM_PEM_X25519_PRIVATE, k.sphinx_sk, 32);
	CHECK(nym_node_keys_load(dir, &l, &bad) == 0 && l.sphinx_rotation == 0 &&
	      !memcmp(l.sphinx_sk, k.sphinx_sk, 32) && !memcmp(l.sphinx_pk, k.sphinx_pk, 32),
	      "legacy x25519_sphinx read with rotation 0");
	nym_keyfile_write(p, NYM_PEM_X25519_PUBLIC, k.sphinx_sk, 32);
	CHECK(nym_node_keys_load(dir, &l, &bad) == NYM_EPEM && !strcmp(bad, NYM_NODE_SPHINX_LEGACY),
	      "bad legacy file named");
	unlink(p);
	errno = 0;
	CHECK(nym_node_keys_load(dir, &l, &bad) == NYM_EIO && errno == ENOENT &&
	      !strcmp(bad, NYM_NODE_SPHINX_PRIMARY), "no sphinx key at all: primary named missing");
	snprintf(p, sizeof p, "%s/%s", dir, NYM_NODE_SPHINX_PRIMARY);
	nym_keyfile_write(p, NYM_PEM_X25519_SPHINX_PRIVATE, k.sphinx_sk, 32);
	CHECK(nym_node_keys_load(dir, &l, &bad) == NYM_EKEY && !strcmp(bad, NYM_NODE_SPHINX_PRIMARY),
	      "sphinx file without rotation id -> EKEY");
	snprintf(p, sizeof p, "%s/%s", dir, NYM_NODE_PRIVATE_IDENTITY);
	chmod(p, 0660);
	CHECK(nym_node_keys_load(dir, &l, &bad) == NYM_EPERM && !strcmp(bad, NYM_NODE_PRIVATE_IDENTITY),
	      "open node identity refused");
}

/* Which sphinx key a rotation byte names (nym-node's choice). */
static void
test_sphinx_pick(void)
{
	uint8_t p[32] = {1}, q[32] = {2};
	const uint8_t *out[2];

	CHECK(nym_sphinx_keys_pick(NYM_ROTATION_UNKNOWN, p, 4, q, out) == 2 && out[0] == p && out[1] == q,
	      "pick: Unknown tries the primary, then the secondary");
	CHECK(nym_sphinx_keys_pick(NYM_ROTATION_UNKNOWN, p, 4, NULL, out) == 1 && out[0] == p,
	      "pick: Unknown without a secondary: the primary");
	CHECK(nym_sphinx_keys_pick(NYM_ROTATION_EVEN, p, 4, q, out) == 1 && out[0] == p,
	      "pick: Even, primary of an even rotation");
	CHECK(nym_sphinx_keys_pick(NYM_ROTATION_ODD, p, 4, q, out) == 1 && out[0] == q,
	      "pick: Odd, primary even: the secondary");
	CHECK(nym_sphinx_keys_pick(NYM_ROTATION_ODD, p, 5, q, out) == 1 && out[0] == p,
	      "pick: Odd, primary of an odd rotation");
	CHECK(nym_sphinx_keys_pick(NYM_ROTATION_EVEN, p, 5, NULL, out) == 0,
	      "pick: a parity with no key held: 0");
	CHECK(nym_sphinx_keys_pick(3, p, 4, q, out) == NYM_EFLAG, "pick: a byte that is no rotation");
}

int
main(void)
{
	nym_crypto_init();
	test_sphinx_pick();
	test_spec_addresses();
	test_vector_addresses();
	test_bad_addresses();
	test_generate();
	test_dirs();

	snprintf(tmpd, sizeof tmpd, "%s/nymkit-keys.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpd)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	umask(022);
	test_keyfiles();
	test_client_set();
	test_node_set();
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpd);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpd);
	return t_done();
}
