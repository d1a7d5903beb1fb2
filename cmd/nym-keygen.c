/* nym-keygen — create, show and check Nym client and node keys, in the
 * official programs' directory layout (doc/spec/nym-message.md §1). */
#include <getopt.h>
#include <jansson.h>
#include <sys/stat.h>

#include "base/codec.h"
#include "crypto/crypto.h"
#include "io/keyfile.h"
#include "tool.h"

static const char usage_text[] =
	"Usage: nym-keygen [--id NAME | --dir DIR] [--gateway GATEWAY] [--force] [--json]\n"
	"       nym-keygen --node [--id NAME | --dir DIR] [--rotation N] [--force] [--json]\n"
	"       nym-keygen --show [--node] [--id NAME | --dir DIR] [--json]\n"
	"       nym-keygen --check ADDRESS [--json]\n"
	"\n"
	"Create the keys of a Nym client and print its address, or create the keys of\n"
	"a node and print their public parts. Keys are PEM files, mode 0600, in\n"
	"$NYM_HOME_DIR (or $HOME)/.nym/clients/NAME/data, as the official client keeps\n"
	"them, or .nym/nym-nodes/NAME/data for a node.\n"
	"\n"
	"  -i, --id NAME         the client's name (default $NYM_ID, else 'default'); for\n"
	"                        a node, $NYMNODE_ID, else 'default-nym-node'\n"
	"  -d, --dir DIR         use DIR as the data directory instead\n"
	"  -g, --gateway ID      the gateway's identity key (base58): completes the address\n"
	"  -n, --node            node keys: Ed25519 identity and X25519 sphinx key\n"
	"  -r, --rotation N      the sphinx key's rotation id (nodes, default 0)\n"
	"  -s, --show            print the public parts of existing keys\n"
	"  -c, --check ADDRESS   check an address: exit 0 if valid, else 1 and the reason\n"
	"  -f, --force           replace existing keys\n"
	"  -j, --json            print one JSON object\n"
	"  -h, --help            this text\n"
	"  -V, --version         the version\n";

/* What each file in a key directory should hold, for precise messages. */
static const struct {
	const char *name, *label;
	size_t len;
} files[] = {
	{NYM_CLIENT_PRIVATE_IDENTITY, NYM_PEM_ED25519_PRIVATE, 32},
	{NYM_CLIENT_PUBLIC_IDENTITY, NYM_PEM_ED25519_PUBLIC, 32},
	{NYM_CLIENT_PRIVATE_ENCRYPTION, NYM_PEM_X25519_PRIVATE, 32},
	{NYM_CLIENT_PUBLIC_ENCRYPTION, NYM_PEM_X25519_PUBLIC, 32},
	{NYM_CLIENT_ACK_KEY, NYM_PEM_ACK_KEY, 16},
	{NYM_CLIENT_GATEWAY_IDENTITY, NYM_PEM_ED25519_PUBLIC, 32},
	{NYM_NODE_PRIVATE_IDENTITY, NYM_PEM_ED25519_PRIVATE, 32},
	{NYM_NODE_PUBLIC_IDENTITY, NYM_PEM_ED25519_PUBLIC, 32},
	{NYM_NODE_SPHINX_PRIMARY, NYM_PEM_X25519_SPHINX_PRIVATE, NYM_SPHINX_KEYFILE_LEN},
	{NYM_NODE_SPHINX_LEGACY, NYM_PEM_X25519_PRIVATE, 32},
};

/* One line on what is wrong with dir/name, then exit 1. */
static void __attribute__((noreturn))
die_file(const char *dir, const char *name, int err, int writing)
{
	int saved = errno;
	char path[4200], label[128], text[4097];
	const char *want = NULL;
	size_t len = 0, n = 0;
	uint8_t buf[64];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name ? name : "?");
	for (size_t i = 0; name && i < sizeof files / sizeof *files; i++)
		if (!strcmp(files[i].name, name)) {
			want = files[i].label;
			len = files[i].len;
		}
	switch (err) {
	case NYM_EIO:
		die("%s: cannot %s: %s", path, writing ? "write" : "read", strerror(saved));
	case NYM_EEXIST:
		die("%s: keys already exist (%s); use --force to replace them", dir, name);
	case NYM_EPERM:
		die("%s: private key is accessible by group or others (chmod 600 it)", path);
	case NYM_EENCODING:
		die("%s: PEM body is not valid base64", path);
	case NYM_EPEM:
		if ((f = fopen(path, "r"))) {
			n = fread(text, 1, sizeof text, f);
			fclose(f);
		}
		if (n == sizeof text)
			die("%s: too large to be a key file", path);
		if (want && nym_pem_label(label, sizeof label, text, n) >= 0) {
			if (strcmp(label, want))
				die("%s: wrong PEM label '%s' (expected '%s')", path, label, want);
			die("%s: malformed PEM: truncated or damaged", path);
		}
		die("%s: not a PEM key file (no '-----BEGIN %s-----' line)", path, want ? want : "...");
	case NYM_EKEY:
		/* Readable at the right length, yet refused: a key that does not fit. */
		if (want && len <= sizeof buf && nym_keyfile_read(path, want, buf, len) == 0) {
			nym_wipe(buf, sizeof buf);
			if (!strcmp(name, NYM_CLIENT_GATEWAY_IDENTITY))
				die("%s: not a valid Ed25519 public key", path);
			die("%s: does not match its private key", path);
		}
		die("%s: wrong key length (expected %zu bytes)", path, len);
	}
	die("%s: %s", path, nym_strerror(err));
}

static void
b58(char out[NYM_B58_KEY_MAX], const uint8_t k[32])
{
	nym_base58_encode(out, NYM_B58_KEY_MAX, k, 32);
}

static void
print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!s)
		die("out of memory");
	puts(s);
	free(s);
	json_decref(o);
}

/* Client: the address when there is a gateway, else what is known. */
static void
print_client(const struct nym_client_keys *k, const uint8_t *gw, const char *dir,
             int json, int show)
{
	char id[NYM_B58_KEY_MAX], enc[NYM_B58_KEY_MAX], g[NYM_B58_KEY_MAX];
	char addr[NYM_ADDRESS_MAX];
	struct nym_address a;

	b58(id, k->identity_pk);
	b58(enc, k->encryption_pk);
	if (gw) {
		b58(g, gw);
		nym_client_address(&a, k, gw);
		nym_address_format(addr, sizeof addr, &a);
	} else {
		warnx("no gateway yet: the address is incomplete until the client registers with one");
		snprintf(addr, sizeof addr, "%s.%s@", id, enc);
	}
	if (json) {
		print_json(json_pack("{s:o, s:s, s:s, s:o, s:s}",
		                     "address", gw ? json_string(addr) : json_null(),
		                     "identity_key", id, "encryption_key", enc,
		                     "gateway", gw ? json_string(g) : json_null(), "dir", dir));
	} else if (show) {
		printf("address %s\nidentity_key %s\nencryption_key %s\ngateway %s\n",
		       addr, id, enc, gw ? g : "-");
	} else {
		puts(addr);
	}
}

static void
print_node(const struct nym_node_keys *k, const char *dir, int json)
{
	char id[NYM_B58_KEY_MAX], sx[NYM_B58_KEY_MAX];

	b58(id, k->identity_pk);
	b58(sx, k->sphinx_pk);
	if (json)
		print_json(json_pack("{s:s, s:s, s:I, s:s}", "identity_key", id, "sphinx_key", sx,
		                     "rotation_id", (json_int_t)k->sphinx_rotation, "dir", dir));
	else
		printf("identity_key %s\nsphinx_key %s\nrotation_id %u\n", id, sx,
		       (unsigned)k->sphinx_rotation);
}

static int
check_address(const char *s, int json)
{
	struct nym_address a;
	char why[NYM_ADDRESS_WHY_MAX], id[NYM_B58_KEY_MAX], enc[NYM_B58_KEY_MAX],
		gw[NYM_B58_KEY_MAX];

	if (nym_address_parse(&a, s, why, sizeof why) < 0) {
		if (json)
			print_json(json_pack("{s:b, s:s}", "valid", 0, "error", why));
		die("invalid address: %s", why);
	}
	if (json) {
		b58(id, a.identity);
		b58(enc, a.encryption);
		b58(gw, a.gateway);
		print_json(json_pack("{s:b, s:s, s:s, s:s, s:s}", "valid", 1, "address", s,
		                     "identity_key", id, "encryption_key", enc, "gateway", gw));
	}
	return EXIT_OK;
}

/* The gateway argument: a base58 Ed25519 identity key. */
static void
parse_gateway(uint8_t gw[32], const char *s)
{
	uint8_t buf[33];
	int at, n;

	if (!*s)
		die("--gateway: empty gateway identity key");
	if (strchr(s, '@') || strchr(s, '.'))
		die("--gateway: give the gateway's identity key, not an address");
	if ((at = nym_base58_invalid_at(s, strlen(s))) >= 0) {
		unsigned char c = (unsigned char)s[at];
		if (c > 0x20 && c < 0x7f)
			die("--gateway: '%c' at character %d is not base58", c, at + 1);
		die("--gateway: byte 0x%02x at character %d is not base58", c, at + 1);
	}
	n = nym_base58_decode(buf, sizeof buf, s, strlen(s));
	if (n != 32) {
		if (n >= 0)
			die("--gateway: key decodes to %d bytes, not 32", n);
		die("--gateway: key decodes to more than 32 bytes");
	}
	if (nym_ed25519_pk_valid(buf) != 0)
		die("--gateway: not a valid Ed25519 public key");
	memcpy(gw, buf, 32);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"id", required_argument, 0, 'i'},
		{"dir", required_argument, 0, 'd'},
		{"gateway", required_argument, 0, 'g'},
		{"node", no_argument, 0, 'n'},
		{"rotation", required_argument, 0, 'r'},
		{"show", no_argument, 0, 's'},
		{"check", required_argument, 0, 'c'},
		{"force", no_argument, 0, 'f'},
		{"json", no_argument, 0, 'j'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	const char *id = NULL, *dir = NULL, *gateway = NULL, *check = NULL, *rotation = NULL;
	int node = 0, show = 0, force = 0, json = 0, c, r;
	char dirbuf[4096];
	const char *bad = NULL;

	tool_init("nym-keygen", argv);
	while ((c = getopt_long(argc, argv, "i:d:g:nr:sc:fjhV", opts, NULL)) != -1) {
		switch (c) {
		case 'i': id = optarg; break;
		case 'd': dir = optarg; break;
		case 'g': gateway = optarg; break;
		case 'n': node = 1; break;
		case 'r': rotation = optarg; break;
		case 's': show = 1; break;
		case 'c': check = optarg; break;
		case 'f': force = 1; break;
		case 'j': json = 1; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		case 'V': print_version(); return EXIT_OK;
		default: tool_try_help();
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (check && (id || dir || gateway || node || rotation || show || force))
		usage_error("--check takes only an address (and --json)");
	if (id && dir)
		usage_error("--id and --dir are alternatives");
	if (node && gateway)
		usage_error("--gateway is for client keys, not --node");
	if (show && (gateway || force || rotation))
		usage_error("--show only reads keys: no --gateway, --force or --rotation");
	if (rotation && !node)
		usage_error("--rotation is for --node keys");
	if (nym_crypto_init() < 0)
		die("cannot initialise the crypto library");

	if (check)
		return check_address(check, json);

	uint32_t rot = 0;
	if (rotation) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(rotation, &end, 10);
		if (!*rotation || *end || errno || v > UINT32_MAX || rotation[0] == '-')
			usage_error("--rotation: '%s' is not a number from 0 to 4294967295", rotation);
		rot = (uint32_t)v;
	}
	uint8_t gw[32];
	if (gateway)
		parse_gateway(gw, gateway);

	if (!dir) {
		const char *home = tool_home();
		if (!id)
			id = getenv(node ? "NYMNODE_ID" : "NYM_ID");
		if (!id || !*id)
			id = node ? "default-nym-node" : "default";
		if (!home)
			die("neither NYM_HOME_DIR nor HOME is set (use --dir)");
		r = node ? nym_node_dir(dirbuf, sizeof dirbuf, home, id)
		         : nym_client_dir(dirbuf, sizeof dirbuf, home, id);
		if (r == NYM_EINVAL)
			die("--id: '%s' is not a usable name (no '/', not '.' or '..')", id);
		if (r < 0)
			die("key directory path too long");
		dir = dirbuf;
	} else if (!*dir) {
		die("--dir: empty directory name");
	}

	struct nym_rng rng = nym_rng_system();
	if (node) {
		struct nym_node_keys k;
		if (show) {
			if ((r = nym_node_keys_load(dir, &k, &bad)) < 0)
				die_file(dir, bad, r, 0);
		} else {
			if ((r = nym_node_keys_generate(&k, &rng)) < 0)
				die("cannot generate keys: %s", nym_strerror(r));
			k.sphinx_rotation = rot;
			if ((r = nym_node_keys_save(dir, &k, force, &bad)) < 0) {
				nym_wipe(&k, sizeof k);
				die_file(dir, bad, r, 1);
			}
		}
		print_node(&k, dir, json);
		nym_wipe(&k, sizeof k);
		return EXIT_OK;
	}

	struct nym_client_keys k;
	int have_gw = gateway != NULL;
	if (show) {
		if ((r = nym_client_keys_load(dir, &k, &bad)) < 0)
			die_file(dir, bad, r, 0);
		r = nym_client_gateway_load(dir, gw);
		if (r == 0)
			have_gw = 1;
		else if (r != NYM_ENOTFOUND)
			die_file(dir, NYM_CLIENT_GATEWAY_IDENTITY, r, 0);
	} else {
		if ((r = nym_client_keys_generate(&k, &rng)) < 0)
			die("cannot generate keys: %s", nym_strerror(r));
		/* the keys and the gateway as one set: all written, or none */
		if ((r = nym_client_keys_save_gw(dir, &k, gateway ? gw : NULL, force, &bad)) < 0) {
			nym_wipe(&k, sizeof k);
			die_file(dir, bad, r, 1);
		}
		char gpath[4200];
		snprintf(gpath, sizeof gpath, "%s/%s", dir, NYM_CLIENT_GATEWAY_IDENTITY);
		if (!gateway && unlink(gpath) < 0 && errno != ENOENT) {
			/* replaced keys must not keep the old keys' gateway */
			die("%s: cannot remove: %s", gpath, strerror(errno));
		}
	}
	print_client(&k, have_gw ? gw : NULL, dir, json, show);
	nym_wipe(&k, sizeof k);
	return EXIT_OK;
}
