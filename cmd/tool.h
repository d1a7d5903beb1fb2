/* tool.h — what every nymkit tool shares: its name in messages, exit codes,
 * where the Nym directories are, reading all of an input (whole writes are
 * lib/io/fileio.h's nym_write_full). Policy lives here, in cmd/; lib/ never prints or exits. */
#ifndef NYM_TOOL_H
#define NYM_TOOL_H

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "io/fileio.h" /* nym_write_full: whole writes to stdout */
#include "io/gwclient.h" /* nym_loop_new: tool_loop_new */
#include "io/keyfile.h" /* nym_node_dir */

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static const char *tool_name = "nym";

/* Name the tool; argv[0] too, so that getopt's own complaints
 * ("nym-foo: unrecognized option ...") carry the same prefix as ours. */
static void tool_init(const char *name, char **argv) __attribute__((unused));
static void
tool_init(const char *name, char **argv)
{
	tool_name = name;
	argv[0] = (char *)name;
}

/* After getopt has said what was wrong: the hint, exit 2. */
static void tool_try_help(void) __attribute__((noreturn, unused));
static void
tool_try_help(void)
{
	fprintf(stderr, "Try '%s --help'.\n", tool_name);
	exit(EXIT_USAGE);
}

/* "nym-foo: message" on stderr, without the line end. */
static void tool_vmsg(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0), unused));
static void
tool_vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", tool_name);
	vfprintf(stderr, fmt, ap);
}

/* "nym-foo: message" on stderr. */
static void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void
warnx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tool_vmsg(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Print the message and exit 1. */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn, unused));
static void
die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tool_vmsg(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAIL);
}

/* A usage error: the message, a hint, exit 2. */
static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn, unused));
static void
usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tool_vmsg(fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", tool_name);
	exit(EXIT_USAGE);
}

static void print_version(void) __attribute__((unused));
static void
print_version(void)
{
	printf("%s (nymkit) %s\n", tool_name, NYM_VERSION);
	exit(EXIT_OK);
}

/* Read all of f into a malloc'd buffer (NUL-terminated for text use).
 * Returns NULL with errno set on failure; max bounds what is accepted. */
static uint8_t *read_all(FILE *f, size_t *len, size_t max) __attribute__((unused));
static uint8_t *
read_all(FILE *f, size_t *len, size_t max)
{
	size_t cap = 65536, n = 0;
	uint8_t *b = malloc(cap + 1), *nb;

	if (!b)
		return NULL;
	for (;;) {
		size_t r = fread(b + n, 1, cap - n, f);
		n += r;
		if (r == 0) {
			if (ferror(f)) {
				free(b);
				return NULL;
			}
			break;
		}
		if (n > max) {
			free(b);
			errno = EFBIG;
			return NULL;
		}
		if (n == cap) {
			cap *= 2;
			if (!(nb = realloc(b, cap + 1))) {
				free(b);
				return NULL;
			}
			b = nb;
		}
	}
	b[n] = 0;
	*len = n;
	return b;
}

/* Where the Nym directories live, as the official programs resolve it:
 * $NYM_HOME_DIR, else $HOME; NULL when neither is set (or both are empty). */
static const char *tool_home(void) __attribute__((unused));
static const char *
tool_home(void)
{
	const char *h = getenv("NYM_HOME_DIR");
	if (h && *h)
		return h;
	h = getenv("HOME");
	return h && *h ? h : NULL;
}

/* A node's data directory under the Nym home (tool_home()), as nym-node keeps
 * it: <home>/.nym/nym-nodes/<id>/data; id NULL: $NYMNODE_ID, else
 * "default-nym-node". No home, or a name that is no directory name, ends the
 * tool (nym-mixnode, nym-gateway). */
static void tool_node_dir(char *out, size_t cap, const char *id) __attribute__((unused));
static void
tool_node_dir(char *out, size_t cap, const char *id)
{
	const char *home = tool_home();
	if (!home)
		die("neither NYM_HOME_DIR nor HOME is set (use --keys)");
	if (!id) {
		id = getenv("NYMNODE_ID");
		if (!id || !*id)
			id = "default-nym-node";
	}
	if (nym_node_dir(out, cap, home, id) < 0)
		usage_error("--id: '%s' is not a usable name", id);
}

/* SIGINT and SIGTERM call on_stop (which sets a flag the tool's loop
 * checks); SIGPIPE is ignored so a closed peer is an error return. */
static void tool_signals(void (*on_stop)(int)) __attribute__((unused));
static void
tool_signals(void (*on_stop)(int))
{
	struct sigaction sa = {.sa_handler = on_stop};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The one number parser of every tool's float options and variables: what
 * (an option, or an environment variable) must be a finite decimal number
 * of unit in [min, max] (min itself excluded when min_open). nan, inf,
 * hex, blanks, trailing text and values out of range exit 2 with one line. */
static double tool_number(const char *what, const char *arg, double min, int min_open, double max,
                          const char *unit) __attribute__((unused));
static double
tool_number(const char *what, const char *arg, double min, int min_open, double max, const char *unit)
{
	char *end;
	double v = 0;
	int ok = 0;
	/* strtod would take " 1", "nan", "inf", "0x1p4": only [-+]digits[.digits][e..] */
	if (arg && (arg[0] == '-' || arg[0] == '+' || arg[0] == '.' || (arg[0] >= '0' && arg[0] <= '9')) &&
	    !strpbrk(arg, "xXnNiI")) {
		errno = 0;
		v = strtod(arg, &end);
		ok = end != arg && !*end && errno != ERANGE && isfinite(v) &&
		     (min_open ? v > min : v >= min) && v <= max;
	}
	if (!ok) {
		fprintf(stderr, "%s: %s wants a number of %s %s %g and at most %g, not '%s'\n", tool_name,
		    what, unit, min_open ? "above" : "from", min, max, arg ? arg : "");
		exit(EXIT_USAGE);
	}
	return v;
}

/* Largest value of a positive option: a billion seconds, ms or packets a
 * second is past any use, and still converts to integer time safely. */
#define TOOL_NUMBER_MAX 1e9

/* The value of option opt: a positive number (of unit), else a usage error. */
static double tool_positive(const char *opt, const char *arg, const char *unit) __attribute__((unused));
static double
tool_positive(const char *opt, const char *arg, const char *unit)
{
	return tool_number(opt, arg, 0, 1, TOOL_NUMBER_MAX, unit);
}

/* The client tools need a network: a file or a nym-api (options or env). */
static void tool_need_network(const char *topology, const char *api) __attribute__((unused));
static void
tool_need_network(const char *topology, const char *api)
{
	if (!topology && !api)
		usage_error("no network: give --topology FILE or --api URL (or set NYM_TOPOLOGY / NYM_API)");
}

/* nym-localnet --delay-mean reaches the client tools as NYM_DELAY_MEAN_MS:
 * the mean per-hop delay of packets and of acks; unset, they stay. */
static void tool_delay_mean(double *packet_ms, double *ack_ms) __attribute__((unused));
static void
tool_delay_mean(double *packet_ms, double *ack_ms)
{
	const char *dm = getenv("NYM_DELAY_MEAN_MS");
	if (dm && *dm)
		*packet_ms = *ack_ms = tool_number("NYM_DELAY_MEAN_MS", dm, 0, 0, TOOL_NUMBER_MAX,
		                                   "milliseconds");
}

/* libwebsockets' log lines, when NYM_LWS_DEBUG asks for them. */
static void tool_lws_emit(int level, const char *line) __attribute__((unused));
static void
tool_lws_emit(int level, const char *line)
{
	(void)level;
	fputs(line, stderr);
}

/* The event loop: wss:// verified against NYM_CA_FILE (default: the system
 * bundle); NYM_LWS_DEBUG set = libwebsockets' log on standard error. */
static int tool_loop_new(struct nym_loop **loop) __attribute__((unused));
static int
tool_loop_new(struct nym_loop **loop)
{
	struct nym_loop_opts o = { .ca_file = getenv("NYM_CA_FILE") };
	if (getenv("NYM_LWS_DEBUG")) {
		o.lws_log = NYM_LOOP_LOG_ERR | NYM_LOOP_LOG_WARN | NYM_LOOP_LOG_NOTICE | NYM_LOOP_LOG_INFO;
		o.lws_emit = tool_lws_emit;
	}
	return nym_loop_new(loop, &o);
}

#endif
