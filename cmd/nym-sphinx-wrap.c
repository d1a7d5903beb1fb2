/* nym-sphinx-wrap — Sphinx packets through pipes: wrap a payload for a
 * route, peel one layer with a node key, make and use SURBs, inspect; and
 * whole Nym messages: the packets a client sends for one, and decryption of
 * what arrives at the final hop. */
#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <time.h>

#include "base/codec.h"
#include "crypto/crypto.h"
#include "io/keyfile.h"
#include "io/mixclient.h"
#include "io/topofile.h"
#include "proto/courier.h"
#include "proto/cover.h"
#include "proto/packet.h"
#include "proto/payload.h"
#include "proto/sphinx.h"
#include "proto/surb.h"
#include "proto/topology.h"
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
	"       nym-sphinx-wrap --nym --to ADDRESS [--topology FILE] [--id NAME] [--surbs N]\n"
	"                       [--reply-keys FILE] [--size SIZE] [--version N] < message > packets\n"
	"       nym-sphinx-wrap --decrypt [--id NAME] [--reply-keys FILE] < payloads > messages\n"
	"       nym-sphinx-wrap --inspect [--id NAME] < final-hop payload\n"
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
	"                            layer reveals) as JSON; a MixPacket, or a final-hop\n"
	"                            payload (with --id: its fragment and message type)\n"
	"  -n, --nym                 the MixPackets (v2) a client sends for the message on\n"
	"                            stdin: fragments, encryption, SURB-acks\n"
	"  -t, --to ADDRESS          --nym: the recipient's client address\n"
	"  -T, --topology FILE       --nym: the network (default $NYM_TOPOLOGY)\n"
	"  -I, --id NAME             the client whose keys send or decrypt (default $NYM_ID,\n"
	"                            else 'default')\n"
	"      --surbs N             --nym: an anonymous message carrying N reply SURBs\n"
	"      --reply-keys FILE     --nym --surbs writes the reply keys there; --decrypt\n"
	"                            reads them to open replies\n"
	"  -D, --decrypt             final-hop payloads (as --unwrap writes them) on stdin:\n"
	"                            raw back to back, or one per line as hex, base64 or\n"
	"                            --unwrap --json; each message to stdout once complete\n"
	"  -x, --hex                 write hex\n"
	"  -b, --base64              write base64\n"
	"  -j, --json                one JSON object on stdout instead of raw data\n"
	"  -h, --help                this text\n"
	"  -V, --version             (with no number) the program's version\n";

enum mode { WRAP, UNWRAP, SURB, USE_SURB, UNWRAP_REPLY, INSPECT, NYM, DECRYPT };
enum enc { RAW, HEX, B64 };

static struct {
	enum mode mode;
	int mode_set;
	enum enc enc;
	int json;
	const char *route_file, *destination, *key_file, *surb_keys, *surb_file;
	const char *to, *topology, *id, *reply_keys;
	int surbs; /* --surbs N; -1: a plain message */
	const char *key_files[2]; /* --key twice: a node's two rotation keys */
	size_t nkeys;
	const char *hops[NYM_SPHINX_MAX_HOPS + 1];
	size_t nhops;
	int too_many_hops;
	uint16_t version;
	double delay_mean_ms;
	uint8_t size_tag;
} opt = { .version = 259, .delay_mean_ms = 15, .size_tag = NYM_SIZE_REGULAR, .surbs = -1 };

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
		if (nym_write_full(1, b, n) < 0)
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

/* Whether len is one of the Sphinx packet sizes (not Outfox). */
static int
sphinx_size(size_t len)
{
	int t = nym_size_tag_of_len(len);
	return t >= 0 && nym_size_tag_plaintext((uint8_t)t) >= 0;
}

/* A MixPacket (v2, else v1) around a Sphinx packet, as --nym writes them:
 * returns its version, or 0 when b is none. */
static int
as_mix_packet(struct nym_mix_packet *mp, const uint8_t *b, size_t len)
{
	if (nym_mix_packet_decode(mp, NYM_MIX_PACKET_V2, b, len) == 0 &&
	    sphinx_size(mp->packet_len))
		return NYM_MIX_PACKET_V2;
	if (nym_mix_packet_decode(mp, NYM_MIX_PACKET_V1, b, len) == 0 &&
	    sphinx_size(mp->packet_len))
		return NYM_MIX_PACKET_V1;
	return 0;
}

/* A packet to process: must have one of the Nym Sphinx sizes, or be a
 * MixPacket around one (its framing is dropped). */
static uint8_t *
read_packet(size_t *len)
{
	struct nym_mix_packet mp;
	uint8_t *p = read_blob(stdin, "packet", len);
	if (*len == 0)
		die("no packet on standard input");
	if (!sphinx_size(*len) && as_mix_packet(&mp, p, *len)) {
		memmove(p, mp.packet, mp.packet_len);
		*len = mp.packet_len;
	}
	if (!sphinx_size(*len))
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
	if (rc == NYM_ENOTFILE)
		die("%s: %s", opt.key_file, nym_strerror(rc));
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
	size_t cap = (size_t)nym_size_tag_plaintext(opt.size_tag);
	if (!m && errno == EFBIG)
		die("payload is larger than any packet (at most %zu bytes for %s)", cap,
		    nym_packet_size_name(opt.size_tag));
	if (!m)
		die("cannot read the payload: %s", strerror(errno));
	if (*len > cap) {
		free(m);
		die("payload of %zu bytes does not fit a%s %s packet (at most %zu bytes)", *len,
		    opt.size_tag == NYM_SIZE_ACK || opt.size_tag >= NYM_SIZE_EXTENDED32 ? "n" : "",
		    nym_packet_size_name(opt.size_tag), cap);
	}
	return m;
}

/* ---- modes --------------------------------------------------------------- */

static int
do_wrap(void)
{
	struct nym_sphinx_route r;
	struct nym_rng rng = nym_rng_system();
	size_t mlen, len = (size_t)nym_size_tag_len(opt.size_tag);
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
	size_t sl, mlen, len = (size_t)nym_size_tag_len(opt.size_tag);
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

/* ---- Nym messages: --nym, --decrypt, and payloads for --inspect ------------ */

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *
client_id(void)
{
	const char *id = opt.id ? opt.id : getenv("NYM_ID");
	return id && *id ? id : "default";
}

/* The client's key set from its directory (keys.h layout under tool_home()). */
static void
load_client(struct nym_client_keys *k, char *dir, size_t cap)
{
	const char *home = tool_home(), *bad = NULL, *id = client_id();
	int rc;

	if (!home)
		die("no home directory: set HOME or NYM_HOME_DIR");
	if (nym_client_dir(dir, cap, home, id) < 0)
		die("'%s' is not a usable client name", id);
	rc = nym_client_keys_load(dir, k, &bad);
	if (rc == NYM_EIO && errno == ENOENT)
		die("client '%s' has no keys (%s/%s is missing): create them with nym-keygen --id %s",
		    id, dir, bad ? bad : "", id);
	if (rc == NYM_EPERM)
		die("%s/%s: private key is accessible by group or others (chmod 600 it)", dir, bad ? bad : "");
	if (rc < 0)
		die("cannot load the keys of client '%s' (%s): %s", id, bad ? bad : dir,
		    rc == NYM_EIO ? strerror(errno) : nym_strerror(rc));
}

/* The --reply-keys file (text, mode 0600; documented in the man page):
 *   nym-reply-keys 1
 *   recipient <address>      whom the SURBs were sent to
 *   sender-tag <base58>      the tag the recipient sees
 *   key <32 hex>             one line per reply key (one per SURB)
 * Lines starting with # are comments; --decrypt reads only the key lines. */
struct rk_writer {
	FILE *f;
};

static int
write_reply_key(void *ctx, const uint8_t key[16], uint64_t added_ms)
{
	struct rk_writer *w = ctx;
	char hex[33];
	(void)added_ms;
	nym_hex_encode(hex, sizeof hex, key, 16);
	fprintf(w->f, "key %s\n", hex);
	nym_wipe(hex, sizeof hex);
	return 0;
}

static void
save_reply_keys(const struct nym_reply_keys *rk, const uint8_t tag[16])
{
	int fd = open(opt.reply_keys, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct rk_writer w;
	char b58[NYM_B58_KEY_MAX];

	if (fd < 0 || !(w.f = fdopen(fd, "w")))
		die("%s: %s", opt.reply_keys, strerror(errno));
	nym_base58_encode(b58, sizeof b58, tag, 16);
	fprintf(w.f, "# nym-sphinx-wrap reply keys: secret, keep private\nnym-reply-keys 1\n"
	        "recipient %s\nsender-tag %s\n", opt.to, b58);
	nym_reply_keys_each(rk, write_reply_key, &w);
	if (fclose(w.f) != 0)
		die("%s: %s", opt.reply_keys, strerror(errno));
}

static struct nym_reply_keys *
load_reply_keys(void)
{
	FILE *f = fopen(opt.reply_keys, "r");
	struct nym_reply_keys *rk = nym_reply_keys_new(NYM_REPLY_KEYS_DEFAULT_MAX, NYM_REPLY_KEY_MAX_AGE_MS);
	char line[256], hex[64];
	uint8_t key[16];
	int magic = 0, lineno = 0;

	if (!f)
		die("%s: %s", opt.reply_keys, strerror(errno));
	if (!rk)
		die("out of memory");
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (!magic) {
			if (strcmp(line, "nym-reply-keys 1\n") != 0)
				die("%s: not a reply keys file (first line must be 'nym-reply-keys 1')", opt.reply_keys);
			magic = 1;
		} else if (sscanf(line, "key %63s", hex) == 1) {
			if (nym_hex_decode(key, sizeof key, hex, strlen(hex)) != 16)
				die("%s: line %d: a key is 32 hex digits", opt.reply_keys, lineno);
			if (nym_reply_keys_add(rk, key, now_ms()) < 0)
				die("%s: too many keys", opt.reply_keys);
		} else if (strncmp(line, "recipient ", 10) != 0 && strncmp(line, "sender-tag ", 11) != 0) {
			die("%s: line %d is malformed", opt.reply_keys, lineno);
		}
	}
	fclose(f);
	nym_wipe(line, sizeof line);
	nym_wipe(hex, sizeof hex);
	nym_wipe(key, sizeof key);
	if (!magic)
		die("%s: empty reply keys file", opt.reply_keys);
	return rk;
}

/* A route source over the topology: L1, L2, L3 at random, then the gateway. */
struct topo_routes {
	const struct nym_topology *t;
	struct nym_rng rng;
};

static int
pick_route(void *ctx, const uint8_t gateway[32], struct nym_sphinx_node hops[NYM_SPHINX_MAX_HOPS])
{
	struct topo_routes *tr = ctx;
	return nym_mixclient_route(tr->t, &tr->rng, gateway, hops);
}

struct emit_state {
	size_t n, bytes;
};

static int
emit_packet(void *ctx, const struct nym_courier_packet *p)
{
	struct emit_state *st = ctx;

	st->n++;
	st->bytes += p->mix_packet_len;
	if (!opt.json) {
		write_data(p->mix_packet, p->mix_packet_len);
		return 0;
	}
	struct nym_mix_packet mp;
	char hop[NYM_NODE_ADDR_STR_MAX], id[11];
	uint32_t set_id = 0;
	uint8_t pos = 0;
	json_t *o = json_object();
	if (nym_mix_packet_decode(&mp, NYM_MIX_PACKET_V2, p->mix_packet, p->mix_packet_len) < 0)
		die("internal error: a MixPacket that does not decode");
	addr_text(hop, sizeof hop, mp.next_hop, mp.next_hop_len);
	if (nym_fragment_id_decode(&set_id, &pos, p->frag_id) < 0)
		die("internal error: a fragment id that does not decode");
	nym_hex_encode(id, sizeof id, p->frag_id, NYM_FRAG_ID_LEN);
	json_object_set_new(o, "index", json_integer((json_int_t)p->index));
	json_object_set_new(o, "count", json_integer((json_int_t)p->count));
	json_object_set_new(o, "fragment_id", json_string(id));
	json_object_set_new(o, "set_id", json_integer(set_id));
	json_object_set_new(o, "position", json_integer(pos));
	json_object_set_new(o, "next_hop", json_string(hop));
	json_object_set_new(o, "key_rotation", json_integer(mp.key_rotation));
	json_object_set_new(o, "length", json_integer((json_int_t)p->mix_packet_len));
	json_object_set_new(o, "delay_ns", json_integer((json_int_t)p->delay_ns));
	json_object_set_new(o, "timeout_ms", json_integer((json_int_t)p->timeout_ms));
	json_object_set_new(o, "packet", jbytes(p->mix_packet, p->mix_packet_len, opt.enc));
	json_print(o);
	return 0;
}

/* The gateway must be in the network; the sender's must be a gateway (the
 * recipient's may be any node, as the official client's egress). */
static void
gateway_known(const struct nym_topology *t, const uint8_t gw[32], const char *whose, int strict)
{
	const struct nym_node *n = nym_topology_find_identity(t, gw);
	char b58[NYM_B58_KEY_MAX];
	if (n && (n->is_gateway || !strict))
		return;
	nym_base58_encode(b58, sizeof b58, gw, 32);
	die("%s gateway %s is %s (%s)", whose, b58, n ? "not a gateway of the network" :
	    "not in the network", opt.topology);
}

static int
do_nym(void)
{
	struct nym_address to;
	struct nym_client_keys keys;
	struct nym_topology *topo = NULL;
	struct nym_courier_config cfg;
	struct nym_courier_sender *s;
	struct nym_reply_keys *rk = NULL;
	struct topo_routes tr = { .rng = nym_rng_system() };
	struct nym_route_source routes = { pick_route, &tr };
	struct nym_rng rng = nym_rng_system();
	struct emit_state st = { 0 };
	char dir[4096], why[NYM_ADDRESS_WHY_MAX], err[NYM_TOPOLOGY_ERR_MAX], b58[NYM_B58_KEY_MAX];
	uint8_t gw[32], tag[16], *msg;
	size_t len;
	int rc;

	if (nym_address_parse(&to, opt.to, why, sizeof why) < 0)
		die("recipient '%s': %s", opt.to, why);
	load_client(&keys, dir, sizeof dir);
	rc = nym_client_gateway_load(dir, gw);
	if (rc == NYM_ENOTFOUND || (rc == NYM_EIO && errno == ENOENT))
		die("client '%s' has no gateway (no %s in its key directory), so its acks and SURBs "
		    "have no way back: choose one with nym-keygen --id %s --gateway GATEWAY",
		    client_id(), NYM_CLIENT_GATEWAY_IDENTITY, client_id());
	if (rc < 0)
		die("cannot read the gateway of client '%s': %s", client_id(),
		    rc == NYM_EIO ? strerror(errno) : nym_strerror(rc));
	if (nym_topofile_load(&topo, opt.topology, err, sizeof err) < 0)
		die("%s", err); /* names the file */
	gateway_known(topo, gw, "the sender's", 1);
	gateway_known(topo, to.gateway, "the recipient's", 0);
	tr.t = topo;

	if (!(msg = read_all(stdin, &len, NYM_REASM_DEFAULT_MAX_BYTES)))
		die("cannot read the message: %s", errno == EFBIG ? "larger than 64 MiB, more than a "
		    "recipient reassembles" : strerror(errno));

	nym_courier_config_default(&cfg);
	cfg.sphinx_version = opt.version;
	cfg.packet_delay_ns = cfg.ack_delay_ns = (uint64_t)llround(opt.delay_mean_ms * 1e6);
	cfg.size_tag = opt.size_tag;
	cfg.key_rotation = nym_rotation_of_id(topo->rotation_id);
	cfg.mix_packet_version = NYM_MIX_PACKET_V2;
	if (!(s = nym_courier_sender_new(&keys, gw, &cfg)))
		die("out of memory");
	if (opt.surbs >= 0) {
		nym_mixclient_tag_derive(&keys, &to, tag);
		if (!(rk = nym_reply_keys_new(NYM_REPLY_KEYS_DEFAULT_MAX, NYM_REPLY_KEY_MAX_AGE_MS)))
			die("out of memory");
		rc = nym_courier_send_anonymous(s, &to, tag, msg, len, (size_t)opt.surbs, rk, now_ms(), &routes,
		                            &rng, emit_packet, &st);
	} else {
		rc = nym_courier_send_plain(s, &to, msg, len, &routes, &rng, emit_packet, &st);
	}
	if (rc < 0)
		die("cannot build the packets: %s", nym_strerror(rc));
	if (rk) {
		if (opt.reply_keys)
			save_reply_keys(rk, tag);
		nym_base58_encode(b58, sizeof b58, tag, 16);
		warnx("%zu packet%s (%zu bytes) for a %zu-byte anonymous message with %d reply SURBs; "
		      "sender tag %s%s%s", st.n, st.n == 1 ? "" : "s", st.bytes, len, opt.surbs, b58,
		      opt.reply_keys ? ", reply keys in " : "", opt.reply_keys ? opt.reply_keys : "");
	} else {
		warnx("%zu packet%s (%zu bytes) for a %zu-byte message", st.n, st.n == 1 ? "" : "s", st.bytes, len);
	}
	if (fflush(stdout) != 0)
		die("cannot write output: %s", strerror(errno));
	nym_reply_keys_free(rk);
	nym_courier_sender_free(s);
	nym_topology_free(topo);
	nym_wipe(&keys, sizeof keys);
	free(msg);
	return EXIT_OK;
}

static const char payload_sizes[] =
	"2048 regular, 8192 extended8, 16384 extended16, 32768 extended32; or a gateway push, "
	"405 bytes fewer; or a 21-byte ack";

/* The part a gateway pushes to the client (after the SURB-ack block). */
static int
payload_push(const uint8_t *b, size_t len, const uint8_t **push, size_t *plen, size_t idx)
{
	int k = nym_courier_payload_push(b, len, push, plen);

	if (k == NYM_ESIZE)
		die("payload %zu is %zu bytes, not a final-hop payload (%s)", idx, len, payload_sizes);
	if (k < 0)
		die("payload %zu does not start with a SURB-ack block (its first 19 bytes are no node "
		    "address): not a final-hop payload", idx);
	return k;
}

/* The message fields as JSON (data as base64, text when UTF-8). */
static void
message_json(json_t *o, const struct nym_message *m)
{
	char b58[NYM_B58_KEY_MAX];
	json_t *txt;

	json_object_set_new(o, "type", json_string(nym_message_type_name(m->type)));
	json_object_set_new(o, "content", json_string(nym_message_content_name(m)));
	json_object_set_new(o, "size", json_integer((json_int_t)m->data_len));
	json_object_set_new(o, "data", jbytes(m->data ? m->data : (const uint8_t *)"", m->data_len, B64));
	if (m->data && (txt = json_stringn((const char *)m->data, m->data_len)))
		json_object_set_new(o, "text", txt);
	if (m->type == NYM_MESSAGE_REPLIABLE) {
		nym_base58_encode(b58, sizeof b58, m->sender_tag, 16);
		json_object_set_new(o, "sender_tag", json_string(b58));
		json_object_set_new(o, "surbs", json_integer((json_int_t)m->nsurbs));
		json_object_set_new(o, "surb_len", json_integer((json_int_t)m->surb_len));
		if (m->content_tag >= NYM_REPLIABLE_DATA_V2)
			json_object_set_new(o, "surb_key_rotation", json_integer(m->surb_rotation));
	} else {
		json_object_set_new(o, "sender_tag", json_null());
	}
	if (m->type == NYM_MESSAGE_REPLY && m->content_tag == NYM_REPLY_SURB_REQUEST)
		json_object_set_new(o, "amount", json_integer(m->amount));
}

struct decrypt_state {
	struct nym_courier_receiver *r;
	size_t messages, acks, covers, duplicates;
	/* digests of the reply keys used up (each opens one fragment, once):
	 * a payload that comes again under one is a duplicate, not an error */
	uint8_t (*used)[32];
	size_t nused, capused;
};

static int
reply_used(const struct decrypt_state *d, const uint8_t digest[32])
{
	for (size_t i = 0; i < d->nused; i++)
		if (memcmp(d->used[i], digest, 32) == 0)
			return 1;
	return 0;
}

static void
decrypt_one(struct decrypt_state *d, const uint8_t *b, size_t len, size_t idx)
{
	struct nym_courier_received out;
	const uint8_t *push;
	size_t plen;
	int rc;

	payload_push(b, len, &push, &plen, idx);
	rc = nym_courier_receive(d->r, push, plen, now_ms(), &out);
	if (rc >= 0 && out.via_reply) {
		if (d->nused == d->capused) {
			d->capused = d->capused ? 2 * d->capused : 16;
			if (!(d->used = realloc(d->used, d->capused * 32)))
				die("out of memory");
		}
		memcpy(d->used[d->nused++], push, 32);
	}
	if ((rc == NYM_EFORMAT || rc == NYM_ESHORT) && reply_used(d, push))
		rc = NYM_EREPLAY;
	if (rc == NYM_EREPLAY) {
		d->duplicates++;
		return;
	}
	if (rc == NYM_EFORMAT || rc == NYM_ESHORT)
		die("payload %zu is no fragment for client '%s': encrypted to another key, or a "
		    "corrupt or impossible fragment header", idx, client_id());
	if (rc == NYM_EFULL)
		die("payload %zu: reassembly limit reached (%u MiB of unfinished messages)", idx,
		    NYM_REASM_DEFAULT_MAX_BYTES >> 20);
	if (rc < 0)
		die("payload %zu: %s", idx, nym_strerror(rc));
	if (rc == NYM_RECV_COVER) {
		d->covers++;
		warnx("payload %zu is loop cover (dropped)", idx);
	} else if (rc == NYM_RECV_ACK) {
		char id[11];
		d->acks++;
		nym_hex_encode(id, sizeof id, out.frag_id, NYM_FRAG_ID_LEN);
		if (opt.json) {
			json_t *o = json_object();
			json_object_set_new(o, "ack", json_string(id));
			json_object_set_new(o, "set_id", json_integer(out.set_id));
			json_object_set_new(o, "position", json_integer(out.position));
			json_print(o);
		} else {
			warnx("payload %zu is an ack for fragment %s (set %u, position %u)", idx, id,
			      out.set_id, out.position);
		}
	} else if (rc == NYM_RECV_MESSAGE) {
		const struct nym_message *m = &out.msg;
		d->messages++;
		if (opt.json) {
			json_t *o = json_object();
			message_json(o, m);
			json_object_set_new(o, "via_reply", json_boolean(out.via_reply));
			json_print(o);
			fflush(stdout);
		} else {
			if (m->data_len && nym_write_full(1, m->data, m->data_len) < 0)
				die("cannot write output: %s", strerror(errno));
			if (m->type == NYM_MESSAGE_REPLIABLE) {
				char b58[NYM_B58_KEY_MAX];
				nym_base58_encode(b58, sizeof b58, m->sender_tag, 16);
				warnx("anonymous message (%s) with %zu reply SURBs, sender tag %s",
				      nym_message_content_name(m), m->nsurbs, b58);
			} else if (!m->data) {
				warnx("%s message (%s) with no data", nym_message_type_name(m->type),
				      nym_message_content_name(m));
			}
		}
	}
	nym_courier_received_free(&out);
}

/* One payload from a text line: hex, base64, or the JSON --unwrap --json
 * prints (its "payload" field). Returns a malloc'd buffer. */
static uint8_t *
decode_line(char *s, size_t *len, size_t idx)
{
	size_t n = strlen(s);
	uint8_t *out;
	json_t *j = NULL;
	int r;

	if (*s == '{') {
		json_error_t err;
		json_t *v;
		if (!(j = json_loads(s, 0, &err)))
			die("payload %zu looks like JSON but is not: %s", idx, err.text);
		if (!json_is_string(v = json_object_get(j, "payload")))
			die("payload %zu: the JSON has no \"payload\" field (as --unwrap --json prints)", idx);
		s = (char *)json_string_value(v);
		n = strlen(s);
	}
	if (!(out = malloc(n + 1)))
		die("out of memory");
	if ((r = nym_hex_decode(out, n, s, n)) < 0 && (r = nym_base64_decode(out, n, s, n)) < 0)
		die("payload %zu is text but neither hex, base64 nor JSON", idx);
	json_decref(j);
	*len = (size_t)r;
	return out;
}

/* The longest text line --decrypt takes: the --unwrap --json object of an
 * extended32 payload (65536 hex digits) with room to spare. Anything longer,
 * or a NUL byte, can never be a payload: stop instead of buffering it. */
#define DECRYPT_LINE_MAX (128u * 1024)

/* One line of stdin into line (DECRYPT_LINE_MAX + 1 bytes), without its
 * newline; its length, or (size_t)-1 at the end of the input. */
static size_t
read_line(char *line, size_t idx)
{
	size_t l = 0;
	int c;

	while ((c = getc(stdin)) != EOF && c != '\n') {
		if (c == 0)
			die("payload %zu: a NUL byte in a text line: the input is neither raw "
			    "payloads nor text", idx);
		if (l == DECRYPT_LINE_MAX)
			die("payload %zu: a line longer than %u KiB can be no payload", idx,
			    DECRYPT_LINE_MAX >> 10);
		line[l++] = (char)c;
	}
	line[l] = 0;
	return c == EOF && l == 0 ? (size_t)-1 : l;
}

static int
do_decrypt(void)
{
	struct nym_client_keys keys;
	struct nym_reply_keys *rk = NULL;
	struct decrypt_state d = { 0 };
	char dir[4096];
	size_t idx = 0, rec = (size_t)nym_size_tag_plaintext(opt.size_tag), n;
	int c;

	load_client(&keys, dir, sizeof dir);
	if (opt.reply_keys)
		rk = load_reply_keys();
	if (!(d.r = nym_courier_receiver_new(&keys, rk, NULL)))
		die("out of memory");
	nym_wipe(&keys, sizeof keys);
	if ((c = getc(stdin)) == EOF)
		die("no payload on standard input");
	ungetc(c, stdin);
	if (c == 4 || c == 6) {
		/* raw: back-to-back payloads of one size class, each starting
		 * with its SURB-ack block's first hop (04 IPv4 / 06 IPv6) */
		uint8_t *buf = malloc(rec);
		if (!buf)
			die("out of memory");
		while ((n = fread(buf, 1, rec, stdin)) == rec)
			decrypt_one(&d, buf, rec, ++idx);
		free(buf);
		if (n > 0)
			die("payload %zu is truncated: %zu of %zu bytes (%s)", idx + 1, n, rec,
			    nym_packet_size_name(opt.size_tag));
	} else {
		char *line = malloc(DECRYPT_LINE_MAX + 1);
		size_t l;
		if (!line)
			die("out of memory");
		while ((l = read_line(line, idx + 1)) != (size_t)-1) {
			char *s = line, *e = line + l;
			while (s < e && isspace((unsigned char)*s))
				s++;
			while (e > s && isspace((unsigned char)e[-1]))
				*--e = 0;
			if (s == e)
				continue;
			idx++;
			uint8_t *b = decode_line(s, &n, idx);
			decrypt_one(&d, b, n, idx);
			free(b);
		}
		free(line);
	}
	if (ferror(stdin))
		die("cannot read the payloads: %s", strerror(errno));
	n = nym_reasm_bytes(nym_courier_receiver_reasm(d.r));
	nym_courier_receiver_free(d.r);
	nym_reply_keys_free(rk);
	free(d.used);
	if (fflush(stdout) != 0)
		die("cannot write output: %s", strerror(errno));
	if (n)
		die("input ended with a message incomplete (%zu bytes of its fragments held)", n);
	return EXIT_OK;
}

/* --inspect of a final-hop payload: what shows without keys (the SURB-ack
 * block, the prefix), and with --id the fragment and message inside. */
static int
inspect_payload(const uint8_t *b, size_t len)
{
	json_t *o = json_object();
	const uint8_t *push;
	size_t plen;
	int k = payload_push(b, len, &push, &plen, 1), status = EXIT_OK;
	char s[NYM_NODE_ADDR_STR_MAX];

	json_object_set_new(o, "kind", json_string(nym_courier_payload_kind_name(k)));
	json_object_set_new(o, "size", json_integer((json_int_t)len));
	if (k == NYM_PAYLOAD_FINAL) {
		json_t *a = json_object();
		addr_text(s, sizeof s, b, NYM_ACK_FIRST_HOP_LEN);
		json_object_set_new(a, "first_hop", json_string(s));
		json_object_set_new(a, "packet_len", json_integer(NYM_ACK_PACKET_LEN));
		json_object_set_new(a, "alpha", jbytes(b + NYM_ACK_FIRST_HOP_LEN, 32, HEX));
		json_object_set_new(o, "surb_ack", a);
	}
	if (k != NYM_PAYLOAD_ACK)
		json_object_set_new(o, "prefix", jbytes(push, 32, HEX));
	if (opt.id) {
		struct nym_client_keys keys;
		struct nym_aes128_ctr *aes = NULL;
		char dir[4096], id[11];
		uint8_t *frag = malloc(plen), key[16];
		int rc;

		if (!frag)
			die("out of memory");
		load_client(&keys, dir, sizeof dir);
		if (k == NYM_PAYLOAD_ACK) {
			uint32_t set_id;
			uint8_t pos;
			if (nym_ack_open(aes, frag, push, plen, keys.ack_key) < 0 ||
			    nym_fragment_id_decode(&set_id, &pos, frag) < 0) {
				json_object_set_new(o, "error", json_string("not an ack under this client's ack key"));
				status = EXIT_FAIL;
			} else {
				nym_hex_encode(id, sizeof id, frag, NYM_FRAG_ID_LEN);
				json_object_set_new(o, "fragment_id", json_string(id));
				json_object_set_new(o, "set_id", json_integer(set_id));
				json_object_set_new(o, "position", json_integer(pos));
				json_object_set_new(o, "cover", json_boolean(nym_ack_is_cover(frag)));
			}
		} else {
			struct nym_reply_keys *rk = opt.reply_keys ? load_reply_keys() : NULL;
			struct nym_fragment f;
			size_t n = plen - 32;
			if (rk && nym_reply_keys_take(rk, push, key, now_ms()) == 0) {
				rc = nym_payload_reply_decrypt(aes, frag, push, plen, key);
				json_object_set_new(o, "encryption", json_string("reply"));
			} else {
				rc = nym_payload_decrypt(aes, frag, push, plen, keys.encryption_sk);
				json_object_set_new(o, "encryption", json_string("regular"));
			}
			nym_wipe(key, sizeof key);
			nym_reply_keys_free(rk);
			if (rc < 0)
				die("cannot decrypt: %s", nym_strerror(rc));
			if (nym_cover_is(frag, n)) {
				json_object_set_new(o, "cover", json_true());
			} else if (nym_fragment_parse(&f, frag, n) < 0) {
				json_object_set_new(o, "error", json_string("no valid fragment header: encrypted to "
				                    "another key, or a corrupt or impossible header"));
				json_object_set_new(o, "header", jbytes(frag, NYM_FRAG_LINKED_HEADER_LEN, HEX));
				status = EXIT_FAIL;
			} else {
				json_t *fj = json_object();
				size_t hl = (size_t)(f.payload - frag);
				uint8_t fid[NYM_FRAG_ID_LEN];
				json_object_set_new(o, "cover", json_false());
				nym_fragment_id_encode(fid, f.set_id, f.position);
				nym_hex_encode(id, sizeof id, fid, NYM_FRAG_ID_LEN);
				json_object_set_new(fj, "header", jbytes(frag, hl, HEX));
				json_object_set_new(fj, "id", json_string(id));
				json_object_set_new(fj, "set_id", json_integer(f.set_id));
				json_object_set_new(fj, "total", json_integer(f.total));
				json_object_set_new(fj, "position", json_integer(f.position));
				json_object_set_new(fj, "linked", json_boolean(hl == NYM_FRAG_LINKED_HEADER_LEN));
				json_object_set_new(fj, "previous_set", f.prev_id ? json_integer(f.prev_id) : json_null());
				json_object_set_new(fj, "next_set", f.next_id ? json_integer(f.next_id) : json_null());
				json_object_set_new(fj, "payload_len", json_integer((json_int_t)f.payload_len));
				json_object_set_new(o, "fragment", fj);
				/* the message starts in the first fragment of the first set */
				if (f.position == 1 && !f.prev_id && f.payload_len) {
					json_t *mj = json_object();
					long ul;
					struct nym_message m;
					json_object_set_new(mj, "type", json_string(nym_message_type_name(f.payload[0])));
					if (f.payload[0] == NYM_MESSAGE_REPLIABLE && f.payload_len > 1 + NYM_SENDER_TAG_LEN) {
						/* visible in the first fragment of a longer message too */
						char b58[NYM_B58_KEY_MAX];
						nym_base58_encode(b58, sizeof b58, f.payload + 1, NYM_SENDER_TAG_LEN);
						json_object_set_new(mj, "sender_tag", json_string(b58));
					}
					if (f.total == 1 && !f.next_id &&
					    (ul = nym_message_unpad(f.payload, f.payload_len)) >= 0 &&
					    nym_message_parse(&m, f.payload, (size_t)ul) == 0) {
						json_object_del(mj, "type");
						message_json(mj, &m);
					}
					json_object_set_new(o, "message", mj);
				}
			}
		}
		nym_wipe(&keys, sizeof keys);
		nym_wipe(frag, plen);
		free(frag);
	}
	json_print(o);
	if (status != EXIT_OK)
		warnx("the client's keys do not open this payload");
	return status;
}

static int
do_inspect(void)
{
	size_t len;
	uint8_t *pkt = read_blob(stdin, "packet", &len);
	json_t *o = json_object();
	struct nym_mix_packet mp;
	int tag, mpv, status = EXIT_OK;

	if (nym_courier_payload_kind(len)) {
		json_decref(o);
		status = inspect_payload(pkt, len);
		free(pkt);
		return status;
	}
	if (!sphinx_size(len) && (mpv = as_mix_packet(&mp, pkt, len))) {
		json_t *m = json_object();
		char h[NYM_NODE_ADDR_STR_MAX];
		addr_text(h, sizeof h, mp.next_hop, mp.next_hop_len);
		json_object_set_new(m, "version", json_integer(mpv));
		json_object_set_new(m, "packet_type", json_integer(mp.packet_type));
		json_object_set_new(m, "key_rotation", json_integer(mp.key_rotation));
		json_object_set_new(m, "next_hop", json_string(h));
		json_object_set_new(m, "length", json_integer((json_int_t)len));
		json_object_set_new(o, "mix_packet", m);
		memmove(pkt, mp.packet, mp.packet_len);
		len = mp.packet_len;
	}
	if (len < NYM_SPHINX_MIN_PACKET)
		die("packet is %zu bytes, shorter than the smallest Sphinx packet (%d)", len,
		    NYM_SPHINX_MIN_PACKET);
	tag = sphinx_size(len) ? nym_size_tag_of_len(len) : NYM_ESIZE;
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
		usage_error("choose one of --unwrap, --surb, --use-surb, --unwrap-reply, --inspect, --nym, --decrypt");
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
		{"nym", no_argument, 0, 'n'},
		{"to", required_argument, 0, 't'},
		{"topology", required_argument, 0, 'T'},
		{"id", required_argument, 0, 'I'},
		{"surbs", required_argument, 0, 1001},
		{"reply-keys", required_argument, 0, 1002},
		{"decrypt", no_argument, 0, 'D'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	int c, t, rc;
	char *end;

	tool_init("nym-sphinx-wrap", argv);
	while ((c = getopt_long(argc, argv, "H:r:d:v::m:s:uk:SK:U:RixbjhVnt:T:I:D", opts, NULL)) != -1) {
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
			opt.delay_mean_ms = tool_number("--delay-mean", optarg, 0, 0, TOOL_NUMBER_MAX,
			                                "milliseconds");
			break;
		case 's':
			t = nym_packet_size_by_name(optarg);
			if (t < 0 || nym_size_tag_plaintext((uint8_t)t) < 0)
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
		case 'n': set_mode(NYM); break;
		case 't': opt.to = optarg; break;
		case 'T': opt.topology = optarg; break;
		case 'I': opt.id = optarg; break;
		case 1001: {
			unsigned long n = strtoul(optarg, &end, 10);
			if (*end || end == optarg || n > NYM_MAX_SURB_REQUEST)
				usage_error("--surbs takes a number of reply SURBs, 0 to %d", NYM_MAX_SURB_REQUEST);
			opt.surbs = (int)n;
			break;
		}
		case 1002: opt.reply_keys = optarg; break;
		case 'D': set_mode(DECRYPT); break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		case 'V': print_version(); return EXIT_OK;
		default: tool_try_help();
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
	if (opt.mode == NYM) {
		if (!opt.to)
			usage_error("--nym needs --to ADDRESS (the recipient)");
		if (!opt.topology && !(opt.topology = getenv("NYM_TOPOLOGY")))
			usage_error("--nym needs --topology FILE (or NYM_TOPOLOGY)");
		if (opt.size_tag == NYM_SIZE_ACK)
			usage_error("--nym --size must be regular, extended8, extended16 or extended32");
		if (opt.reply_keys && opt.surbs < 0)
			usage_error("--reply-keys goes with --surbs N");
	} else if (opt.to || opt.topology || opt.surbs >= 0) {
		usage_error("--to, --topology and --surbs go with --nym");
	}
	if (opt.mode == DECRYPT && opt.size_tag == NYM_SIZE_ACK)
		usage_error("--decrypt --size must be regular, extended8, extended16 or extended32");
	if (nym_crypto_init() < 0 || nym_sphinx_ctx_init(&ctx) < 0)
		die("cannot initialise the crypto libraries");
	switch (opt.mode) {
	case WRAP: rc = do_wrap(); break;
	case UNWRAP: rc = do_unwrap(); break;
	case SURB: rc = do_surb(); break;
	case USE_SURB: rc = do_use_surb(); break;
	case UNWRAP_REPLY: rc = do_unwrap_reply(); break;
	case INSPECT: rc = do_inspect(); break;
	case NYM: rc = do_nym(); break;
	case DECRYPT: rc = do_decrypt(); break;
	default: rc = EXIT_USAGE;
	}
	nym_sphinx_ctx_free(&ctx);
	return rc;
}
