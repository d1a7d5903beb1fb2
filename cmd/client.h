/* client.h — what the client tools (nym-send, nym-recv, nym-cover,
 * nym-client) share when they hold an identity's gateway connection through
 * lib/mixclient: event handlers, the way they stop without losing a message,
 * and the serving of websocket-API requests (proto/wsapi.h) that nym-recv's
 * and nym-client's control sockets and nym-client's application socket have
 * in common. */
#ifndef NYM_CLIENT_TOOL_H
#define NYM_CLIENT_TOOL_H

#include "base/clock.h"
#include "io/gwclient.h"
#include "io/held.h"
#include "io/mixclient.h"
#include "proto/keys.h"
#include "proto/wsapi.h"
#include "tool.h"

/* Event handlers the client tools share (lib/io/mixclient.h); the events' arg
 * points at a struct tool_client. */
struct tool_client {
	const char *dir;  /* the client directory */
	const int *quiet; /* the tool's --quiet */
};

static void tool_client_warning(struct nym_mixclient *mc, const char *why, void *arg)
	__attribute__((unused));
static void
tool_client_warning(struct nym_mixclient *mc, const char *why, void *arg)
{
	const struct tool_client *tc = arg;
	(void)mc;
	if (!*tc->quiet)
		warnx("%s", why);
}

/* A message for this identity that reached a tool holding its own gateway
 * connection (nym-send, nym-cover): the gateway has forgotten it, so it is
 * kept in <client dir>/held for the next nym-recv, never dropped. */
static void tool_client_keep(struct nym_mixclient *mc, const uint8_t *data, size_t len,
    const uint8_t *tag, void *arg) __attribute__((unused));
static void
tool_client_keep(struct nym_mixclient *mc, const uint8_t *data, size_t len, const uint8_t *tag,
    void *arg)
{
	const struct tool_client *tc = arg;
	char path[4200];
	(void)mc;
	snprintf(path, sizeof path, "%s/held", tc->dir);
	if (nym_held_append(path, data, len, tag) < 0)
		warnx("a message for this identity (%zu bytes) could not be kept in %s: %s; it is lost",
		    len, path, strerror(errno));
	else if (!*tc->quiet)
		warnx("a message for this identity arrived (%zu bytes); kept for nym-recv", len);
}

/* nym_mixclient_setup, or die with its reason and, for an identity that has
 * no keys yet, how to make them. */
static void tool_client_setup(struct nym_mixclient_setup *su, const char *home, const char *id,
    const char *topo, const char *api, const struct nym_rng *rng) __attribute__((unused));
static void
tool_client_setup(struct nym_mixclient_setup *su, const char *home, const char *id,
    const char *topo, const char *api, const struct nym_rng *rng)
{
	char err[600];
	int e = nym_mixclient_setup(su, home, id, topo, api, rng, err, sizeof err);
	if (e == NYM_ENOTFOUND)
		die("%s; create it with: nym-keygen --id %s", err, id);
	if (e < 0)
		die("%s", err);
}

/* The same within a tool's --timeout (seconds from t0_ms, nym_mono_ms; 0:
 * no limit beyond the per-request ones): fetching the network is part of it. */
static void tool_client_setup_until(struct nym_mixclient_setup *su, const char *home,
    const char *id, const char *topo, const char *api, double timeout, uint64_t t0_ms,
    const struct nym_rng *rng) __attribute__((unused));
static void
tool_client_setup_until(struct nym_mixclient_setup *su, const char *home, const char *id,
    const char *topo, const char *api, double timeout, uint64_t t0_ms, const struct nym_rng *rng)
{
	char err[600];
	uint64_t deadline = timeout > 0 ? t0_ms + (uint64_t)(timeout * 1000) : 0;
	int e = nym_mixclient_setup_until(su, home, id, topo, api, deadline, rng, err, sizeof err);
	if (e == NYM_ENOTFOUND)
		die("%s; create it with: nym-keygen --id %s", err, id);
	if (e == NYM_ETIMEOUT)
		die("timed out after %g s: %s", timeout, err);
	if (e < 0)
		die("%s", err);
}

/* The identity's one reader (nym-recv, nym-client) keeps the fragments of
 * messages not yet whole in <client dir>/fragments, so that a restart
 * completes them; NYM_FRAGMENT_LIFETIME (seconds, default 86400) is how long
 * an incomplete message waits for its next fragment before it is reported
 * lost. path: a buffer that outlives the client. */
static void tool_client_fragments(struct nym_mixclient_config *c, const char *dir, char *path,
    size_t cap) __attribute__((unused));
static void
tool_client_fragments(struct nym_mixclient_config *c, const char *dir, char *path, size_t cap)
{
	const char *lt = getenv("NYM_FRAGMENT_LIFETIME");
	snprintf(path, cap, "%s/fragments", dir);
	c->fragments_path = path;
	if (lt && *lt)
		c->fragment_lifetime_ms = (uint64_t)(tool_number("NYM_FRAGMENT_LIFETIME", lt, 0, 1,
		                                     86400.0 * 365, "seconds") * 1000);
}

/* Stop: let the message packets already on their way in arrive (printed or
 * kept; the gateway has forgotten them once pushed) for as long as they keep
 * coming, at most a second; close; give queued packets half a second to
 * leave; free. */
static void tool_client_stop(struct nym_loop *loop, struct nym_mixclient *mc)
	__attribute__((unused));
static void
tool_client_stop(struct nym_loop *loop, struct nym_mixclient *mc)
{
	uint64_t t0 = nym_mono_ms();
	while (nym_mono_ms() - t0 < 1000 && nym_mixclient_quiet_ms(mc) < 100)
		nym_loop_run(loop, 20);
	nym_mixclient_close(mc);
	t0 = nym_mono_ms();
	while (nym_mixclient_backlog(mc) && nym_mono_ms() - t0 < 500)
		nym_loop_run(loop, 50);
	nym_loop_run(loop, 10);
	nym_mixclient_free(mc);
}

/* ---- serving websocket-API requests ------------------------------------------ */

/* Recipient bytes are usable only when both Ed25519 keys are points: the
 * text parser checks that, so go through it. */
static int tool_api_recipient(struct nym_address *a, const uint8_t b[96], char *why, size_t cap)
	__attribute__((unused));
static int
tool_api_recipient(struct nym_address *a, const uint8_t b[96], char *why, size_t cap)
{
	char s[NYM_ADDRESS_MAX];
	memcpy(a->identity, b, 32);
	memcpy(a->encryption, b + 32, 32);
	memcpy(a->gateway, b + 64, 32);
	if (nym_address_format(s, sizeof s, a) < 0)
		return NYM_EADDR;
	return nym_address_parse(a, s, why, cap);
}

/* Queue a response as a text (JSON) or binary frame; tag != 0 comes back
 * through the handler's sent(). 0, or negative when it could not be queued. */
static int tool_api_respond(struct nym_ws *ws, int text, const struct nym_wsapi_resp *p,
    uint64_t tag) __attribute__((unused));
static int
tool_api_respond(struct nym_ws *ws, int text, const struct nym_wsapi_resp *p, uint64_t tag)
{
	int e = NYM_ENOMEM;
	if (text) {
		char *s;
		size_t n;
		if ((e = nym_wsapi_text_resp_encode(&s, &n, p)) == 0) {
			e = nym_ws_send_tagged(ws, 0, (const uint8_t *)s, n, tag);
			free(s);
		}
		return e;
	}
	size_t n = nym_wsapi_resp_len(p);
	uint8_t *b = malloc(n);
	if (!b)
		return e;
	if ((e = nym_wsapi_resp_encode(b, n, p)) > 0)
		e = nym_ws_send_tagged(ws, 1, b, n, tag);
	free(b);
	return e < 0 ? e : 0;
}

/* An Error response: "<kind text>:<detail>", as the official client words it. */
static void tool_api_error(struct nym_ws *ws, int text, uint8_t kind, const char *detail)
	__attribute__((unused));
static void
tool_api_error(struct nym_ws *ws, int text, uint8_t kind, const char *detail)
{
	struct nym_wsapi_resp p = {.tag = NYM_WSAPI_RESP_ERROR, .error_kind = kind};
	char msg[700];
	snprintf(msg, sizeof msg, "%s:%s", nym_wsapi_err_text(kind), detail);
	p.data = (const uint8_t *)msg;
	p.data_len = strlen(msg);
	tool_api_respond(ws, text, &p, 0);
}

/* Carry out one decoded request on mc. Returns 1 with *out the response
 * to send (SelfAddress; LaneQueueLength after a send or reply when
 * lane_reply, or when asked; LoopSent), 0 when none is due, or -1 with
 * *kind and why for an Error response. loops = 0: the nymkit Loop request
 * is unknown (as to the official server). */
static int tool_api_serve(struct nym_mixclient *mc, const struct nym_wsapi_req *r,
    int lane_reply, int loops, struct nym_wsapi_resp *out, uint8_t *kind, char *why, size_t cap)
	__attribute__((unused));
static int
tool_api_serve(struct nym_mixclient *mc, const struct nym_wsapi_req *r, int lane_reply,
    int loops, struct nym_wsapi_resp *out, uint8_t *kind, char *why, size_t cap)
{
	struct nym_address to;
	int e;
	memset(out, 0, sizeof *out);
	*kind = NYM_WSAPI_ERR_OTHER;
	switch (r->tag) {
	case NYM_WSAPI_REQ_SELF_ADDRESS: {
		struct nym_address a;
		nym_mixclient_address(mc, &a);
		out->tag = NYM_WSAPI_RESP_SELF_ADDRESS;
		memcpy(out->recipient, a.identity, 32);
		memcpy(out->recipient + 32, a.encryption, 32);
		memcpy(out->recipient + 64, a.gateway, 32);
		return 1;
	}
	case NYM_WSAPI_REQ_SEND:
	case NYM_WSAPI_REQ_SEND_ANONYMOUS:
		if (tool_api_recipient(&to, r->recipient, why, cap) < 0) {
			*kind = NYM_WSAPI_ERR_MALFORMED_REQUEST;
			return -1;
		}
		e = nym_mixclient_send(mc, &to, r->data, r->data_len,
		    r->tag == NYM_WSAPI_REQ_SEND ? -1 : (int)(r->reply_surbs > 1000 ? 1000 : r->reply_surbs),
		    r->connection_id, NULL);
		if (e < 0) {
			snprintf(why, cap, "%s", e == NYM_EROUTE ?
			    "the recipient's gateway is not in the topology" : nym_strerror(e));
			return -1;
		}
		break;
	case NYM_WSAPI_REQ_REPLY:
		e = nym_mixclient_reply(mc, r->sender_tag, r->data, r->data_len, r->connection_id, NULL);
		if (e < 0) {
			snprintf(why, cap, "%s", e == NYM_ENOTFOUND ?
			    "no reply SURBs for this sender tag" : e == NYM_EFULL ?
			    "not enough reply SURBs for this message" : nym_strerror(e));
			return -1;
		}
		break;
	case NYM_WSAPI_REQ_CLOSED_CONNECTION:
		nym_mixclient_forget_lane(mc, r->connection_id);
		return 0;
	case NYM_WSAPI_REQ_LANE_QUEUE_LENGTH:
		lane_reply = 1;
		break;
	case NYM_WSAPI_REQ_NYMKIT_LOOP:
		if (!loops) {
			*kind = NYM_WSAPI_ERR_UNKNOWN_REQUEST;
			snprintf(why, cap, "unknown request tag");
			return -1;
		}
		if ((e = nym_mixclient_send_loop(mc, &out->loop_id)) < 0) {
			snprintf(why, cap, "%s", e == NYM_ENET ? "not connected to the gateway" :
			    nym_strerror(e));
			return -1;
		}
		out->tag = NYM_WSAPI_RESP_NYMKIT_LOOP_SENT;
		return 1;
	default:
		*kind = NYM_WSAPI_ERR_UNKNOWN_REQUEST;
		snprintf(why, cap, "unknown request tag");
		return -1;
	}
	if (!lane_reply)
		return 0;
	out->tag = NYM_WSAPI_RESP_LANE_QUEUE_LENGTH;
	out->lane = r->connection_id;
	out->queue_length = nym_mixclient_unacked(mc, r->connection_id);
	return 1;
}

/* Loop cover packets sent for control-socket clients (nym-cover), until
 * they come back: the newest TOOL_LOOPS_MAX, each with who asked. */
#define TOOL_LOOPS_MAX 4096
struct tool_loops {
	struct {
		uint64_t id;
		void *owner;
	} v[TOOL_LOOPS_MAX];
	size_t next;
};

static void tool_loops_add(struct tool_loops *l, uint64_t id, void *owner) __attribute__((unused));
static void
tool_loops_add(struct tool_loops *l, uint64_t id, void *owner)
{
	l->v[l->next % TOOL_LOOPS_MAX].id = id;
	l->v[l->next++ % TOOL_LOOPS_MAX].owner = owner;
}

/* The owner went away: its loops are no one's. */
static void tool_loops_forget(struct tool_loops *l, void *owner) __attribute__((unused));
static void
tool_loops_forget(struct tool_loops *l, void *owner)
{
	for (size_t i = 0; i < TOOL_LOOPS_MAX; i++)
		if (l->v[i].owner == owner)
			l->v[i].owner = NULL;
}

/* Who asked for loop id (and forget it), or NULL. */
static void *tool_loops_take(struct tool_loops *l, uint64_t id) __attribute__((unused));
static void *
tool_loops_take(struct tool_loops *l, uint64_t id)
{
	for (size_t i = 0; i < TOOL_LOOPS_MAX; i++)
		if (l->v[i].id == id && l->v[i].owner) {
			void *o = l->v[i].owner;
			l->v[i].owner = NULL;
			return o;
		}
	return NULL;
}

#endif
