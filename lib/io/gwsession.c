/* gwsession.c — the gateway session of gwsession.h: proto/gwsess (every
 * protocol step) driven over a nym_ws, with the wall clock, the shared-key
 * file and reconnection with back-off. Its own file so that a program using
 * only the transport does not pull in the protocol. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "io/gwclient.h"
#include "io/gwsession.h"
#include "io/keyfile.h"
#include "proto/gwproto.h"
#include "proto/gwsess.h"

/* ---- gateway session: the I/O shell over proto/gwsess ------------------- */

struct nym_gw {
	struct nym_loop *loop;
	struct nym_ws *ws;
	struct nym_timer *retry;
	struct nym_gw_events ev;
	struct nym_gwsess *s; /* every protocol decision */
	uint8_t gateway[32];
	char url[300], keypath[4200], dir[4096];
	int dead, stopping;
	int max_retries, failures;
	uint64_t (*clock)(void *arg);
	void *clock_arg;
};

static void gw_connect(struct nym_gw *gw);

static uint64_t
gw_now(const struct nym_gw *gw)
{
	return gw->clock ? gw->clock(gw->clock_arg) : (uint64_t)time(NULL);
}

static int
gs_send(void *arg, int binary, const uint8_t *data, size_t len)
{
	struct nym_gw *gw = arg;
	return gw->ws ? nym_ws_send(gw->ws, binary, data, len) : NYM_ENET;
}

static void
gs_ready(void *arg, int registered)
{
	struct nym_gw *gw = arg;
	gw->failures = 0;
	if (gw->ev.ready)
		gw->ev.ready(gw, registered, gw->ev.arg);
}

static void
gs_pushed(void *arg, const uint8_t *pt, size_t len)
{
	struct nym_gw *gw = arg;
	if (gw->ev.pushed)
		gw->ev.pushed(gw, pt, len, gw->ev.arg);
}

/* Store the new shared key, then the gateway identity (that order: an
 * address never names a gateway we hold no key for). */
static void
gs_registered(void *arg, const uint8_t key[NYM_GW_KEY_LEN])
{
	struct nym_gw *gw = arg;
	char why[4400];
	int e;
	if (!gw->dir[0])
		return;
	if ((e = nym_keyfile_write(gw->keypath, NYM_PEM_GATEWAY_SHARED_KEY, key, NYM_GW_KEY_LEN)) == 0)
		e = nym_client_gateway_save(gw->dir, gw->gateway);
	if (e < 0) {
		snprintf(why, sizeof why, "cannot store the gateway shared key in %s: %s", gw->dir,
		    e == NYM_EIO ? strerror(errno) : nym_strerror(e));
		nym_gwsess_fail(gw->s, e, why);
	}
}

static void
gs_warning(void *arg, const char *why)
{
	struct nym_gw *gw = arg;
	if (gw->ev.warning)
		gw->ev.warning(gw, why, gw->ev.arg);
}

/* The session failed in a way retrying will not fix. */
static void
gs_fatal(void *arg, int err, const char *why)
{
	struct nym_gw *gw = arg;
	struct nym_ws *ws = gw->ws;
	gw->dead = 1;
	gw->ws = NULL;
	if (ws) {
		nym_ws_close(ws);
		nym_ws_detach(ws); /* gw may be freed before it has closed */
	}
	nym_timer_cancel(gw->retry);
	if (gw->ev.down)
		gw->ev.down(gw, err, why, 1, gw->ev.arg);
}

static void
gw_ws_open(struct nym_ws *ws, void *arg)
{
	struct nym_gw *gw = arg;
	(void)ws;
	nym_gwsess_open(gw->s, gw_now(gw));
}

static void
gw_ws_message(struct nym_ws *ws, int binary, const uint8_t *data, size_t len, void *arg)
{
	struct nym_gw *gw = arg;
	(void)ws;
	nym_gwsess_frame(gw->s, binary, data, len, gw_now(gw));
}

static void
gw_ws_closed(struct nym_ws *ws, int err, const char *why, size_t unsent, void *arg)
{
	struct nym_gw *gw = arg;
	uint64_t delay;
	int hint;
	(void)unsent;
	if (!gw || gw->ws != ws)
		return;
	gw->ws = NULL;
	hint = nym_gwsess_closed(gw->s);
	if (gw->stopping || gw->dead)
		return;
	if (hint == NYM_GWSESS_RETRY_QUIET) {
		/* an expected close (auth timestamp collision): retry silently */
		nym_timer_set(gw->retry, 300000);
		return;
	}
	gw->failures++;
	if (gw->max_retries >= 0 && gw->failures > gw->max_retries) {
		char w[400];
		snprintf(w, sizeof w, "%s (%s), gave up after %d attempts", why ? why : "connection lost",
		    gw->url, gw->failures);
		gw->dead = 1;
		if (gw->ev.down)
			gw->ev.down(gw, err ? err : NYM_ENET, w, 1, gw->ev.arg);
		return;
	}
	/* backoff: 0.25 s, 0.5 s, 1 s ... capped at 30 s */
	delay = 250000ull << (gw->failures - 1 < 7 ? gw->failures - 1 : 7);
	if (delay > 30000000ull)
		delay = 30000000ull;
	if (hint == NYM_GWSESS_RETRY_NOW)
		delay = 0; /* the "not registered" answer: register right away */
	nym_timer_set(gw->retry, delay);
	if (gw->ev.down)
		gw->ev.down(gw, err ? err : NYM_ENET, why ? why : "connection lost", 0, gw->ev.arg);
}

static void
gw_retry(struct nym_timer *t, void *arg)
{
	(void)t;
	gw_connect(arg);
}

static void
gw_connect(struct nym_gw *gw)
{
	struct nym_ws_handler h = {.open = gw_ws_open, .message = gw_ws_message, .closed = gw_ws_closed, .arg = gw};
	if (nym_ws_connect(gw->loop, gw->url, &h, &gw->ws) < 0) {
		gw->ws = NULL;
		nym_gwsess_fail(gw->s, NYM_EINVAL, "unusable gateway URL");
	}
}

int
nym_gw_start(struct nym_gw **out, struct nym_loop *l, const struct nym_gw_params *p,
    const struct nym_gw_events *ev)
{
	struct nym_gwsess_ops ops = {gs_send, gs_ready, gs_pushed, gs_registered, gs_warning, gs_fatal, NULL};
	struct nym_gw *gw;
	uint8_t key[NYM_GW_KEY_LEN];
	int e, have_key = 0;

	if (!p->url || !p->keys || !p->rng || strlen(p->url) >= sizeof gw->url ||
	    (p->dir && strlen(p->dir) >= sizeof gw->dir))
		return NYM_EINVAL;
	if (!(gw = calloc(1, sizeof *gw)))
		return NYM_ENOMEM;
	gw->loop = l;
	gw->ev = *ev;
	memcpy(gw->gateway, p->gateway, 32);
	snprintf(gw->url, sizeof gw->url, "%s", p->url);
	gw->max_retries = p->max_retries ? p->max_retries : 10;
	gw->clock = p->clock;
	gw->clock_arg = p->clock_arg;
	if (p->dir) {
		snprintf(gw->dir, sizeof gw->dir, "%s", p->dir);
		snprintf(gw->keypath, sizeof gw->keypath, "%s/%s", p->dir, NYM_CLIENT_GATEWAY_SHARED_KEY);
		e = nym_keyfile_read_private(gw->keypath, NYM_PEM_GATEWAY_SHARED_KEY, key, sizeof key);
		if (e == 0) {
			/* a key registered with another gateway is no key for this one */
			uint8_t cur[32];
			have_key = nym_client_gateway_load(gw->dir, cur) == 0 && !memcmp(cur, gw->gateway, 32);
		} else if (!(e == NYM_EIO && errno == ENOENT)) {
			free(gw);
			return e;
		}
	}
	ops.ctx = gw;
	gw->s = nym_gwsess_new(p->keys, p->gateway, have_key ? key : NULL, p->rng, &ops);
	nym_wipe(key, sizeof key);
	if (!gw->s) {
		free(gw);
		return NYM_ENOMEM;
	}
	nym_gwsess_set_queue(gw->s, 1);
	if (!(gw->retry = nym_timer_new(l, gw_retry, gw))) {
		nym_gwsess_free(gw->s);
		free(gw);
		return NYM_ENOMEM;
	}
	gw_connect(gw);
	*out = gw;
	return 0;
}

int
nym_gw_forward(struct nym_gw *gw, const uint8_t *mp, size_t len)
{
	if (gw->dead)
		return NYM_ENET;
	nym_gwsess_tick(gw->s, gw_now(gw)); /* a new UTC day wants a new claim */
	return nym_gwsess_forward(gw->s, mp, len);
}

int
nym_gw_ready(const struct nym_gw *gw)
{
	return !gw->dead && nym_gwsess_state(gw->s) == NYM_GWSESS_READY;
}

size_t
nym_gw_backlog(const struct nym_gw *gw)
{
	return nym_gwsess_backlog(gw->s) + (gw->ws ? nym_ws_queued(gw->ws) : 0);
}

int
nym_gw_version(const struct nym_gw *gw)
{
	return nym_gwsess_version(gw->s);
}

void
nym_gw_close(struct nym_gw *gw)
{
	gw->stopping = 1;
	nym_timer_cancel(gw->retry);
	if (gw->ws)
		nym_ws_close(gw->ws);
}

void
nym_gw_free(struct nym_gw *gw)
{
	if (!gw)
		return;
	gw->stopping = 1;
	if (gw->ws) {
		/* detach: the websocket may still report later */
		nym_ws_close(gw->ws);
		nym_ws_detach(gw->ws);
	}
	nym_timer_free(gw->retry);
	nym_gwsess_free(gw->s); /* wipes the keys */
	free(gw);
}
