/* test_wsapi.c — nym-client websocket API binary frames against the bytes of
 * doc/spec/client-websocket.md §10.2 (derived from the repo's test inputs). */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/wsapi.h"
#include "test.h"

#define RECIP "b202f5983ab6ad7e78b5237d005ff4887689be9a2341179b05d382cf80f1dade" \
	"3299f6b78e8a0bce4daa9fcca3f93204da56a5d5132ee4d484cec3c9927cb965" \
	"396e13d61e2bc32b6353a31da0c34dcc1545f93bab112ce63d9a2c1d0327a724"

static void
req_vector(const char *name, const struct nym_wsapi_req *r, const char *hex)
{
	size_t n;
	uint8_t *want = t_hex(hex, &n), out[256];
	struct nym_wsapi_req d;
	uint8_t kind = 0;
	int len = nym_wsapi_req_encode(out, sizeof out, r);

	CHECK(len == (int)n, "%s: length %d", name, len);
	if (len == (int)n)
		CHECK_MEM(out, want, n, "%s: bytes", name);
	CHECK(nym_wsapi_req_decode(&d, want, n, &kind) == 0, "%s: decodes", name);
	CHECK(d.tag == r->tag && d.connection_id == r->connection_id && d.data_len == r->data_len &&
	    (!d.data_len || !memcmp(d.data, r->data, d.data_len)) && d.reply_surbs == r->reply_surbs &&
	    !memcmp(d.recipient, r->recipient, 96) && !memcmp(d.sender_tag, r->sender_tag, 16),
	    "%s: round trip", name);
	free(want);
}

static void
resp_vector(const char *name, const struct nym_wsapi_resp *r, const char *hex)
{
	size_t n;
	uint8_t *want = t_hex(hex, &n), out[256];
	struct nym_wsapi_resp d;
	int len = nym_wsapi_resp_encode(out, sizeof out, r);

	CHECK(len == (int)n, "%s: length %d", name, len);
	if (len == (int)n)
		CHECK_MEM(out, want, n, "%s: bytes", name);
	CHECK(nym_wsapi_resp_decode(&d, want, n, NULL) == 0, "%s: decodes", name);
	CHECK(d.tag == r->tag && d.data_len == r->data_len &&
	    (!d.data_len || !memcmp(d.data, r->data, d.data_len)) &&
	    d.has_sender_tag == r->has_sender_tag && !memcmp(d.sender_tag, r->sender_tag, 16) &&
	    !memcmp(d.recipient, r->recipient, 96) && d.lane == r->lane &&
	    d.queue_length == r->queue_length && d.error_kind == r->error_kind &&
	    d.loop_id == r->loop_id && d.rtt_us == r->rtt_us,
	    "%s: round trip", name);
	free(want);
}

int
main(void)
{
	uint8_t *rc = t_hex(RECIP, NULL);
	const uint8_t *foomp = (const uint8_t *)"foomp";
	struct nym_wsapi_req r;
	struct nym_wsapi_resp p;
	uint8_t kind;

	memset(&r, 0, sizeof r);
	r.tag = NYM_WSAPI_REQ_SEND;
	memcpy(r.recipient, rc, 96);
	r.connection_id = 42;
	r.data = foomp;
	r.data_len = 5;
	req_vector("Send", &r, "00" RECIP "000000000000002a" "0000000000000005" "666f6f6d70");
	r.tag = NYM_WSAPI_REQ_SEND_ANONYMOUS;
	r.reply_surbs = 666;
	req_vector("SendAnonymous", &r,
	    "01" "0000029a" RECIP "000000000000002a" "0000000000000005" "666f6f6d70");
	memset(&r, 0, sizeof r);
	r.tag = NYM_WSAPI_REQ_REPLY;
	memset(r.sender_tag, 8, 16);
	r.connection_id = 42;
	r.data = foomp;
	r.data_len = 5;
	req_vector("Reply", &r,
	    "02" "08080808080808080808080808080808" "000000000000002a" "0000000000000005" "666f6f6d70");
	memset(&r, 0, sizeof r);
	r.tag = NYM_WSAPI_REQ_SELF_ADDRESS;
	req_vector("SelfAddress", &r, "03");
	r.tag = NYM_WSAPI_REQ_CLOSED_CONNECTION;
	r.connection_id = 42;
	req_vector("ClosedConnection", &r, "04000000000000002a");
	r.tag = NYM_WSAPI_REQ_LANE_QUEUE_LENGTH;
	req_vector("GetLaneQueueLength", &r, "05000000000000002a");

	memset(&p, 0, sizeof p);
	p.tag = NYM_WSAPI_RESP_SELF_ADDRESS;
	memcpy(p.recipient, rc, 96);
	resp_vector("SelfAddress response", &p, "02" RECIP);
	memset(&p, 0, sizeof p);
	p.tag = NYM_WSAPI_RESP_RECEIVED;
	p.has_sender_tag = 1;
	memset(p.sender_tag, 42, 16);
	p.data = foomp;
	p.data_len = 5;
	resp_vector("Received with tag", &p,
	    "01" "01" "2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a" "0000000000000005" "666f6f6d70");
	memset(&p, 0, sizeof p);
	p.tag = NYM_WSAPI_RESP_RECEIVED;
	p.data = foomp;
	p.data_len = 5;
	resp_vector("Received without tag", &p, "01" "00" "0000000000000005" "666f6f6d70");
	memset(&p, 0, sizeof p);
	p.tag = NYM_WSAPI_RESP_LANE_QUEUE_LENGTH;
	p.lane = 13;
	p.queue_length = 42;
	resp_vector("LaneQueueLength", &p, "03" "000000000000000d" "000000000000002a");
	memset(&p, 0, sizeof p);
	p.tag = NYM_WSAPI_RESP_ERROR;
	p.error_kind = NYM_WSAPI_ERR_UNKNOWN_REQUEST;
	p.data = (const uint8_t *)"foomp message";
	p.data_len = 13;
	resp_vector("Error", &p, "00" "03" "000000000000000d" "666f6f6d70206d657373616765");

	/* nymkit extensions */
	memset(&r, 0, sizeof r);
	r.tag = NYM_WSAPI_REQ_NYMKIT_LOOP;
	req_vector("nymkit Loop", &r, "80");
	memset(&p, 0, sizeof p);
	p.tag = NYM_WSAPI_RESP_NYMKIT_LOOP_SENT;
	p.loop_id = 7;
	resp_vector("nymkit LoopSent", &p, "80" "0000000000000007");
	p.tag = NYM_WSAPI_RESP_NYMKIT_LOOP_RETURNED;
	p.rtt_us = 12345;
	resp_vector("nymkit LoopReturned", &p, "81" "0000000000000007" "0000000000003039");

	/* rejections, with the kind the official server answers */
	uint8_t buf[200];
	CHECK(nym_wsapi_req_decode(&r, buf, 0, &kind) < 0 && kind == NYM_WSAPI_ERR_EMPTY_REQUEST,
	    "empty request");
	buf[0] = 0x09;
	CHECK(nym_wsapi_req_decode(&r, buf, 1, &kind) == NYM_EFLAG && kind == NYM_WSAPI_ERR_UNKNOWN_REQUEST,
	    "unknown tag");
	memset(buf, 0, sizeof buf);
	CHECK(nym_wsapi_req_decode(&r, buf, 112, &kind) == NYM_ESHORT &&
	    kind == NYM_WSAPI_ERR_TOO_SHORT_REQUEST, "Send of 112 bytes is too short");
	buf[112] = 1; /* data_len 1, nothing follows */
	CHECK(nym_wsapi_req_decode(&r, buf, 113, &kind) == NYM_EFORMAT &&
	    kind == NYM_WSAPI_ERR_MALFORMED_REQUEST, "data_len larger than the data");
	buf[112] = 0;
	CHECK(nym_wsapi_req_decode(&r, buf, 114, &kind) == NYM_EFORMAT, "data_len smaller than the data");
	CHECK(nym_wsapi_req_decode(&r, buf, 113, &kind) == 0 && r.data_len == 0, "empty Send is fine");
	buf[0] = 0x04;
	CHECK(nym_wsapi_req_decode(&r, buf, 10, &kind) == NYM_EFORMAT, "ClosedConnection must be 9 bytes");
	buf[0] = 0x03;
	CHECK(nym_wsapi_req_decode(&r, buf, 5, &kind) == 0, "SelfAddress ignores trailing bytes");
	buf[0] = 0x01;
	buf[1] = 2;
	CHECK(nym_wsapi_resp_decode(&p, buf, 20, &kind) == NYM_EFORMAT &&
	    kind == NYM_WSAPI_ERR_MALFORMED_RESPONSE, "has_sender_tag 2 refused");
	buf[0] = 0x02;
	CHECK(nym_wsapi_resp_decode(&p, buf, 98, &kind) == NYM_EFORMAT, "SelfAddress response must be 97");
	CHECK(!strcmp(nym_wsapi_err_text(NYM_WSAPI_ERR_MALFORMED_REQUEST), "malformed request"),
	    "error kind words");
	free(rc);
	return t_done();
}
