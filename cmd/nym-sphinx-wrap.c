/* nym-sphinx-wrap — Sphinx packets through pipes: wrap a payload for a
 * route, peel one layer with a node key, make and use SURBs, inspect. */
#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>

#include "codec.h"
#include "crypto.h"
#include "keys.h"
#include "packet.h"
#include "sphinx.h"
#include "surb.h"
#include "tool.h"

static const char usage_text[] =
	"Usage: nym-sphinx-wrap (--hop HOST:PORT:KEY... | --route FILE) --destination ADDRESS\n"
	"                       [--version 257|258|259] [--delay-mean MS] [--size SIZE] < payload > packet\n"
	"       nym-sphinx-wrap --unwrap --key NODE_KEY_FILE < packet > next\n"
	"       nym-sphinx-wrap --surb (--hop ... | --route FILE) --destination ADDRESS\n"
	"                       [--surb-keys FILE] > surb\n"
	"       nym-sphinx-wrap --use-surb FILE [--size SIZE] < payload > packet\n"
	"       nym-sphinx-wrap --unwrap-reply --surb-keys FILE < packet > payload\n"
	"       nym-sphinx-wrap --inspect [--key NODE_KEY_FILE] < packet\n"
	"\n"
	"Build, peel and inspect Sphinx packets byte-compatible with the Nym mixnet\n"
	"(sphinx-packet 0.6.0). Packets and SURBs are read raw, as hex, as base64 or as\n"
	"the JSON this tool prints; they are written raw unless --hex or --base64.\n"
	"\n"
	"  -H, --hop HOST:PORT:KEY   a hop: its mix address and base58 (or hex) sphinx key;\n"
	"                            repeat in route order, 1 to 5 hops\n"
	"  -r, --route FILE          the route as JSON (hops[].mix_host, hops[].sphinx_key,\n"
	"                            optional destination), as nym-topology prints it\n"
	"  -d, --destination ADDR    the recipient: client address or base58 identity key\n"
	"  -v, --version N           Sphinx version: 259 (default), 258, 257 or 1\n"
	"  -m, --delay-mean MS       mean per-hop delay, exponential (default 15; 0: none)\n"
	"  -s, --size SIZE           regular (default), ack, extended8, extended16, extended32\n"
	"  -u, --unwrap              peel one layer with --key: next packet to stdout, next hop\n"
	"                            and delay to stderr; the payload at the final hop\n"
	"  -k, --key FILE            the node's sphinx private key (PEM X25519 PRIVATE KEY);\n"
	"                            twice for a node's two rotation keys, tried in turn\n"
	"  -S, --surb                create a SURB for the route instead of a packet\n"
	"  -K, --surb-keys FILE      where --surb writes, and --unwrap-reply reads, the keys\n"
	"  -U, --use-surb FILE       wrap stdin into a reply through the SURB in FILE\n"
	"  -R, --unwrap-reply        recover a reply packet as the SURB's creator\n"
	"  -i, --inspect             print what the packet shows (and with --key what one\n"
	"                            layer reveals) as JSON\n"
	"  -x, --hex                 write hex\n"
	"  -b, --base64              write base64\n"
	"  -j, --json                one JSON object on stdout instead of raw data\n"
	"  -h, --help                this text\n"
	"  -V, --version             (with no number) the program's version\n";

enum mode { WRAP, UNWRAP, SURB, USE_SURB, UNWRAP_REPLY, INSPECT
	/* issue 4 adds NYM (a Nym message) and DECRYPT here */ };
enum enc { RAW, HEX, B64 };

static struct {
	enum mode mode;
	int mode_set;
	enum enc enc;
	int json;
	const char *route_file, *destination, *key_file, *surb_keys, *surb_file;
	const char *key_files[2]; /* --key twice: a node's two rotation keys */
	size_t nkeys;
	const char *hops[NYM_SPHINX_MAX_HOPS + 1];
	size_t nhops;
	int too_many_hops;
	uint16_t version;
	double delay_mean_ms;
	uint8_t size_tag;
} opt = { .version = 259, .delay_mean_ms = 15, .size_tag = NYM_SIZE_REGULAR };

static struct nym_sphinx_ctx ctx;

/* ---- output -------------------------------------------------------------- */

/* bytes as the chosen text form (malloc'd). */
static char *
encode(const uint8_t *b, size_t n, enum enc e)
{
	size_t cap = e == B64 ? NYM_B64_ENCLEN(n) : 2 * n + 1;
	char *s = malloc(cap);
	if (!s)
		die("out of memory");
	if ((e == B64 ? nym_base64_encode(s, cap, b, n) : nym_hex_encode(s, cap, b, n)) < 0)
		die("cannot encode output");
	return s;
}

static void
write_data(const uint8_t *b, size_t n)
{
	if (opt.enc == RAW) {
		if (write_all(1, b, n) < 0)
			die("cannot write output: %s", strerror(errno));
		return;
	}
	char *s = encode(b, n, opt.enc);
	printf("%s\n", s);
	free(s);
}

static void
json_print(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	if (!s)
		die("out of memory");
	printf("%s\n", s);
	free(s);
	json_decref(o);
}

static json_t *
jbytes(const uint8_t *b, size_t n, enum enc e)
{
	char *s = encode(b, n, e == B64 ? B64 : HEX);
	json_t *j = json_string(s);
	free(s);
	return j;
}

static void
addr_text(char *out, size_t cap, const uint8_t *a, size_t len)
{
	struct nym_node_addr na;
	if (nym_node_addr_decode(&na, a, len) < 0 || nym_node_addr_format(out, cap, &na) < 0)
		nym_hex_encode(out, cap, a, cap / 2 - 1 < len ? cap / 2 - 1 : len);
}

/* ---- input --------------------------------------------------------------- */

static int
all_of(const uint8_t *b, size_t n, const char *extra, int hexonly)
{
	for (size_t i = 0; i < n; i++) {
		int c = b[i];
		if (isspace(c) || (hexonly ? isxdigit(c) : (isalnum(c) || strchr(extra, c))))
			continue;
		return 0;
	}
	return 1;
}

/* Text is printable ASCII and white space only; a raw packet or SURB is
 * random-looking bytes and (but for a deliberately crafted one) never is. */
static int
is_text(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((b[i] >= 0x20 && b[i] < 0x7f) || b[i] == '\n' || b[i] == '\r' || b[i] == '\t'))
			return 0;
	return 1;
}

/* A packet or SURB: raw bytes, or as text: hex, base64, or JSON with a
 * "packet" or "surb" field (what --json prints). Returns a malloc'd buffer. */
static uint8_t *
read_blob(FILE *f, const char *what, size_t *len)
{
	size_t n, tn = 0;
	uint8_t *b = read_all(f, &n, 4 * NYM_PACKET_MAX_LEN + 4096), *out;
	int r = -1;

	if (!b)
		die("cannot read the %s: %s", what, errno == EFBIG ? "too large" : strerror(errno));
	if (n == 0 || !is_text(b, n)) {
		*len = n;
		return b;
	}
	while (tn < n && isspace(b[tn]))
		tn++;
	if (tn == n) {
		*len = 0;
		return b;
	}
	if (b[tn] == '{') {
		json_error_t err;
		json_t *j = json_loadb((const char *)b, n, 0, &err), *v;
		if (!j)
			die("the %s looks like JSON but is not: %s", what, err.text);
		v = json_object_get(j, "packet");
		if (!v)
			v = json_object_get(j, "surb");
		if (!json_is_string(v))
			die("the JSON %s has no \"packet\" or \"surb\" field", what);
		const char *s = json_string_value(v);
		size_t sl = strlen(s);
		out = malloc(sl + 1);
		if (!out)
			die("out of memory");
		if ((r = nym_hex_decode(out, sl, s, sl)) < 0 && (r = nym_base64_decode(out, sl, s, sl)) < 0)
			die("the JSON %s field is neither hex nor base64", what);
		json_decref(j);
	} else if (all_of(b, n, "", 1)) {
		char *t = malloc(n + 1);
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (!isspace(b[i]))
				t[k++] = (char)b[i];
		out = malloc(k / 2 + 1);
		if (!t || !out)
			die("out of memory");
		r = nym_hex_decode(out, k / 2 + 1, t, k);
		free(t);
		if (r < 0)
			die("the %s is not valid hex", what);
	} else {
		out = malloc(n);
		if (!out)
			die("out of memory");
		if ((r = nym_base64_decode(out, n, (const char *)b, n)) < 0)
			die("the %s is text but neither hex, base64 nor JSON", what);
	}
	free(b);
	*len = (size_t)r;
	return out;
}

/* A packet to process: must have one of the Nym Sphinx sizes. */
static uint8_t *
read_packet(size_t *len)
{
	uint8_t *p = read_blob(stdin, "packet", len);
	if (*len == 0)
		die("no packet on standard input");
	if (nym_packet_size_of_len(*len) < 0)
		die("packet is %zu bytes, not a Nym Sphinx packet size (regular 2413, ack 386, "
		    "extended8 8557, extended16 16749, extended32 33133)", *len);
	return p;
}

static void
read_node_key(uint8_t sk[32], const char *path)
{
	uint8_t buf[NYM_SPHINX_KEYFILE_LEN];
	int rc;

	opt.key_file = path;
	rc = nym_keyfile_read_private(opt.key_file, NYM_PEM_X25519_PRIVATE, sk, 32);

	if (rc == NYM_EPEM &&
	    nym_keyfile_read_private(opt.key_file, NYM_PEM_X25519_SPHINX_PRIVATE, buf, sizeof buf) == 0) {
		/* nym-node's newer form: rotation id (4) || key (32) */
		memcpy(sk, buf + 4, 32);
		nym_wipe(buf, sizeof buf);
		return;
	}
	if (rc == NYM_EIO)
		die("%s: %s", opt.key_file, strerror(errno));
	if (rc == NYM_EPERM)
		die("%s: private key is accessible by group or others (chmod 600 it)", opt.key_file);
	if (rc < 0)
		die("%s: not a sphinx private key (PEM \"X25519 PRIVATE KEY\", 32 bytes): %s",
		    opt.key_file, nym_strerror(rc));
}

/* ---- route --------------------------------------------------------------- */

static void
set_key(uint8_t pk[32], const char *s, const char *where)
{
	if (strlen(s) == 64 && nym_hex_decode(pk, 32, s, 64) == 32)
		return;
	if (nym_base58_decode32(pk, s) < 0)
		die("%s: sphinx key '%s' is neither base58 nor 64 hex digits", where, s);
}

static void
set_host(uint8_t addr[32], const char *s, const char *where)
{
	struct nym_node_addr a;
	if (nym_node_addr_parse(&a, s) < 0)
		die("%s: '%s' is not HOST:PORT (IPv4, or [IPv6]:PORT)", where, s);
	nym_node_addr_encode(addr, 32, &a);
}

static void
set_destination(uint8_t dst[32], const char *s)
{
	struct nym_address a;
	char why[NYM_ADDRESS_WHY_MAX];

	if (strchr(s, '@')) {
		if (nym_address_parse(&a, s, why, sizeof why) < 0)
			die("destination '%s': %s", s, why);
		memcpy(dst, a.identity, 32);
	} else if (nym_base58_decode32(dst, s) < 0 &&
	           !(strlen(s) == 64 && nym_hex_decode(dst, 32, s, 64) == 32)) {
		die("destination '%s' is neither a client address nor a 32-byte key", s);
	}
}

/* Exponential delay with the given mean, as the official client samples it:
 * -ln(U) * mean, U uniform in (0, 1], rounded to whole nanoseconds. */
static uint64_t
sample_delay(double mean_ns)
{
	struct nym_rng rng = nym_rng_system();
	uint8_t b[8];
	uint64_t r = 0;
	if (mean_ns <= 0)
		return 0;
	if (nym_rng_fill(&rng, b, sizeof b) < 0)
		die("no randomness");
	for (int i = 0; i < 8; i++)
		r = r << 8 | b[i];
	double u = ((double)(r >> 11) + 1.0) / 9007199254740992.0;
	return (uint64_t)llround(-log(u) * mean_ns);
}

static void
load_route(struct nym_sphinx_route *r)
{
	int have_dest = 0;

	memset(r, 0, sizeof *r);
	r->version = opt.version;
	if (opt.route_file) {
		json_error_t err;
		json_t *j = json_load_file(opt.route_file, 0, &err), *hops, *h, *d;
		size_t i;
		if (!j)
			die("%s: %s", opt.route_file, err.text);
		hops = json_object_get(j, "hops");
		if (!json_is_array(hops) || json_array_size(hops) == 0)
			die("%s: no \"hops\" array", opt.route_file);
		if (json_array_size(hops) > NYM_SPHINX_MAX_HOPS)
			die("%s: route of %zu hops is longer than %d", opt.route_file,
			    json_array_size(hops), NYM_SPHINX_MAX_HOPS);
		json_array_foreach(hops, i, h) {
			const char *mh = json_string_value(json_object_get(h, "mix_host"));
			const char *sk = json_string_value(json_object_get(h, "sphinx_key"));
			char where[64];
			snprintf(where, sizeof where, "%s: hop %zu", opt.route_file, i);
			if (!mh || !sk)
				die("%s has no mix_host or sphinx_key", where);
			set_host(r->hop[i].address, mh, where);
			set_key(r->hop[i].pubkey, sk, where);
		}
		r->nhops = json_array_size(hops);
		d = json_object_get(j, "destination");
		if (json_is_string(d) && !opt.destination) {
			set_destination(r->destination, json_string_value(d));
			have_dest = 1;
		}
		json_decref(j);
	} else {
		if (opt.too_many_hops)
			die("route of more than %d hops", NYM_SPHINX_MAX_HOPS);
		for (size_t i = 0; i < opt.nhops; i++) {
			char buf[256], where[32], *colon;
			snprintf(where, sizeof where, "--hop %zu", i + 1);
			snprintf(buf, sizeof buf, "%s", opt.hops[i]);
			if (!(colon = strrchr(buf, ':')))
				die("%s: '%s' is not HOST:PORT:KEY", where, opt.hops[i]);
			*colon = 0;
			set_host(r->hop[i].address, buf, where);
			set_key(r->hop[i].pubkey, colon + 1, where);
		}
		r->nhops = opt.nhops;
	}
	if (opt.destination) {
		set_destination(r->destination, opt.destination);
		have_dest = 1;
	}
	if (!have_dest)
		usage_error("a destination is needed (--destination, or in the route file)");
	for (size_t i = 0; i < r->nhops; i++)
		r->delay_ns[i] = sample_delay(opt.delay_mean_ms * 1e6);
}

static uint8_t *
read_payload(size_t *len)
{
	uint8_t *m = read_all(stdin, len, NYM_PACKET_MAX_LEN);
	size_t cap = nym_packet_plaintext_len(opt.size_tag);
	if (!m && errno == EFBIG)
		die("payload is larger than any packet (at most %zu bytes for %s)", cap,
		    nym_packet_size_name(opt.size_tag));
	if (!m)
		die("cannot read the payload: %s", strerror(errno));
	if (*len > cap)
		die("payload of %zu bytes does not fit a%s %s packet (at most %zu bytes)", *len,
		    opt.size_tag == NYM_SIZE_ACK || opt.size_tag >= NYM_SIZE_EXTENDED32 ? "n" : "",
		    nym_packet_size_name(opt.size_tag), cap);
	return m;
}

/* ---- modes --------------------------------------------------------------- */

static int
do_wrap(void)
{
	struct nym_sphinx_route r;
	struct nym_rng rng = nym_rng_system();
	size_t mlen, len = nym_packet_len(opt.size_tag);
	uint8_t *msg, *pkt = malloc(len);
	int rc;

	load_route(&r);
	msg = read_payload(&mlen);
	if ((rc = nym_sphinx_create(&ctx, pkt, len, &r, msg, mlen, &rng)) < 0)
		die("cannot build the packet: %s", nym_strerror(rc));
	if (opt.json) {
		json_t *o = json_object(), *d = json_array();
		char h[NYM_NODE_ADDR_STR_MAX];
		addr_text(h, sizeof h, r.hop[0].address, 32);
		json_object_set_new(o, "first_hop", json_string(h));
		json_object_set_new(o, "version", json_integer(r.version));
		json_object_set_new(o, "hops", json_integer((json_int_t)r.nhops));
		for (size_t i = 0; i + 1 < r.nhops; i++)
			json_array_append_new(d, json_integer((json_int_t)r.delay_ns[i]));
		json_object_set_new(o, "delays_ns", d);
		json_object_set_new(o, "size", json_integer((json_int_t)len));
		json_object_set_new(o, "size_class", json_string(nym_packet_size_name(opt.size_tag)));
		json_object_set_new(o, "packet", jbytes(pkt, len, opt.enc));
		json_print(o);
	} else {
		write_data(pkt, len);
	}
	free(msg);
	free(pkt);
	return EXIT_OK;
}

static void
describe_error(int rc)
{
	if (rc == NYM_EMAC)
		die("MAC check failed: wrong key, or the packet was altered");
	if (rc == NYM_EFLAG)
		die("unknown routing flag: the packet is malformed");
	die("cannot process the packet: %s", nym_strerror(rc));
}

/* Process with each --key in turn: a wrong key fails the MAC and leaves
 * the packet as it was, as a node with two rotation keys does. */
static int
process_with_keys(uint8_t *pkt, size_t len, struct nym_sphinx_processed *out)
{
	struct nym_sphinx_secret s;
	uint8_t sk[32];
	int rc = NYM_EMAC;

	for (size_t i = 0; i < opt.nkeys && rc == NYM_EMAC; i++) {
		read_node_key(sk, opt.key_files[i]);
		if ((rc = nym_sphinx_derive(&s, pkt, len, sk)) == 0)
			rc = nym_sphinx_process_secret(&ctx, pkt, len, &s, out);
		nym_wipe(&s, sizeof s);
		nym_wipe(sk, sizeof sk);
	}
	return rc;
}

static int
do_unwrap(void)
{
	struct nym_sphinx_processed out;
	uint8_t *pkt;
	size_t len, mlen;
	char b58[NYM_B58_KEY_MAX], hop[NYM_NODE_ADDR_STR_MAX], idhex[33];
	int rc;

	pkt = read_packet(&len);
	rc = process_with_keys(pkt, len, &out);
	if (rc < 0)
		describe_error(rc);
	if (!out.final) {
		addr_text(hop, sizeof hop, out.next_hop, 32);
		if (opt.json) {
			json_t *o = json_object();
			json_object_set_new(o, "hop", json_string("forward"));
			json_object_set_new(o, "version", json_integer(out.version));
			json_object_set_new(o, "next_hop", json_string(hop));
			json_object_set_new(o, "next_hop_bytes", jbytes(out.next_hop, 32, HEX));
			json_object_set_new(o, "delay_ns", json_integer((json_int_t)out.delay_ns));
			json_object_set_new(o, "replay_tag", jbytes(out.replay_tag, 32, HEX));
			json_object_set_new(o, "size", json_integer((json_int_t)len));
			json_object_set_new(o, "packet", jbytes(pkt, len, opt.enc));
			json_print(o);
		} else {
			warnx("forward hop, version %u: next hop %s, delay %llu ns (%.3f ms)", out.version,
			      hop, (unsigned long long)out.delay_ns, (double)out.delay_ns / 1e6);
			write_data(pkt, len);
		}
		free(pkt);
		return EXIT_OK;
	}
	uint8_t *payload = pkt + out.payload_off;
	if (nym_sphinx_unpad(payload, out.payload_len, &mlen) < 0)
		die("final hop, but the payload padding is wrong (no 16 leading zero bytes or no 01 "
		    "marker): the payload was altered or wrongly encrypted");
	nym_base58_encode(b58, sizeof b58, out.destination, 32);
	nym_hex_encode(idhex, sizeof idhex, out.identifier, 16);
	if (opt.json) {
		json_t *o = json_object();
		json_object_set_new(o, "hop", json_string("final"));
		json_object_set_new(o, "version", json_integer(out.version));
		json_object_set_new(o, "destination", json_string(b58));
		json_object_set_new(o, "identifier", json_string(idhex));
		json_object_set_new(o, "replay_tag", jbytes(out.replay_tag, 32, HEX));
		json_object_set_new(o, "payload_len", json_integer((json_int_t)mlen));
		json_object_set_new(o, "payload", jbytes(payload + 16, mlen, opt.enc));
		json_print(o);
	} else {
		warnx("final hop, version %u: destination %s, identifier %s; wrote the %zu-byte payload",
		      out.version, b58, idhex, mlen);
		write_data(payload + 16, mlen);
	}
	free(pkt);
	return EXIT_OK;
}

/* The --surb-keys file (text; documented in the man page):
 *   nym-surb-keys 1
 *   version 259
 *   hop 0 mac <32 hex> key <384 hex>
 *   ...                        one line per hop, in route order
 * Lines starting with # are comments. */
static void
write_surb_keys(const struct nym_sphinx_layers *l)
{
	int fd = open(opt.surb_keys, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FILE *f;
	char mac[33], key[385];

	if (fd < 0 || !(f = fdopen(fd, "w")))
		die("%s: %s", opt.surb_keys, strerror(errno));
	fprintf(f, "# nym-sphinx-wrap SURB keys: secret, keep private\nnym-surb-keys 1\nversion %u\n",
	        l->version);
	for (size_t i = 0; i < l->nhops; i++) {
		nym_hex_encode(mac, sizeof mac, l->hop[i].mac_key, 16);
		nym_hex_encode(key, sizeof key, l->hop[i].payload_key, 192);
		fprintf(f, "hop %zu mac %s key %s\n", i, mac, key);
	}
	nym_wipe(mac, sizeof mac);
	nym_wipe(key, sizeof key);
	if (fclose(f) != 0)
		die("%s: %s", opt.surb_keys, strerror(errno));
}

static void
read_surb_keys(struct nym_sphinx_layers *l)
{
	FILE *f = fopen(opt.surb_keys, "r");
	char line[1024], mac[64], key[512];
	int magic = 0, have_version = 0, lineno = 0;
	unsigned v, i;

	if (!f)
		die("%s: %s", opt.surb_keys, strerror(errno));
	memset(l, 0, sizeof *l);
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (!magic) {
			if (strcmp(line, "nym-surb-keys 1\n") != 0)
				die("%s: not a SURB keys file (first line must be 'nym-surb-keys 1')", opt.surb_keys);
			magic = 1;
		} else if (sscanf(line, "version %u", &v) == 1 && v <= 0xffff) {
			l->version = (uint16_t)v;
			have_version = 1;
		} else if (sscanf(line, "hop %u mac %63s key %511s", &i, mac, key) == 3 && i == l->nhops &&
		           i < NYM_SPHINX_MAX_HOPS &&
		           nym_hex_decode(l->hop[i].mac_key, 16, mac, strlen(mac)) == 16 &&
		           nym_hex_decode(l->hop[i].payload_key, 192, key, strlen(key)) == 192) {
			l->nhops++;
		} else {
			die("%s: line %d is malformed", opt.surb_keys, lineno);
		}
	}
	fclose(f);
	nym_wipe(line, sizeof line);
	nym_wipe(key, sizeof key);
	if (!magic || !have_version || l->nhops == 0)
		die("%s: incomplete SURB keys file", opt.surb_keys);
}

static int
do_surb(void)
{
	struct nym_sphinx_route r;
	struct nym_sphinx_layers keys;
	struct nym_surb s;
	struct nym_rng rng = nym_rng_system();
	uint8_t buf[NYM_SURB_MAX_LEN];
	int rc, n;

	load_route(&r);
	if ((rc = nym_surb_create(&ctx, &s, &keys, &r, &rng)) < 0)
		die("cannot create the SURB: %s", nym_strerror(rc));
	n = nym_surb_serialize(buf, sizeof buf, &s);
	if (opt.surb_keys)
		write_surb_keys(&keys);
	nym_wipe(&keys, sizeof keys);
	if (opt.json) {
		json_t *o = json_object();
		char h[NYM_NODE_ADDR_STR_MAX];
		addr_text(h, sizeof h, s.first_hop, 32);
		json_object_set_new(o, "first_hop", json_string(h));
		json_object_set_new(o, "version", json_integer(r.version));
		json_object_set_new(o, "hops", json_integer((json_int_t)s.nhops));
		json_object_set_new(o, "material", json_string(s.seeds ? "seeds" : "keys"));
		json_object_set_new(o, "len", json_integer(n));
		json_object_set_new(o, "surb", jbytes(buf, (size_t)n, opt.enc));
		json_print(o);
	} else {
		write_data(buf, (size_t)n);
	}
	nym_wipe(&s, sizeof s);
	nym_wipe(buf, sizeof buf);
	return EXIT_OK;
}

static int
do_use_surb(void)
{
	FILE *f = fopen(opt.surb_file, "rb");
	struct nym_surb s;
	size_t sl, mlen, len = nym_packet_len(opt.size_tag);
	uint8_t *sb, *msg, *pkt = malloc(len);
	char h[NYM_NODE_ADDR_STR_MAX];
	int rc;

	if (!f)
		die("%s: %s", opt.surb_file, strerror(errno));
	sb = read_blob(f, "SURB", &sl);
	fclose(f);
	if ((rc = nym_surb_parse(&s, sb, sl)) < 0)
		die("%s: not a SURB (%zu bytes): %s", opt.surb_file, sl,
		    rc == NYM_ESHORT ? "shorter than 396 bytes" :
		    rc == NYM_EROUTE ? "more than 5 hops" : "key material of a wrong length");
	msg = read_payload(&mlen);
	if ((rc = nym_surb_use(pkt, len, &s, msg, mlen)) < 0)
		die("cannot use the SURB: %s", nym_strerror(rc));
	addr_text(h, sizeof h, s.first_hop, 32);
	if (opt.json) {
		json_t *o = json_object();
		json_object_set_new(o, "first_hop", json_string(h));
		json_object_set_new(o, "size", json_integer((json_int_t)len));
		json_object_set_new(o, "packet", jbytes(pkt, len, opt.enc));
		json_print(o);
	} else {
		warnx("reply packet for first hop %s", h);
		write_data(pkt, len);
	}
	nym_wipe(&s, sizeof s);
	free(sb); free(msg); free(pkt);
	return EXIT_OK;
}

static int
do_unwrap_reply(void)
{
	struct nym_sphinx_layers keys;
	size_t len, mlen;
	uint8_t *pkt;
	int hop;

	read_surb_keys(&keys);
	pkt = read_packet(&len);
	hop = nym_surb_unwrap(pkt, len, &keys, &mlen);
	nym_wipe(&keys, sizeof keys);
	if (hop == NYM_ENOTFOUND)
		die("the packet was not made from this SURB (no hop's MAC verifies)");
	if (hop < 0)
		die("the reply's payload padding is wrong: the packet was altered");
	if (opt.json) {
		json_t *o = json_object();
		json_object_set_new(o, "hop", json_integer(hop));
		json_object_set_new(o, "payload_len", json_integer((json_int_t)mlen));
		json_object_set_new(o, "payload", jbytes(pkt + 364, mlen, opt.enc));
		json_print(o);
	} else {
		warnx("reply found at hop %d of its return path; wrote the %zu-byte payload", hop, mlen);
		write_data(pkt + 364, mlen);
	}
	free(pkt);
	return EXIT_OK;
}

static int
do_inspect(void)
{
	size_t len;
	uint8_t *pkt = read_blob(stdin, "packet", &len);
	json_t *o = json_object();
	int tag, status = EXIT_OK;

	if (len < NYM_SPHINX_MIN_PACKET)
		die("packet is %zu bytes, shorter than the smallest Sphinx packet (%d)", len,
		    NYM_SPHINX_MIN_PACKET);
	tag = nym_packet_size_of_len(len);
	json_object_set_new(o, "size", json_integer((json_int_t)len));
	json_object_set_new(o, "size_class", tag < 0 ? json_null() : json_string(nym_packet_size_name((uint8_t)tag)));
	json_object_set_new(o, "header_len", json_integer(NYM_SPHINX_HEADER_LEN));
	json_object_set_new(o, "payload_len", json_integer((json_int_t)(len - NYM_SPHINX_HEADER_LEN)));
	json_object_set_new(o, "alpha", jbytes(pkt, 32, HEX));
	json_object_set_new(o, "mac", jbytes(pkt + NYM_SPHINX_OFF_MAC, 16, HEX));
	json_object_set_new(o, "routing_info", jbytes(pkt + NYM_SPHINX_OFF_BETA, 300, HEX));
	if (opt.nkeys) {
		struct nym_sphinx_processed out;
		char s[NYM_NODE_ADDR_STR_MAX + NYM_B58_KEY_MAX];
		int rc = process_with_keys(pkt, len, &out);
		json_object_set_new(o, "mac_valid", json_boolean(rc != NYM_EMAC));
		if (rc == 0) {
			json_object_set_new(o, "version", json_integer(out.version));
			json_object_set_new(o, "hop", json_string(out.final ? "final" : "forward"));
			json_object_set_new(o, "replay_tag", jbytes(out.replay_tag, 32, HEX));
			if (!out.final) {
				addr_text(s, sizeof s, out.next_hop, 32);
				json_object_set_new(o, "next_hop", json_string(s));
				json_object_set_new(o, "next_hop_bytes", jbytes(out.next_hop, 32, HEX));
				json_object_set_new(o, "delay_ns", json_integer((json_int_t)out.delay_ns));
			} else {
				size_t ml;
				nym_base58_encode(s, sizeof s, out.destination, 32);
				json_object_set_new(o, "destination", json_string(s));
				json_object_set_new(o, "identifier", jbytes(out.identifier, 16, HEX));
				json_object_set_new(o, "padding_valid",
				                    json_boolean(nym_sphinx_unpad(pkt + out.payload_off, out.payload_len, &ml) == 0));
			}
		} else {
			json_object_set_new(o, "error", json_string(rc == NYM_EMAC ? "MAC check failed" : nym_strerror(rc)));
			status = EXIT_FAIL;
		}
	}
	json_print(o);
	free(pkt);
	if (status != EXIT_OK)
		warnx("the key does not open this packet (MAC check failed or malformed)");
	return status;
}

static void
set_mode(enum mode m)
{
	if (opt.mode_set && opt.mode != m)
		usage_error("choose one of --unwrap, --surb, --use-surb, --unwrap-reply, --inspect");
	opt.mode = m;
	opt.mode_set = 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"hop", required_argument, 0, 'H'},
		{"route", required_argument, 0, 'r'},
		{"destination", required_argument, 0, 'd'},
		{"version", optional_argument, 0, 'v'},
		{"delay-mean", required_argument, 0, 'm'},
		{"size", required_argument, 0, 's'},
		{"unwrap", no_argument, 0, 'u'},
		{"key", required_argument, 0, 'k'},
		{"surb", no_argument, 0, 'S'},
		{"surb-keys", required_argument, 0, 'K'},
		{"use-surb", required_argument, 0, 'U'},
		{"unwrap-reply", no_argument, 0, 'R'},
		{"inspect", no_argument, 0, 'i'},
		{"hex", no_argument, 0, 'x'},
		{"base64", no_argument, 0, 'b'},
		{"json", no_argument, 0, 'j'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	int c, t, rc;
	char *end;

	tool_init("nym-sphinx-wrap");
	while ((c = getopt_long(argc, argv, "H:r:d:v::m:s:uk:SK:U:RixbjhV", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			if (opt.nhops == NYM_SPHINX_MAX_HOPS)
				opt.too_many_hops = 1;
			else
				opt.hops[opt.nhops++] = optarg;
			break;
		case 'r': opt.route_file = optarg; break;
		case 'd': opt.destination = optarg; break;
		case 'v': {
			/* --version N is the Sphinx version; a bare --version prints
			 * the program's version, as every nymkit tool does. */
			const char *a = optarg;
			if (!a && optind < argc && argv[optind][0] != '-')
				a = argv[optind++];
			if (!a)
				print_version();
			unsigned long v = strtoul(a, &end, 10);
			if (*end || (v != 1 && v != 257 && v != 258 && v != 259))
				usage_error("--version must be 259, 258, 257 or 1");
			opt.version = (uint16_t)v;
			break;
		}
		case 'm':
			opt.delay_mean_ms = strtod(optarg, &end);
			if (*end || end == optarg || !(opt.delay_mean_ms >= 0) || opt.delay_mean_ms > 1e9)
				usage_error("--delay-mean takes milliseconds, 0 or more");
			break;
		case 's':
			t = nym_packet_size_by_name(optarg);
			if (t < 0 || nym_packet_len((uint8_t)t) == 0)
				usage_error("--size must be regular, ack, extended8, extended16 or extended32");
			opt.size_tag = (uint8_t)t;
			break;
		case 'u': set_mode(UNWRAP); break;
		case 'k':
			if (opt.nkeys == 2)
				usage_error("--key at most twice (a node's two rotation keys)");
			opt.key_files[opt.nkeys++] = optarg;
			break;
		case 'S': set_mode(SURB); break;
		case 'K': opt.surb_keys = optarg; break;
		case 'U': set_mode(USE_SURB); opt.surb_file = optarg; break;
		case 'R': set_mode(UNWRAP_REPLY); break;
		case 'i': set_mode(INSPECT); break;
		case 'x': opt.enc = HEX; break;
		case 'b': opt.enc = B64; break;
		case 'j': opt.json = 1; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		case 'V': print_version(); return EXIT_OK;
		default: fprintf(stderr, "Try 'nym-sphinx-wrap --help'.\n"); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if ((opt.mode == WRAP || opt.mode == SURB) && !opt.route_file && opt.nhops == 0 && !opt.too_many_hops)
		usage_error("a route is needed: --hop HOST:PORT:KEY (1 to 5 times) or --route FILE");
	if ((opt.mode == WRAP || opt.mode == SURB) && opt.route_file && opt.nhops)
		usage_error("give either --hop or --route, not both");
	if (opt.mode == UNWRAP && !opt.nkeys)
		usage_error("--unwrap needs --key NODE_KEY_FILE");
	if (opt.mode == UNWRAP_REPLY && !opt.surb_keys)
		usage_error("--unwrap-reply needs --surb-keys FILE");
	if (nym_crypto_init() < 0 || nym_sphinx_ctx_init(&ctx) < 0)
		die("cannot initialise the crypto libraries");
	switch (opt.mode) {
	case WRAP: rc = do_wrap(); break;
	case UNWRAP: rc = do_unwrap(); break;
	case SURB: rc = do_surb(); break;
	case USE_SURB: rc = do_use_surb(); break;
	case UNWRAP_REPLY: rc = do_unwrap_reply(); break;
	case INSPECT: rc = do_inspect(); break;
	default: rc = EXIT_USAGE;
	}
	nym_sphinx_ctx_free(&ctx);
	return rc;
}
