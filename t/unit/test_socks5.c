/* test_socks5.c — network requester messages against doc/spec/socks5.md §11:
 * the repo's vectors (§11.1), what mix-fetch 1.4.1 sent (§11.2, OBSERVED) and
 * the derived examples (§11.3), both directions, legacy and versioned. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/socks5.h"
#include "test.h"

/* R: the recipient of doc/spec/nym-message.md §10.2 #1 */
#define R "b202f5983ab6ad7e78b5237d005ff4887689be9a2341179b05d382cf80f1dade" \
	"3299f6b78e8a0bce4daa9fcca3f93204da56a5d5132ee4d484cec3c9927cb965" \
	"396e13d61e2bc32b6353a31da0c34dcc1545f93bab112ce63d9a2c1d0327a724"
#define EXAMPLE "6578616d706c652e636f6d3a343433" /* "example.com:443" */

static int
same(const struct nym_socks5_msg *a, const struct nym_socks5_msg *b)
{
	return a->iface == b->iface && a->socks5 == b->socks5 && a->kind == b->kind &&
	       a->conn_id == b->conn_id && a->addr_len == b->addr_len &&
	       (!a->addr_len || !memcmp(a->addr, b->addr, a->addr_len)) && a->has_return == b->has_return &&
	       (!a->has_return || !memcmp(a->return_address, b->return_address, 96)) &&
	       a->closed == b->closed && a->seq == b->seq && a->data_len == b->data_len &&
	       (!a->data_len || !memcmp(a->data, b->data, a->data_len)) && a->tag == b->tag &&
	       a->flag == b->flag && a->policy_len == b->policy_len &&
	       (!a->policy_len || !memcmp(a->policy, b->policy, a->policy_len));
}

/* m encodes to hex, and hex decodes to m. */
static void
vector(const char *name, int req, const struct nym_socks5_msg *m, const char *hex)
{
	size_t n;
	uint8_t *want = t_hex(hex, &n), out[512];
	struct nym_socks5_msg d;
	int len = req ? nym_socks5_req_encode(out, sizeof out, m) : nym_socks5_resp_encode(out, sizeof out, m);
	size_t l2 = req ? nym_socks5_req_len(m) : nym_socks5_resp_len(m);

	CHECK(len == (int)n && l2 == n, "%s: length %d (want %zu)", name, len, n);
	if (len == (int)n)
		CHECK_MEM(out, want, n, "%s: bytes", name);
	int rc = req ? nym_socks5_req_decode(&d, want, n) : nym_socks5_resp_decode(&d, want, n);
	CHECK(rc == 0, "%s: decodes (%d)", name, rc);
	CHECK(rc == 0 && same(&d, m), "%s: decodes to the same fields", name);
	free(want);
}

static void
bad(const char *name, int req, const char *hex, int want)
{
	size_t n;
	uint8_t *b = t_hex(hex, &n);
	struct nym_socks5_msg d;
	int rc = req ? nym_socks5_req_decode(&d, b, n) : nym_socks5_resp_decode(&d, b, n);
	CHECK(rc == want, "%s: %s (got %d)", name, nym_strerror(want), rc);
	free(b);
}

static struct nym_socks5_msg
msg(uint8_t iface, uint8_t socks5, uint8_t kind)
{
	struct nym_socks5_msg m;
	memset(&m, 0, sizeof m);
	m.iface = iface, m.socks5 = socks5, m.kind = kind;
	return m;
}

static void
repo_vectors(void) /* §11.1 */
{
	struct nym_socks5_msg m = msg(0, 0, NYM_SOCKS5_CONNECT);
	uint8_t *ret = t_hex("227011b6e106aed8a02948eca05a9c03fa29f335bfb2da35aa0eb9215e991929"
	                     "0652a9bb58f6d33944e1e4e7741d77eba00e9ccd42014bccccdc0e96bfcbae58"
	                     "79ad53dbbca4c2d4eee404803069e05311f6e910ebdf44570d2822badacc7e91", NULL);
	const char *http = "GET /1MB.zip HTTP/1.1\r\nHost: ipv4.download.thinkbroadband.com\r\n"
	                   "User-Agent: curl/7.68.0\r\nAccept: */*\r\n\r\n";
	char hex[512];

	m.conn_id = 215647648274976171ull;
	m.addr = (const uint8_t *)"80.249.99.148:80", m.addr_len = 16;
	m.has_return = 1;
	memcpy(m.return_address, ret, 96);
	vector("legacy Connect (repo)", 1, &m,
	       "0000" "02fe2264c0140dab" "0010" "38302e3234392e39392e3134383a3830"
	       "227011b6e106aed8a02948eca05a9c03fa29f335bfb2da35aa0eb9215e991929"
	       "0652a9bb58f6d33944e1e4e7741d77eba00e9ccd42014bccccdc0e96bfcbae58"
	       "79ad53dbbca4c2d4eee404803069e05311f6e910ebdf44570d2822badacc7e91");
	free(ret);

	m = msg(0, 0, NYM_SOCKS5_SEND);
	m.conn_id = 7810961472501196273ull;
	m.data = (const uint8_t *)http, m.data_len = strlen(http);
	CHECK(m.data_len == 103, "the repo's HTTP request is 103 bytes");
	strcpy(hex, "0001" "6c661c1332b225f1" "00" "0000000000000000");
	for (size_t i = 0; i < m.data_len; i++)
		sprintf(hex + strlen(hex), "%02x", (uint8_t)http[i]);
	vector("legacy Send (repo)", 1, &m, hex);

	/* SocketData in both orders: request conn||closed||seq, response closed||conn||seq */
	m = msg(3, 3, NYM_SOCKS5_SEND);
	m.conn_id = 0x0606060606060606ull, m.seq = 0x0001020304050607ull;
	m.data = (const uint8_t *)"\xff\xff\xff", m.data_len = 3;
	vector("SocketData, request order", 1, &m, "03010301" "0606060606060606" "00" "0001020304050607" "ffffff");
	m.kind = NYM_SOCKS5_NETWORK_DATA;
	vector("SocketData, response order", 0, &m, "03010301" "00" "0606060606060606" "0001020304050607" "ffffff");

	/* content-level queries and answers (behind 03 01 03) */
	m = msg(3, 3, NYM_SOCKS5_QUERY);
	m.tag = NYM_SOCKS5_QUERY_OPEN_PROXY;
	vector("Query OpenProxy", 1, &m, "030103" "0200");
	m.tag = NYM_SOCKS5_QUERY_DESCRIPTION;
	vector("Query Description", 1, &m, "030103" "0201");
	m.tag = NYM_SOCKS5_QUERY_OPEN_PROXY, m.flag = 1;
	vector("OpenProxy(true)", 0, &m, "030103" "030001");
	m.tag = NYM_SOCKS5_QUERY_DESCRIPTION, m.flag = 0;
	m.data = (const uint8_t *)"foo", m.data_len = 3;
	vector("Description(\"foo\")", 0, &m, "030103" "0301" "03666f6f");
	m.tag = NYM_SOCKS5_QUERY_ERROR;
	m.data = (const uint8_t *)"this is an error", m.data_len = 16;
	vector("Error(\"this is an error\")", 0, &m, "030103" "0303" "107468697320697320616e206572726f72");
	uint8_t *pol = t_hex("01" "01" "00" "012a" "01" "fbffff", NULL);
	m.tag = NYM_SOCKS5_QUERY_EXIT_POLICY, m.flag = 0;
	m.data = (const uint8_t *)"http://foo.bar", m.data_len = 14;
	m.policy = pol, m.policy_len = 9;
	vector("ExitPolicy{false, http://foo.bar, accept *:*}", 0, &m,
	       "030103" "0302" "00" "0e687474703a2f2f666f6f2e626172" "01" "01" "00" "012a" "01" "fbffff");
	free(pol);

	/* Connect negatives, content level behind a legacy byte 00 */
	bad("7-byte conn id", 1, "00" "00" "01020304050607", NYM_ESHORT);
	bad("no address length", 1, "00" "00" "0102030405060708", NYM_ESHORT);
	bad("1 byte of address length", 1, "00" "00" "0102030405060708" "00", NYM_ESHORT);
	bad("address shorter than its length", 1, "00" "00" "0102030405060708" "0001", NYM_ESHORT);
	bad("return address of 40 bytes", 1,
	    "00" "00" "0102030405060708" "0007" "666f6f2e636f6d"
	    "b202f5983ab6ad7e78b5237d005ff4887689be9a2341179b05d382cf80f1dade" "3299f6b78e8a0bce", NYM_EFORMAT);
	/* y = 2 is no point on the curve */
	bad("malformed return address (identity)", 1,
	    "00" "00" "0102030405060708" "0007" "666f6f2e636f6d"
	    "0200000000000000000000000000000000000000000000000000000000000000"
	    "3299f6b78e8a0bce4daa9fcca3f93204da56a5d5132ee4d484cec3c9927cb965"
	    "396e13d61e2bc32b6353a31da0c34dcc1545f93bab112ce63d9a2c1d0327a724", NYM_EKEY);
	bad("malformed return address (gateway)", 1,
	    "00" "00" "0102030405060708" "0007" "666f6f2e636f6d"
	    "b202f5983ab6ad7e78b5237d005ff4887689be9a2341179b05d382cf80f1dade"
	    "3299f6b78e8a0bce4daa9fcca3f93204da56a5d5132ee4d484cec3c9927cb965"
	    "0200000000000000000000000000000000000000000000000000000000000000", NYM_EKEY);
	/* ConnectionError negatives (legacy: the flag first) */
	bad("empty response", 0, "", NYM_ESHORT);
	bad("ConnectionError, 5-byte id", 0, "02" "0000000000", NYM_ESHORT);
	bad("ConnectionError, invalid UTF-8", 0, "02" "000000000000002a" "009f9296", NYM_EFORMAT);
}

static void
mixfetch_vectors(void) /* §11.2, OBSERVED */
{
	struct nym_socks5_msg m = msg(3, 3, NYM_SOCKS5_CONNECT), d;
	const char *get = "GET /hello HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nUser-Agent: Go-http-client/1.1\r\n"
	                  "Accept-Encoding: gzip\r\nConnection: close\r\n\r\n";
	uint8_t *ret = t_hex("efae220e8b68118bfb05463b3d2d228b63ec26c04f066347a6959db647875f8b"
	                     "15f77592f9b66eb2e948c970bb126f88aa0606c729a498a778d6879bf8cb2b2e"
	                     "75162d98da593d00c4acefa699150e2758d6f21ebe35556d9de066f9e46772fe", NULL);
	char hex[600];

	m.conn_id = 15263268941774558615ull;
	CHECK(m.conn_id == 0xd3d2063bf9b99597ull, "mix-fetch's conn id as logged");
	m.addr = (const uint8_t *)"127.0.0.1:18080", m.addr_len = 15;
	m.has_return = 1;
	memcpy(m.return_address, ret, 96);
	vector("mix-fetch Connect (125 bytes)", 1, &m,
	       "03010300" "d3d2063bf9b99597" "000f" "3132372e302e302e313a3138303830"
	       "efae220e8b68118bfb05463b3d2d228b63ec26c04f066347a6959db647875f8b"
	       "15f77592f9b66eb2e948c970bb126f88aa0606c729a498a778d6879bf8cb2b2e"
	       "75162d98da593d00c4acefa699150e2758d6f21ebe35556d9de066f9e46772fe");
	free(ret);

	m = msg(3, 3, NYM_SOCKS5_SEND);
	m.conn_id = 0xd3d2063bf9b99597ull;
	m.data = (const uint8_t *)get, m.data_len = strlen(get);
	strcpy(hex, "03010301" "d3d2063bf9b99597" "00" "0000000000000000");
	for (size_t i = 0; i < m.data_len; i++)
		sprintf(hex + strlen(hex), "%02x", (uint8_t)get[i]);
	CHECK(strlen(hex) / 2 == 141, "mix-fetch Send seq 0 is 141 bytes");
	vector("mix-fetch Send seq 0", 1, &m, hex);

	m.data = NULL, m.data_len = 0, m.closed = 1, m.seq = 1;
	vector("mix-fetch close seq 1 (21 bytes)", 1, &m, "03010301" "d3d2063bf9b99597" "01" "0000000000000001");

	m.kind = NYM_SOCKS5_NETWORK_DATA;
	vector("empty close as NetworkData", 0, &m, "03010301" "01" "d3d2063bf9b99597" "0000000000000001");
	(void)d;
}

static void
derived_vectors(void) /* §11.3 */
{
	struct nym_socks5_msg m = msg(3, 3, NYM_SOCKS5_CONNECT);
	uint8_t *r = t_hex(R, NULL);
	char buf[256], fe[128];
	int n;

	m.conn_id = 0x0102030405060708ull;
	m.addr = (const uint8_t *)"example.com:443", m.addr_len = 15;
	vector("Connect anonymous mode (29 B)", 1, &m, "03010300" "0102030405060708" "000f" EXAMPLE);
	m.has_return = 1;
	memcpy(m.return_address, r, 96);
	vector("Connect plain mode (125 B)", 1, &m, "03010300" "0102030405060708" "000f" EXAMPLE R);
	m.iface = m.socks5 = 0;
	vector("legacy Connect", 1, &m, "0000" "0102030405060708" "000f" EXAMPLE R);

	m = msg(3, 3, NYM_SOCKS5_SEND);
	m.conn_id = 0x0102030405060708ull, m.seq = 5;
	m.data = (const uint8_t *)"abc", m.data_len = 3;
	vector("Send seq 5 \"abc\"", 1, &m, "03010301" "0102030405060708" "00" "0000000000000005" "616263");
	m.iface = m.socks5 = 0;
	vector("legacy Send", 1, &m, "0001" "0102030405060708" "00" "0000000000000005" "616263");
	m = msg(3, 3, NYM_SOCKS5_SEND);
	m.conn_id = 0x0102030405060708ull, m.seq = 6, m.closed = 1;
	vector("close seq 6", 1, &m, "03010301" "0102030405060708" "01" "0000000000000006");

	m = msg(3, 3, NYM_SOCKS5_NETWORK_DATA);
	m.conn_id = 0x0102030405060708ull;
	m.data = (const uint8_t *)"xyz", m.data_len = 3;
	vector("NetworkData seq 0 \"xyz\"", 0, &m, "03010301" "00" "0102030405060708" "0000000000000000" "78797a");
	m.iface = m.socks5 = 0;
	vector("legacy NetworkData", 0, &m, "01" "00" "0102030405060708" "0000000000000000" "78797a");

	n = nym_socks5_filter_error(fe, sizeof fe, (const uint8_t *)"example.com:443", 15);
	CHECK(n > 0 && !strcmp(fe, "Domain \"example.com:443\" failed filter check"), "filter error text: %s", fe);
	m = msg(3, 3, NYM_SOCKS5_CONNECTION_ERROR);
	m.conn_id = 0x0102030405060708ull;
	m.data = (const uint8_t *)fe, m.data_len = (size_t)n;
	strcpy(buf, "03010302" "0102030405060708");
	for (int i = 0; i < n; i++)
		sprintf(buf + strlen(buf), "%02x", (uint8_t)fe[i]);
	vector("ConnectionError", 0, &m, buf);
	m.iface = m.socks5 = 0;
	strcpy(buf, "02" "0102030405060708");
	for (int i = 0; i < n; i++)
		sprintf(buf + strlen(buf), "%02x", (uint8_t)fe[i]);
	vector("legacy ConnectionError", 0, &m, buf);

	n = nym_socks5_filter_error(fe, sizeof fe, (const uint8_t *)"a\"b\\c\n\x01\xff", 8);
	CHECK(n > 0 && !strcmp(fe, "Domain \"a\\\"b\\\\c\\n\\u{1}\xef\xbf\xbd\" failed filter check"),
	      "filter error escapes as Rust's {:?}: %s", fe);

	m = msg(3, 3, NYM_SOCKS5_QUERY);
	m.tag = NYM_SOCKS5_QUERY_OPEN_PROXY;
	vector("Query OpenProxy", 1, &m, "0301030200");
	vector("answer OpenProxy false", 0, &m, "0301030300" "00");
	m.tag = NYM_SOCKS5_QUERY_DESCRIPTION;
	vector("Query Description", 1, &m, "0301030201");
	m.data = (const uint8_t *)NYM_SOCKS5_DESCRIPTION, m.data_len = strlen(NYM_SOCKS5_DESCRIPTION);
	vector("answer Description", 0, &m,
	       "0301030301" "19" "4465736372697074696f6e2028706c616365686f6c64657229");
	m = msg(3, 3, NYM_SOCKS5_QUERY);
	m.tag = NYM_SOCKS5_QUERY_EXIT_POLICY;
	vector("Query ExitPolicy", 1, &m, "0301030202");
	uint8_t *pol = t_hex("0101" "00" "012a" "01" "fbffff", NULL);
	m.flag = 1, m.policy = pol, m.policy_len = 9;
	vector("answer ExitPolicy, open proxy", 0, &m, "0301030302" "01" "00" "0101" "00" "012a" "01" "fbffff");
	free(pol);

	m = msg(3, 0, NYM_SOCKS5_CONTROL);
	m.tag = NYM_SOCKS5_CONTROL_HEALTH;
	vector("Health", 1, &m, "030000");
	vector("Health answer", 0, &m, "030000");
	m.tag = NYM_SOCKS5_CONTROL_BINARY_INFO;
	vector("BinaryInfo", 1, &m, "030001");
	m.tag = NYM_SOCKS5_CONTROL_VERSIONS;
	vector("SupportedRequestVersions", 1, &m, "030002");
	n = nym_socks5_versions_json(buf, sizeof buf, 3, 3);
	CHECK(n > 0 && !strcmp(buf, "{\"interface_version\":\"{\\\"type\\\":\\\"Versioned\\\",\\\"version\\\":3}\","
	                              "\"provider_version\":\"{\\\"type\\\":\\\"Versioned\\\",\\\"version\\\":3}\"}"),
	      "SupportedRequestVersions JSON (§3.2): %s", buf);
	m.data = (const uint8_t *)buf, m.data_len = (size_t)n;
	{
		uint8_t out[256];
		struct nym_socks5_msg d;
		int l = nym_socks5_resp_encode(out, sizeof out, &m);
		CHECK(l == n + 3 && !memcmp(out, "\x03\x00\x02", 3) && !memcmp(out + 3, buf, (size_t)n),
		      "versions answer = 03 00 02 || JSON");
		CHECK(nym_socks5_resp_decode(&d, out, (size_t)l) == 0 && same(&d, &m), "versions answer decodes");
	}
	n = nym_socks5_versions_json(buf, sizeof buf, 0, 0);
	CHECK(n > 0 && strstr(buf, "{\\\"type\\\":\\\"Legacy\\\"}") != NULL, "Legacy versions JSON");
	free(r);
}

static void
edges(void)
{
	struct nym_socks5_msg m, d;
	uint8_t out[64];

	bad("empty request", 1, "", NYM_ESHORT);
	bad("version without tag", 1, "03", NYM_ESHORT);
	bad("unknown interface tag", 1, "0302", NYM_EFLAG);
	bad("empty control", 1, "0300", NYM_ESHORT);
	bad("unknown control tag", 1, "030003", NYM_EFLAG);
	bad("socks5 version 4", 1, "030104" "01" "0102030405060708" "00" "0000000000000000", NYM_EVERSION);
	bad("unknown request flag", 1, "03010303", NYM_EFLAG);
	bad("legacy unknown flag", 1, "0003", NYM_EFLAG);
	bad("no flag", 1, "030103", NYM_ESHORT);
	bad("Send with 16 header bytes", 1, "03010301" "0102030405060708" "00" "00000000000000", NYM_ESHORT);
	bad("Query without body", 1, "03010302", NYM_ESHORT);
	bad("Query unknown variant", 1, "0301030203", NYM_EFLAG);
	bad("Query trailing byte", 1, "030103020000", NYM_EFORMAT);
	bad("Query bad varint marker", 1, "03010302ff", NYM_EFORMAT);
	bad("NetworkData with 16 header bytes", 0, "03010301" "00" "0102030405060708" "00000000000000", NYM_ESHORT);
	bad("response version without flag", 0, "030103", NYM_ESHORT);
	bad("legacy response flag 0", 0, "00", NYM_EFLAG);
	bad("unknown response flag", 0, "03010304", NYM_EFLAG);
	bad("OpenProxy bool 2", 0, "030103030002", NYM_EFORMAT);
	bad("Description longer than the rest", 0, "0301030301" "0561", NYM_ESHORT);
	bad("Description huge length", 0, "0301030301" "fdffffffffffffffff" "61", NYM_ESHORT);
	bad("Description bad UTF-8", 0, "0301030301" "01ff", NYM_EFORMAT);
	bad("ExitPolicy bad action", 0, "0301030302" "01" "00" "0101" "04" "012a" "01" "fbffff", NYM_EFORMAT);
	bad("ExitPolicy port > 65535", 0, "0301030302" "01" "00" "0101" "00" "012a" "01" "fc00010000", NYM_EFORMAT);
	bad("ExitPolicy huge rule count", 0, "0301030302" "01" "00" "01" "fdffffffffffffffff", NYM_ESHORT);
	bad("unknown control response tag", 0, "030003", NYM_EFLAG);

	/* interface version 5 is taken as 3 and kept; any non-zero closed byte is closed */
	CHECK(nym_socks5_req_decode(&m, (const uint8_t *)"\x05\x01\x03\x01" "12345678" "\x07" "\0\0\0\0\0\0\0\x09" "z", 22) == 0 &&
	      m.iface == 5 && m.socks5 == 3 && m.closed == 1 && m.seq == 9 && m.data_len == 1,
	      "interface 5 accepted and echoed, closed 07 read as closed");
	/* a versioned interface around a legacy socks5 request (socks5 byte 0) */
	CHECK(nym_socks5_req_decode(&m, (const uint8_t *)"\x03\x01\x00\x01" "12345678" "\0" "\0\0\0\0\0\0\0\0", 21) == 0 &&
	      m.iface == 3 && m.socks5 == 0, "versioned interface, legacy socks5");
	m.kind = NYM_SOCKS5_NETWORK_DATA;
	CHECK(nym_socks5_resp_encode(out, sizeof out, &m) == 20 && !memcmp(out, "\x03\x01\x01\x00", 4),
	      "its answer: 03 01 then a legacy NetworkData");
	CHECK(nym_socks5_resp_decode(&d, out, 20) == 0 && d.iface == 3 && d.socks5 == 0, "and that decodes");
	/* a legacy Query (no envelope, socks5 byte < 3) parses as the reference does */
	CHECK(nym_socks5_req_decode(&m, (const uint8_t *)"\x00\x02\x01", 3) == 0 && m.kind == NYM_SOCKS5_QUERY &&
	      m.iface == 0 && m.socks5 == 0 && m.tag == NYM_SOCKS5_QUERY_DESCRIPTION, "legacy Query");
	/* a wide varint marker for a small variant is accepted (bincode 1.3) */
	CHECK(nym_socks5_req_decode(&m, (const uint8_t *)"\x03\x01\x03\x02\xfb\x00\x01", 7) == 0 &&
	      m.tag == NYM_SOCKS5_QUERY_DESCRIPTION, "Query FB 0001 = Description");
	/* what cannot be encoded */
	m = msg(0, 0, NYM_SOCKS5_CONTROL);
	CHECK(nym_socks5_req_encode(out, sizeof out, &m) == NYM_EINVAL, "no legacy control");
	m = msg(3, 0, NYM_SOCKS5_QUERY);
	CHECK(nym_socks5_resp_encode(out, sizeof out, &m) == NYM_EINVAL, "no legacy socks5 query answer");
	m = msg(3, 3, NYM_SOCKS5_SEND);
	m.data = out, m.data_len = 50;
	CHECK(nym_socks5_req_encode(out, 60, &m) == NYM_ESIZE, "too small a buffer");
	m.kind = NYM_SOCKS5_NETWORK_DATA;
	CHECK(nym_socks5_req_encode(out, sizeof out, &m) == NYM_EINVAL, "NetworkData is no request");

	uint8_t v[9];
	uint64_t x;
	CHECK(nym_bincode_varint_put(v, 250) == 1 && nym_bincode_varint_put(v, 251) == 3 &&
	      nym_bincode_varint_put(v, 65536) == 5 && nym_bincode_varint_put(v, 1ull << 32) == 9, "varint widths");
	CHECK(nym_bincode_varint_get(&x, v, 9, UINT64_MAX) == 9 && x == 1ull << 32, "varint u64 back");
	CHECK(nym_bincode_varint_get(&x, v, 8, UINT64_MAX) == NYM_ESHORT, "varint truncated");
	CHECK(nym_bincode_varint_get(&x, v, 9, 0xffff) == NYM_EFORMAT, "varint above its type");
	CHECK(nym_socks5_utf8_valid((const uint8_t *)"\xc0\x80", 2) == 0 &&
	      nym_socks5_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3) == 0 &&
	      nym_socks5_utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80", 4) == 1, "strict UTF-8");
}

static void
targets(void)
{
	char h[64];
	uint16_t port = 0;
	CHECK(nym_socks5_target_split((const uint8_t *)"127.0.0.1:18080", 15, h, sizeof h, &port) == 0 &&
	      !strcmp(h, "127.0.0.1") && port == 18080, "127.0.0.1:18080");
	CHECK(nym_socks5_target_split((const uint8_t *)"[::1]:80", 8, h, sizeof h, &port) == 0 &&
	      !strcmp(h, "::1") && port == 80, "[::1]:80 (mix-fetch)");
	CHECK(nym_socks5_target_split((const uint8_t *)"0:0:0:0:0:0:0:1:80", 18, h, sizeof h, &port) == 0 &&
	      !strcmp(h, "0:0:0:0:0:0:0:1") && port == 80, "0:0:0:0:0:0:0:1:80 (nym-socks5-client)");
	CHECK(nym_socks5_target_split((const uint8_t *)"example.com:443", 15, h, sizeof h, &port) == 0 &&
	      !strcmp(h, "example.com") && port == 443, "example.com:443");
	CHECK(nym_socks5_target_split((const uint8_t *)"example.com", 11, h, sizeof h, &port) == NYM_EADDR, "no port");
	CHECK(nym_socks5_target_split((const uint8_t *)"example.com:", 12, h, sizeof h, &port) == NYM_EADDR, "empty port");
	CHECK(nym_socks5_target_split((const uint8_t *)":80", 3, h, sizeof h, &port) == NYM_EADDR, "empty host");
	CHECK(nym_socks5_target_split((const uint8_t *)"a:65536", 7, h, sizeof h, &port) == NYM_EADDR, "port > 65535");
	CHECK(nym_socks5_target_split((const uint8_t *)"a:-1", 4, h, sizeof h, &port) == NYM_EADDR, "port -1");
	CHECK(nym_socks5_target_split((const uint8_t *)"a\0b:80", 6, h, sizeof h, &port) == NYM_EADDR, "NUL in the host");
	CHECK(nym_socks5_target_split((const uint8_t *)"abcdefgh:80", 11, h, 8, &port) == NYM_EADDR, "host too long");
}

/* The requester's answers (§11.3): request bytes in, answer bytes out. */
static void
nr_answer(const char *name, const struct nym_socks5_nr_state *st, const char *req, const char *want)
{
	size_t n, wn;
	uint8_t *r = t_hex(req, &n), *w = t_hex(want, &wn), out[512];
	struct nym_socks5_msg q, a;
	char buf[512];
	int len = -1;
	if (nym_socks5_req_decode(&q, r, n) == 0 && nym_socks5_nr_answer(&a, &q, st, buf, sizeof buf) == 0)
		len = nym_socks5_resp_encode(out, sizeof out, &a);
	CHECK(len == (int)wn && !memcmp(out, w, wn), "answer to %s", name);
	free(r);
	free(w);
}

static void
answers(void)
{
	uint8_t *pol = t_hex("0101" "00" "012a" "01" "fbffff", NULL);
	struct nym_socks5_nr_state st = { .open_proxy = 0, .info = "{}", .upstream = "", .policy = pol, .policy_len = 9 };
	nr_answer("Query OpenProxy (closed)", &st, "0301030200", "030103030000");
	st.open_proxy = 1;
	nr_answer("Query OpenProxy (open)", &st, "0301030200", "030103030001");
	nr_answer("Query Description", &st, "0301030201",
	          "0301030301194465736372697074696f6e2028706c616365686f6c64657229");
	nr_answer("Query ExitPolicy", &st, "0301030202", "03010303020100010100012a01fbffff");
	nr_answer("a legacy Query: socks5 3 in a legacy envelope", &st, "000200", "03030001");
	nr_answer("Query at interface 5: echoed", &st, "0501030200", "050103030001");
	nr_answer("Health", &st, "030000", "030000");
	nr_answer("Health with trailing bytes", &st, "030000ffff", "030000");
	nr_answer("BinaryInfo", &st, "030001", "030001" "7b7d");
	{
		struct nym_socks5_msg q, a;
		char buf[512];
		CHECK(nym_socks5_req_decode(&q, (const uint8_t *)"\x03\x00\x02", 3) == 0 &&
		      nym_socks5_nr_answer(&a, &q, &st, buf, sizeof buf) == 0 && a.data_len > 20 &&
		      !memcmp(a.data, "{\"interface_version\":", 20), "SupportedRequestVersions answer");
		CHECK(nym_socks5_req_decode(&q, (const uint8_t *)"\x03\x01\x03\x01" "12345678" "\0" "\0\0\0\0\0\0\0\0", 21) == 0 &&
		      nym_socks5_nr_answer(&a, &q, &st, buf, sizeof buf) == NYM_EINVAL, "a Send is no control or query");
	}
	free(pol);
}

int
main(void)
{
	targets();
	answers();
	repo_vectors();
	mixfetch_vectors();
	derived_vectors();
	edges();
	return t_done();
}
