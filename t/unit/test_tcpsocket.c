/* test_tcpsocket.c — lib/proto/tcpsocket.h: the 2019 TCP-socket API's frames
 * (doc/spec/tcpsocket.md §1-2). The vectors are protobuf bytes written out by
 * hand from the field numbers of §2, so they check protoc-c's output against
 * the spec rather than against itself. */
#include "proto/tcpsocket.h"
#include "test.h"

static int
decode_hex(struct nym_tcpsocket_req *r, const char *hex)
{
	size_t n;
	uint8_t *b = t_hex(hex, &n);
	int e = nym_tcpsocket_req_decode(r, b, n);
	free(b);
	return e;
}

int
main(void)
{
	struct nym_tcpsocket_req r;
	uint8_t hdr[16] = {0};
	uint8_t *out;
	size_t n;

	/* framing */
	CHECK(nym_tcpsocket_frame(hdr, 7, NYM_TCPSOCKET_MAX_REQUEST) == 0, "7 bytes: no header yet");
	CHECK(nym_tcpsocket_frame(hdr, 8, NYM_TCPSOCKET_MAX_REQUEST) == 8, "an empty body is a frame");
	hdr[7] = 3;
	CHECK(nym_tcpsocket_frame(hdr, 10, NYM_TCPSOCKET_MAX_REQUEST) == 0, "body not all there");
	CHECK(nym_tcpsocket_frame(hdr, 12, NYM_TCPSOCKET_MAX_REQUEST) == 11, "header + 3");
	memset(hdr, 0, 8);
	hdr[3] = 1; /* 4 GiB */
	CHECK(nym_tcpsocket_frame(hdr, 8, NYM_TCPSOCKET_MAX_REQUEST) == NYM_ETOOBIG,
	    "a 4 GiB claim is refused from the header alone");
	memset(hdr, 0xff, 8);
	CHECK(nym_tcpsocket_frame(hdr, 8, NYM_TCPSOCKET_MAX_REQUEST) == NYM_ETOOBIG, "2^64-1 claim");
	memset(hdr, 0, 8);
	hdr[5] = 0x10, hdr[7] = 1; /* 1 MiB + 1 */
	CHECK(nym_tcpsocket_frame(hdr, 8, NYM_TCPSOCKET_MAX_REQUEST) == NYM_ETOOBIG, "1 MiB + 1");

	/* requests, by hand from §2 */
	CHECK(decode_hex(&r, "") == 0 && r.kind == NYM_TCPSOCKET_REQ_NONE, "empty Request: no field");
	nym_tcpsocket_req_free(&r);
	CHECK(decode_hex(&r, "2a00") == 0 && r.kind == NYM_TCPSOCKET_REQ_DETAILS, "details = 5");
	nym_tcpsocket_req_free(&r);
	CHECK(decode_hex(&r, "1a00") == 0 && r.kind == NYM_TCPSOCKET_REQ_FETCH, "fetch = 3");
	nym_tcpsocket_req_free(&r);
	CHECK(decode_hex(&r, "2200") == 0 && r.kind == NYM_TCPSOCKET_REQ_CLIENTS, "clients = 4");
	nym_tcpsocket_req_free(&r);
	CHECK(decode_hex(&r, "3200") == 0 && r.kind == NYM_TCPSOCKET_REQ_FLUSH, "flush = 6");
	nym_tcpsocket_req_free(&r);
	CHECK(decode_hex(&r, "1209" "0a026869" "12030a0178") == 0 && r.kind == NYM_TCPSOCKET_REQ_SEND &&
	    r.message_len == 2 && !memcmp(r.message, "hi", 2) && r.has_recipient &&
	    !strcmp(r.recipient_id, "x"), "send = 2 {message = 1, recipient = 2 {Id = 1}}");
	nym_tcpsocket_req_free(&r);
	CHECK(decode_hex(&r, "1200") == 0 && r.kind == NYM_TCPSOCKET_REQ_SEND && !r.has_recipient &&
	    r.message_len == 0 && !strcmp(r.recipient_id, ""), "send with nothing in it");
	nym_tcpsocket_req_free(&r);
	CHECK(decode_hex(&r, "f8ff0301" "2a00") == 0 && r.kind == NYM_TCPSOCKET_REQ_DETAILS,
	    "an unknown field is skipped");
	nym_tcpsocket_req_free(&r);
	CHECK(decode_hex(&r, "ffffffff") == NYM_EFORMAT, "garbage is not a Request");
	CHECK(decode_hex(&r, "2a05") == NYM_EFORMAT, "a length past the end");
	CHECK(decode_hex(&r, "12020a05") == NYM_EFORMAT, "a nested length past its parent");

	/* responses */
	struct nym_tcpsocket_resp p = {.kind = NYM_TCPSOCKET_RESP_EXCEPTION,
	                               .error = NYM_TCPSOCKET_INVALID_REQUEST};
	size_t want_n;
	uint8_t *want = t_hex("000000000000001a" "0a18" "0a16"
	                      "496e76616c6964207365727665722072657175657374", &want_n);
	CHECK(nym_tcpsocket_resp_encode(&out, &n, &p) == 0 && n == want_n, "exception: %zu bytes", n);
	CHECK_MEM(out, want, want_n, "exception {error = 1} in its frame");
	free(out);
	free(want);
	p = (struct nym_tcpsocket_resp){.kind = NYM_TCPSOCKET_RESP_FLUSH};
	CHECK(nym_tcpsocket_resp_encode(&out, &n, &p) == 0 && n == 10, "flush frame");
	CHECK_MEM(out, "\0\0\0\0\0\0\0\x02\x32\x00", 10, "flush = 6, empty");
	free(out);
	p.kind = NYM_TCPSOCKET_RESP_SEND;
	CHECK(nym_tcpsocket_resp_encode(&out, &n, &p) == 0 && n == 10 && out[8] == 0x12 && !out[9],
	    "send = 2, empty");
	free(out);
	p.kind = NYM_TCPSOCKET_RESP_CLIENTS;
	CHECK(nym_tcpsocket_resp_encode(&out, &n, &p) == 0 && n == 10 && out[8] == 0x22 && !out[9],
	    "clients = 4, an empty list");
	free(out);
	p.kind = 9;
	CHECK(nym_tcpsocket_resp_encode(&out, &n, &p) == NYM_EINVAL, "an unknown kind");

	/* fetch: repeated bytes, round trip */
	const uint8_t *msgs[3] = {(const uint8_t *)"one", (const uint8_t *)"", (const uint8_t *)"three"};
	size_t lens[3] = {3, 0, 5};
	p = (struct nym_tcpsocket_resp){.kind = NYM_TCPSOCKET_RESP_FETCH, .messages = msgs,
	                                .message_lens = lens, .n_messages = 3};
	struct nym_tcpsocket_resp_owned o;
	CHECK(nym_tcpsocket_resp_encode(&out, &n, &p) == 0 &&
	    nym_tcpsocket_frame(out, n, n) == (int64_t)n, "fetch frame");
	CHECK_MEM(out + 8, "\x1a\x0e\x0a\x03one\x0a\x00\x0a\x05three", 16, "fetch {messages = 1 ...}");
	CHECK(nym_tcpsocket_resp_decode(&o, out + 8, n - 8) == 0 && o.r.kind == NYM_TCPSOCKET_RESP_FETCH &&
	    o.r.n_messages == 3 && o.r.message_lens[1] == 0 && o.r.message_lens[2] == 5 &&
	    !memcmp(o.r.messages[2], "three", 5), "fetch decodes back");
	nym_tcpsocket_resp_free(&o);
	free(out);

	/* details: the address mapping of §3 */
	uint8_t id[32], gw[32];
	memset(id, 0x11, 32);
	memset(gw, 0x22, 32);
	struct nym_tcpsocket_client c = {"addr.enc@gw", id, "gw", "127.0.0.1", "9000", gw};
	p = (struct nym_tcpsocket_resp){.kind = NYM_TCPSOCKET_RESP_DETAILS, .details = &c};
	CHECK(nym_tcpsocket_resp_encode(&out, &n, &p) == 0 &&
	    nym_tcpsocket_resp_decode(&o, out + 8, n - 8) == 0 && o.r.details &&
	    !strcmp(o.r.details->id, "addr.enc@gw") && o.r.details->pubkey &&
	    !memcmp(o.r.details->pubkey, id, 32) && !strcmp(o.r.details->provider_host, "127.0.0.1") &&
	    !strcmp(o.r.details->provider_port, "9000") && o.r.details->provider_key &&
	    !memcmp(o.r.details->provider_key, gw, 32), "details round trip");
	CHECK(out[8] == 0x2a && out[10] == 0x0a, "details = 5 {details = 1 {...}}");
	nym_tcpsocket_resp_free(&o);
	free(out);

	/* requests encode as the decoder reads them */
	CHECK(nym_tcpsocket_req_encode(&out, &n, NYM_TCPSOCKET_REQ_SEND, (const uint8_t *)"hi", 2, "x") == 0 &&
	    n == 19, "send request frame");
	CHECK_MEM(out, "\0\0\0\0\0\0\0\x0b\x12\x09\x0a\x02hi\x12\x03\x0a\x01x", 19, "send bytes");
	free(out);
	CHECK(nym_tcpsocket_req_encode(&out, &n, NYM_TCPSOCKET_REQ_NONE, NULL, 0, NULL) == 0 && n == 8,
	    "the empty request: a header of zero");
	free(out);

	printf("1..%d\n", t_n);
	return t_failed != 0;
}
