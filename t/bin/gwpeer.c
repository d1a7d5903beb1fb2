/* gwpeer — a scriptable (and, on request, hostile) websocket client of a Nym
 * gateway, for t/nym-gateway.bats. Plain blocking sockets and a hand-written
 * RFC 6455 client: it must be able to send what a real client never would.
 *
 *   gwpeer [-t SECONDS] HOST:PORT GATEWAY_KEY STEP...
 *
 * Steps run in order on one connection; every message received is printed on
 * stdout, one line each (text as is, binary as {"binary":"<hex>","len":N}
 * or, once a key is known, {"pushed":"<hex of plaintext>"}). Exit 0 when all
 * steps ran, 1 on the first step that failed (reason on stderr).
 *   register SEED KEYFILE    registration handshake as the client with this
 *                            ed25519 seed (hex); the shared key goes to KEYFILE,
 *                            {"client":"<base58 identity>"} to stdout
 *   m1only SEED              send M1 and print M2 (then do nothing)
 *   badm3                    send a 92-byte M3 of garbage after m1only
 *   auth SEED KEYFILE [TS]   authenticateV2 (TS: Unix seconds, default now)
 *   text JSON                send a text frame
 *   binary HEX               send a binary frame
 *   raw HEX                  write raw bytes to the socket (broken frames)
 *   bigtext N                send a text frame of N bytes
 *   forward HOST:PORT [N]    send N ForwardSphinxV2 packets (random 2413-byte
 *                            sphinx packets, first hop HOST:PORT) — needs a key
 *   recv                     wait for one message and print it
 *   recvuntil TYPE           print messages until a text one of "type" TYPE
 *   expect-closed            wait for the gateway to close the connection
 *   flood N                  send N supportedProtocol requests without reading
 *   drain                    read (without printing) until the gateway closes;
 *                            print {"drained":MESSAGES,"closed":true}
 *   nopong                   stop answering pings (a dead client)
 *   hold MS                  keep the connection, answering pings, for MS
 *   many N MS                open N more websocket connections, hold them MS
 *   sleep MS                 just wait */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/codec.h"
#include "base/rng.h"
#include "crypto/crypto.h"
#include "proto/framing.h"
#include "proto/gwproto.h"

static int fd = -1, timeout_ms = 5000, answer_pings = 1, closed;
static char host[256], port[16];
static uint8_t key[32], gwpk[32];
static int have_key;
static struct nym_rng rng;

static void
fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "gwpeer: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
tcp_connect(void)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	int s;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		fail("cannot resolve %s", host);
	s = socket(ai->ai_family, SOCK_STREAM, 0);
	if (s < 0 || connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
		freeaddrinfo(ai);
		if (s >= 0)
			close(s);
		return -1;
	}
	freeaddrinfo(ai);
	return s;
}

static void
write_all_fd(int s, const void *b, size_t n)
{
	const uint8_t *p = b;
	while (n) {
		ssize_t w = write(s, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			closed = 1;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Read exactly n bytes within the deadline: 0, or -1 (closed / timeout). */
static int
read_n(int s, uint8_t *b, size_t n, uint64_t deadline)
{
	while (n) {
		int left = (int)(deadline > now_ms() ? deadline - now_ms() : 0);
		struct pollfd p = {s, POLLIN, 0};
		if (poll(&p, 1, left) <= 0)
			return -2;
		ssize_t r = read(s, b, n);
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
ws_upgrade(int s)
{
	char req[512], resp[2048];
	size_t n = 0;
	snprintf(req, sizeof req,
	         "GET / HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	         host, port);
	write_all_fd(s, req, strlen(req));
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	while (n < sizeof resp - 1) {
		if (read_n(s, (uint8_t *)resp + n, 1, deadline) != 0)
			return -1;
		n++;
		if (n >= 4 && memcmp(resp + n - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	resp[n] = 0;
	return strstr(resp, " 101 ") ? 0 : -1;
}

static void
send_frame(int s, int opcode, const uint8_t *data, size_t len)
{
	uint8_t hdr[14], mask[4];
	size_t hl = 2;
	uint8_t *buf = malloc(len + 14);
	hdr[0] = (uint8_t)(0x80 | opcode);
	if (len < 126) {
		hdr[1] = (uint8_t)(0x80 | len);
	} else if (len < 65536) {
		hdr[1] = 0x80 | 126;
		hdr[2] = (uint8_t)(len >> 8);
		hdr[3] = (uint8_t)len;
		hl = 4;
	} else {
		hdr[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			hdr[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
		hl = 10;
	}
	nym_rng_fill(&rng, mask, 4);
	memcpy(hdr + hl, mask, 4);
	hl += 4;
	memcpy(buf, hdr, hl);
	for (size_t i = 0; i < len; i++)
		buf[hl + i] = data[i] ^ mask[i & 3];
	write_all_fd(s, buf, hl + len);
	free(buf);
}

/* One whole message: opcode 1/2 with *out malloc'd, or -1 closed, -2 timeout. */
static int
recv_msg(uint8_t **out, size_t *outlen, int ms)
{
	uint64_t deadline = now_ms() + (uint64_t)ms;
	uint8_t *msg = NULL;
	size_t mlen = 0;
	int mop = 0;

	for (;;) {
		uint8_t h[2], ext[8];
		uint64_t len;
		int r;
		if ((r = read_n(fd, h, 2, deadline)) != 0)
			return free(msg), r;
		int op = h[0] & 15, fin = h[0] & 0x80;
		len = h[1] & 127;
		if (len == 126) {
			if (read_n(fd, ext, 2, deadline))
				return free(msg), -1;
			len = (uint64_t)ext[0] << 8 | ext[1];
		} else if (len == 127) {
			if (read_n(fd, ext, 8, deadline))
				return free(msg), -1;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | ext[i];
		}
		if (len > (64u << 20))
			return free(msg), -1;
		uint8_t *p = malloc(len + 1);
		if (len && read_n(fd, p, len, deadline))
			return free(p), free(msg), -1;
		if (op == 8) {
			free(p);
			free(msg);
			return -1;
		}
		if (op == 9) {
			if (answer_pings)
				send_frame(fd, 10, p, len);
			free(p);
			continue;
		}
		if (op == 10) {
			free(p);
			continue;
		}
		if (op != 0)
			mop = op;
		msg = realloc(msg, mlen + len + 1);
		memcpy(msg + mlen, p, len);
		mlen += len;
		free(p);
		if (fin) {
			msg[mlen] = 0;
			*out = msg;
			*outlen = mlen;
			return mop;
		}
	}
}

static void
print_msg(int op, const uint8_t *m, size_t len)
{
	if (op == 1) {
		printf("%.*s\n", (int)len, (const char *)m);
	} else {
		uint8_t *pt = malloc(len + 1), kind;
		int n = have_key ? nym_gw_bin_open(&kind, pt, len, m, len, key) : -1;
		char *hex = malloc(2 * len + 2);
		if (n >= 0) {
			nym_hex_encode(hex, 2 * len + 2, pt, (size_t)n);
			printf("{\"pushed\":\"%s\",\"len\":%d}\n", hex, n);
		} else {
			nym_hex_encode(hex, 2 * len + 2, m, len);
			printf("{\"binary\":\"%s\",\"len\":%zu}\n", hex, len);
		}
		free(hex);
		free(pt);
	}
	fflush(stdout);
}

/* Next text message of the given msg type (printing everything on the way). */
static struct nym_gw_msg
expect_type(enum nym_gw_type want, const char *what)
{
	for (;;) {
		uint8_t *m;
		size_t len;
		int op = recv_msg(&m, &len, timeout_ms);
		if (op < 0)
			fail(op == -2 ? "timed out waiting for %s" : "connection closed waiting for %s", what);
		print_msg(op, m, len);
		if (op == 1) {
			struct nym_gw_msg g;
			if (nym_gw_msg_parse(&g, 0, (char *)m, len) == 0) {
				free(m);
				if (g.type == want)
					return g;
				if (g.type == NYM_GW_RESP_ERROR || g.type == NYM_GW_RESP_HANDSHAKE_ERROR)
					fail("gateway error instead of %s", what);
				nym_gw_msg_free(&g);
				continue;
			}
		}
		free(m);
	}
}

static void
seed_of(uint8_t seed[32], const char *hex)
{
	if (nym_hex_decode(seed, 32, hex, strlen(hex)) != 32)
		fail("'%s' is not a 32-byte hex seed", hex);
}

static struct nym_gw_hs_client hs;

static void
step_m1(const char *seedhex)
{
	uint8_t seed[32], m1[80];
	char *s;
	size_t n;
	seed_of(seed, seedhex);
	if (nym_gw_hs_client_start(&hs, seed, gwpk, &rng, m1) != 0)
		fail("%s", "handshake start failed");
	nym_gw_json_handshake(&s, &n, 1, 6, m1, 80);
	send_frame(fd, 1, (uint8_t *)s, n);
	free(s);
}

static void
step_register(const char *seedhex, const char *keyfile)
{
	uint8_t m3[92];
	char *s, hex[65];
	size_t n;
	struct nym_gw_msg g;
	uint8_t seed_bytes[32];

	seed_of(seed_bytes, seedhex);
	step_m1(seedhex);
	g = expect_type(NYM_GW_RESP_HANDSHAKE, "M2");
	if (nym_gw_hs_client_m2(&hs, g.hs, g.hs_len, &rng, m3) != 0)
		fail("%s", "M2 did not verify");
	nym_gw_json_handshake(&s, &n, 1, 6, m3, 92);
	send_frame(fd, 1, (uint8_t *)s, n);
	free(s);
	g = expect_type(NYM_GW_RESP_HANDSHAKE, "M4");
	if (nym_gw_hs_client_m4(&hs, g.hs, g.hs_len, key) != 0)
		fail("%s", "M4 is not success");
	have_key = 1;
	g = expect_type(NYM_GW_RESP_REGISTER, "register");
	char b58[NYM_B58_KEY_MAX];
	uint8_t pk[32];
	nym_ed25519_public(pk, seed_bytes);
	nym_base58_encode(b58, sizeof b58, pk, 32);
	printf("{\"client\":\"%s\"}\n", b58);
	nym_hex_encode(hex, sizeof hex, key, 32);
	FILE *f = fopen(keyfile, "w");
	if (!f || fprintf(f, "%s\n", hex) < 0 || fclose(f) != 0)
		fail("cannot write %s", keyfile);
}

static void
step_auth(const char *seedhex, const char *keyfile, const char *ts)
{
	uint8_t seed[32];
	char hex[80] = "";
	struct nym_gw_msg m = {.type = NYM_GW_REQ_AUTHENTICATE_V2};
	char *s;
	size_t n;
	FILE *f = fopen(keyfile, "r");

	seed_of(seed, seedhex);
	if (!f || !fgets(hex, sizeof hex, f) || nym_hex_decode(key, 32, hex, 64) != 32)
		fail("cannot read the key in %s", keyfile);
	fclose(f);
	have_key = 1;
	uint64_t t = ts ? strtoull(ts, NULL, 10) : (uint64_t)time(NULL);
	nym_gw_auth_build(&m.auth, 6, seed, key, t, &rng);
	nym_gw_msg_encode(&m, &s, &n);
	send_frame(fd, 1, (uint8_t *)s, n);
	free(s);
}

static void
step_forward(const char *hop, int count)
{
	static uint8_t pt[2 + 19 + 2413], frame[sizeof pt + 64];
	struct nym_mix_packet mp = {.packet_type = 0, .key_rotation = 0};
	unsigned a, b, c, d, p;
	uint8_t addr[7];
	if (sscanf(hop, "%u.%u.%u.%u:%u", &a, &b, &c, &d, &p) != 5)
		fail("'%s' is not IPv4:PORT", hop);
	uint8_t raw[7] = {4, (uint8_t)(p >> 8), (uint8_t)p, (uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d};
	memcpy(addr, raw, 7);
	for (int i = 0; i < count; i++) {
		static uint8_t pkt[2413];
		nym_rng_fill(&rng, pkt, sizeof pkt);
		nym_mix_packet_set_next_hop(&mp, addr, 7);
		mp.packet = pkt;
		mp.packet_len = sizeof pkt;
		int n = nym_mix_packet_encode(pt, sizeof pt, NYM_MIX_PACKET_V2, &mp);
		if (n < 0)
			fail("%s", "cannot encode the MixPacket");
		n = nym_gw_bin_seal(frame, sizeof frame, NYM_GW_BIN_FORWARD_SPHINX_V2, pt, (size_t)n, key, &rng);
		send_frame(fd, 2, frame, (size_t)n);
	}
}

static void
hold(int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	while (now_ms() < end && !closed) {
		uint8_t *m;
		size_t len;
		int op = recv_msg(&m, &len, (int)(end - now_ms()));
		if (op == -1) {
			closed = 1;
			printf("{\"closed\":true}\n");
			break;
		}
		if (op > 0) {
			print_msg(op, m, len);
			free(m);
		}
	}
}

int
main(int argc, char **argv)
{
	int i = 1;
	if (argc > 2 && strcmp(argv[1], "-t") == 0) {
		timeout_ms = atoi(argv[2]) * 1000;
		i = 3;
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: gwpeer [-t SECONDS] HOST:PORT GATEWAY_KEY STEP...\n");
		return 2;
	}
	nym_crypto_init();
	rng = nym_rng_system();
	char *colon = strrchr(argv[i], ':');
	if (!colon)
		fail("'%s' is not HOST:PORT", argv[i]);
	snprintf(host, sizeof host, "%.*s", (int)(colon - argv[i]), argv[i]);
	snprintf(port, sizeof port, "%s", colon + 1);
	if (nym_base58_decode32(gwpk, argv[i + 1]) < 0)
		fail("'%s' is not a base58 key", argv[i + 1]);
	i += 2;
	if ((fd = tcp_connect()) < 0 || ws_upgrade(fd) != 0)
		fail("cannot open a websocket to %s", host);

	for (; i < argc; i++) {
		const char *st = argv[i];
#define ARG(k) (i + (k) < argc ? argv[i + (k)] : (fail("%s needs more arguments", st), ""))
		if (!strcmp(st, "register")) {
			step_register(ARG(1), ARG(2));
			i += 2;
		} else if (!strcmp(st, "m1only")) {
			step_m1(ARG(1));
			nym_gw_msg_free((struct nym_gw_msg[]){expect_type(NYM_GW_RESP_HANDSHAKE, "M2")});
			i += 1;
		} else if (!strcmp(st, "badm3")) {
			uint8_t junk[92];
			char *s;
			size_t n;
			nym_rng_fill(&rng, junk, sizeof junk);
			nym_gw_json_handshake(&s, &n, 1, 6, junk, 92);
			send_frame(fd, 1, (uint8_t *)s, n);
			free(s);
		} else if (!strcmp(st, "auth")) {
			const char *ts = i + 3 < argc && argv[i + 3][0] >= '0' && argv[i + 3][0] <= '9' ? argv[i + 3] : NULL;
			step_auth(ARG(1), ARG(2), ts);
			i += ts ? 3 : 2;
		} else if (!strcmp(st, "text")) {
			send_frame(fd, 1, (const uint8_t *)ARG(1), strlen(ARG(1)));
			i++;
		} else if (!strcmp(st, "binary") || !strcmp(st, "raw")) {
			const char *h = ARG(1);
			size_t n = strlen(h) / 2;
			uint8_t *b = malloc(n + 1);
			if (nym_hex_decode(b, n + 1, h, strlen(h)) != (int)n)
				fail("'%s' is not hex", h);
			if (st[0] == 'b')
				send_frame(fd, 2, b, n);
			else
				write_all_fd(fd, b, n);
			free(b);
			i++;
		} else if (!strcmp(st, "bigtext")) {
			size_t n = strtoul(ARG(1), NULL, 10);
			char *b = malloc(n);
			memset(b, ' ', n);
			send_frame(fd, 1, (uint8_t *)b, n);
			free(b);
			i++;
		} else if (!strcmp(st, "forward")) {
			int cnt = i + 2 < argc && atoi(argv[i + 2]) > 0 ? atoi(argv[i + 2]) : 1;
			step_forward(ARG(1), cnt);
			i += i + 2 < argc && atoi(argv[i + 2]) > 0 ? 2 : 1;
		} else if (!strcmp(st, "recv")) {
			uint8_t *m;
			size_t len;
			int op = recv_msg(&m, &len, timeout_ms);
			if (op < 0)
				fail("%s", op == -2 ? "timed out waiting for a message" : "connection closed");
			print_msg(op, m, len);
			free(m);
		} else if (!strcmp(st, "recvuntil")) {
			const char *want = ARG(1);
			char pat[128];
			snprintf(pat, sizeof pat, "\"type\":\"%s\"", want);
			for (;;) {
				uint8_t *m;
				size_t len;
				int op = recv_msg(&m, &len, timeout_ms);
				if (op < 0)
					fail("no '%s' message came", want);
				print_msg(op, m, len);
				int hit = op == 1 && strstr((char *)m, pat);
				free(m);
				if (hit)
					break;
			}
			i++;
		} else if (!strcmp(st, "expect-closed")) {
			for (;;) {
				uint8_t *m;
				size_t len;
				int op = recv_msg(&m, &len, timeout_ms);
				if (op == -1)
					break;
				if (op == -2)
					fail("%s", "the gateway did not close the connection");
				print_msg(op, m, len);
				free(m);
			}
			printf("{\"closed\":true}\n");
		} else if (!strcmp(st, "flood")) {
			static const char req[] = "{\"type\":\"supportedProtocol\"}";
			long n = atol(ARG(1));
			size_t fl = 6 + sizeof req - 1, chunk = 4096;
			uint8_t *buf = malloc(fl * chunk);
			for (size_t k = 0; k < chunk; k++) { /* unmasked-key (zero mask) frames */
				uint8_t *f = buf + k * fl;
				f[0] = 0x81;
				f[1] = (uint8_t)(0x80 | (sizeof req - 1));
				memset(f + 2, 0, 4);
				memcpy(f + 6, req, sizeof req - 1);
			}
			for (long sent = 0; sent < n && !closed; sent += (long)chunk)
				write_all_fd(fd, buf, fl * (size_t)(n - sent < (long)chunk ? n - sent : (long)chunk));
			free(buf);
			i++;
		} else if (!strcmp(st, "drain")) {
			long got = 0;
			for (;;) {
				uint8_t *m;
				size_t len;
				int op = recv_msg(&m, &len, timeout_ms);
				if (op == -2)
					fail("%s", "the gateway did not close the connection");
				if (op == -1)
					break;
				free(m);
				got++;
			}
			printf("{\"drained\":%ld,\"closed\":true}\n", got);
		} else if (!strcmp(st, "nopong")) {
			answer_pings = 0;
		} else if (!strcmp(st, "hold")) {
			hold(atoi(ARG(1)));
			i++;
		} else if (!strcmp(st, "sleep")) {
			usleep((useconds_t)atoi(ARG(1)) * 1000);
			i++;
		} else if (!strcmp(st, "many")) {
			int n = atoi(ARG(1)), ok = 0, ms = atoi(ARG(2));
			int *fds = calloc((size_t)n, sizeof *fds);
			struct rlimit rl;
			if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
				rl.rlim_cur = rl.rlim_max;
				setrlimit(RLIMIT_NOFILE, &rl);
			}
			for (int k = 0; k < n; k++)
				if ((fds[k] = tcp_connect()) >= 0 && ws_upgrade(fds[k]) == 0)
					ok++;
			printf("{\"opened\":%d}\n", ok);
			fflush(stdout);
			usleep((useconds_t)ms * 1000);
			for (int k = 0; k < n; k++)
				if (fds[k] >= 0)
					close(fds[k]);
			free(fds);
			i += 2;
		} else {
			fail("unknown step '%s'", st);
		}
	}
	fflush(stdout);
	return 0;
}
