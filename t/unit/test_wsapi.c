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

#define RECIP_TEXT "CytBseW6yFXUMzz4SGAKdNLGR7q3sJLLYxyBGvutNEQV." \
	"4QXYyEVc5fUDjmmi8PrHN9tdUFV4PCvSJE1278cHyvoe@4sBbL1ngf1vtNqykydQKTFh26sQCw888GpUqvPvyNB4f"

/* A text request that must fail as MalformedRequest, detail containing want. */
static void
text_bad(const char *name, const char *json, const char *want)
{
	struct nym_wsapi_req r;
	uint8_t *own = (uint8_t *)1, kind = 0;
	char why[NYM_WSAPI_WHY_MAX];
	int e = nym_wsapi_text_req_decode(&r, &own, json, strlen(json), &kind, why, sizeof why);
	CHECK(e < 0 && own == NULL && kind == NYM_WSAPI_ERR_MALFORMED_REQUEST && strstr(why, want),
	    "text %s refused: %s", name, why);
}

static void
text_resp(const char *name, const struct nym_wsapi_resp *p, const char *want)
{
	char *out = NULL;
	size_t n = 0;
	int e = nym_wsapi_text_resp_encode(&out, &n, p);
	CHECK(e == 0 && out && n == strlen(want) && !strcmp(out, want), "text %s: %s", name,
	    out ? out : "(none)");
	free(out);
}

static void
text_tests(const uint8_t *rc)
{
	struct nym_wsapi_req r;
	struct nym_wsapi_resp p;
	uint8_t *own, kind;
	char why[NYM_WSAPI_WHY_MAX];
	const char *j;

	j = "{\"type\":\"send\",\"message\":\"foomp\",\"recipient\":\"" RECIP_TEXT "\",\"connectionId\":42}";
	CHECK(nym_wsapi_text_req_decode(&r, &own, j, strlen(j), &kind, why, sizeof why) == 0 &&
	    r.tag == NYM_WSAPI_REQ_SEND && !memcmp(r.recipient, rc, 96) && r.connection_id == 42 &&
	    r.has_connection_id && r.data_len == 5 && !memcmp(r.data, "foomp", 5),
	    "text send (spec §3, §10 recipient)");
	free(own);
	j = "{\"type\":\"sendAnonymous\",\"message\":\"a\\u0000b\",\"recipient\":\"" RECIP_TEXT
	    "\",\"replySurbs\":666,\"connectionId\":null,\"extra\":[1]}";
	CHECK(nym_wsapi_text_req_decode(&r, &own, j, strlen(j), &kind, why, sizeof why) == 0 &&
	    r.tag == NYM_WSAPI_REQ_SEND_ANONYMOUS && r.reply_surbs == 666 && !r.has_connection_id &&
	    r.data_len == 3 && !memcmp(r.data, "a\0b", 3), "text sendAnonymous: NUL kept, null id, "
	    "unknown field ignored");
	free(own);
	j = "{\"type\":\"reply\",\"message\":\"hi back\",\"senderTag\":\"zXExeyvPEHUk9rjXTu78T\","
	    "\"connectionId\":0}";
	uint8_t eight[16];
	memset(eight, 8, 16);
	CHECK(nym_wsapi_text_req_decode(&r, &own, j, strlen(j), &kind, why, sizeof why) == 0 &&
	    r.tag == NYM_WSAPI_REQ_REPLY && !memcmp(r.sender_tag, eight, 16) &&
	    r.has_connection_id && r.connection_id == 0 && r.data_len == 7,
	    "text reply: tag [8;16] from base58, connectionId 0 is a lane");
	free(own);
	j = "{\"type\":\"selfAddress\"}";
	CHECK(nym_wsapi_text_req_decode(&r, &own, j, strlen(j), &kind, why, sizeof why) == 0 &&
	    r.tag == NYM_WSAPI_REQ_SELF_ADDRESS && own == NULL, "text selfAddress");
	CHECK(nym_wsapi_text_req_decode(&r, &own, "", 0, &kind, why, sizeof why) < 0 &&
	    kind == NYM_WSAPI_ERR_EMPTY_REQUEST, "empty text request");

	text_bad("not JSON", "{\"type\":", "line 1");
	text_bad("not an object", "[1,2]", "object");
	text_bad("no type", "{\"message\":\"x\"}", "missing field `type`");
	text_bad("unknown type", "{\"type\":\"closedConnection\",\"connectionId\":1}",
	    "unknown variant `closedConnection`");
	text_bad("no recipient", "{\"type\":\"send\",\"message\":\"x\"}", "missing field `recipient`");
	text_bad("no message", "{\"type\":\"send\",\"recipient\":\"" RECIP_TEXT "\"}",
	    "missing field `message`");
	text_bad("message not a string", "{\"type\":\"send\",\"message\":{},\"recipient\":\""
	    RECIP_TEXT "\"}", "`message`");
	text_bad("bad recipient", "{\"type\":\"send\",\"message\":\"x\",\"recipient\":\"abc@def\"}",
	    "malformed recipient");
	text_bad("no replySurbs", "{\"type\":\"sendAnonymous\",\"message\":\"x\",\"recipient\":\""
	    RECIP_TEXT "\"}", "missing field `replySurbs`");
	text_bad("negative replySurbs", "{\"type\":\"sendAnonymous\",\"message\":\"x\",\"replySurbs\":-1,"
	    "\"recipient\":\"" RECIP_TEXT "\"}", "`replySurbs`");
	text_bad("short sender tag", "{\"type\":\"reply\",\"message\":\"x\",\"senderTag\":\"zXEx\"}",
	    "sender tag");
	text_bad("bad connectionId", "{\"type\":\"reply\",\"message\":\"x\",\"senderTag\":"
	    "\"zXExeyvPEHUk9rjXTu78T\",\"connectionId\":\"7\"}", "`connectionId`");
	text_bad("duplicate field", "{\"type\":\"selfAddress\",\"type\":\"send\"}", "duplicate");

	memset(&p, 0, sizeof p);
	p.tag = NYM_WSAPI_RESP_SELF_ADDRESS;
	memcpy(p.recipient, rc, 96);
	text_resp("selfAddress", &p, "{\"type\":\"selfAddress\",\"address\":\"" RECIP_TEXT "\"}");
	memset(&p, 0, sizeof p);
	p.tag = NYM_WSAPI_RESP_RECEIVED;
	p.data = (const uint8_t *)"hello";
	p.data_len = 5;
	text_resp("received, no tag", &p, "{\"type\":\"received\",\"message\":\"hello\",\"senderTag\":null}");
	p.has_sender_tag = 1;
	memset(p.sender_tag, 42, 16);
	text_resp("received, tag [42;16]", &p,
	    "{\"type\":\"received\",\"message\":\"hello\",\"senderTag\":\"6CzGHguLGCk1f416kwDZB7\"}");
	p.has_sender_tag = 0;
	p.data = (const uint8_t *)"a\xff\xe2\x82z";
	p.data_len = 5;
	text_resp("received, invalid UTF-8 lossy", &p,
	    "{\"type\":\"received\",\"message\":\"a\xef\xbf\xbd\xef\xbf\xbdz\",\"senderTag\":null}");
	memset(&p, 0, sizeof p);
	p.tag = NYM_WSAPI_RESP_LANE_QUEUE_LENGTH;
	p.lane = 42;
	p.queue_length = 3;
	text_resp("laneQueueLength", &p, "{\"type\":\"laneQueueLength\",\"lane\":42,\"queue_length\":3}");
	memset(&p, 0, sizeof p);
	p.tag = NYM_WSAPI_RESP_ERROR;
	p.error_kind = NYM_WSAPI_ERR_MALFORMED_REQUEST;
	p.data = (const uint8_t *)"malformed request:missing field `recipient`";
	p.data_len = strlen((const char *)p.data);
	text_resp("error", &p,
	    "{\"type\":\"error\",\"message\":\"malformed request:missing field `recipient`\"}");
	p.tag = NYM_WSAPI_RESP_NYMKIT_LOOP_SENT;
	char *o = NULL;
	size_t on;
	CHECK(nym_wsapi_text_resp_encode(&o, &on, &p) == NYM_EFLAG && !o, "no text form for nymkit's");

	/* lossy UTF-8 as Rust's from_utf8_lossy: one U+FFFD per maximal invalid subpart */
	char lo[64];
	size_t ln = nym_wsapi_utf8_lossy(lo, (const uint8_t *)"\xf0\x9f\x98\x80\xed\xa0\x80\xc0", 8);
	CHECK(ln == 4 + 9 + 3 && !memcmp(lo, "\xf0\x9f\x98\x80", 4) &&
	    !memcmp(lo + 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 12),
	    "lossy: emoji kept, surrogate ED A0 80 = 3 replacements, C0 = 1");
	ln = nym_wsapi_utf8_lossy(lo, (const uint8_t *)"\xf0\x9f\x98", 3);
	CHECK(ln == 3, "lossy: a truncated 4-byte sequence is one replacement");
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

	text_tests(rc);
	free(rc);
	return t_done();
}
