/* client.h — what the client tools (nym-send, nym-recv, nym-cover) share
 * when they hold an identity's gateway connection through lib/mixclient:
 * event handlers, and the way they stop without losing a message. */
#ifndef NYM_CLIENT_TOOL_H
#define NYM_CLIENT_TOOL_H

#include "base/clock.h"
#include "io/held.h"
#include "io/mixclient.h"
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

#endif
