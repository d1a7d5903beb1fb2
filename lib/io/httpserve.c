/* httpserve.c — the server on libmicrohttpd: our own bound socket (so a bind
 * failure reads as its errno), MHD driven from nym_httpserve_run's thread by
 * MHD_run_wait (epoll, no threads of its own), each request answered on the
 * access handler's first call. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/err.h"
#include "io/httpserve.h"

#define MAX_CONN 512
#define HEAD_MAX 8192         /* request head limit (431 above) */
/* MHD's per-connection pool: the read buffer plus the parsed head must fit,
 * so heads well past HEAD_MAX reach us to be answered 431; a head too big
 * even for this gets MHD's own 414 (request line) or 431 (fields). */
#define POOL_SIZE (32 * 1024)
#define IDLE_S 10             /* a client silent this long is dropped */
#define JSON "application/json"

#define FAIL(code, ...) nym_err_set(err, errlen, code, __VA_ARGS__)

struct nym_httpserve {
	struct MHD_Daemon *d;
	uint16_t port;
	nym_httpserve_handler h;
	void *arg;
};

/* A request's context from its request line until it completes. */
struct req {
	int checked;  /* head checked: answer once the request is complete */
	char target[]; /* exactly as sent (MHD hands it over before splitting off the query) */
};

static void *
keep_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	size_t l = strlen(uri) + 1;
	struct req *r = malloc(sizeof *r + l);

	(void)cls;
	(void)c;
	if (r) {
		r->checked = 0;
		memcpy(r->target, uri, l);
	}
	return r;
}

static void
completed(void *cls, struct MHD_Connection *c, void **ctx, enum MHD_RequestTerminationCode tc)
{
	(void)cls;
	(void)c;
	(void)tc;
	free(*ctx);
	*ctx = NULL;
}

/* Paths and queries go to the handler as sent, not %-decoded. */
static size_t
no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static enum MHD_Result
add_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	*(size_t *)cls += strlen(key) + 2 + (value ? strlen(value) : 0) + 2;
	return MHD_YES;
}

static enum MHD_Result
respond(struct MHD_Connection *c, int status, const char *type, char *body, int close_after)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO; /* MHD drops the connection */
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (close_after)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The server's own answers, closing the connection after them. */
static enum MHD_Result
refuse(struct MHD_Connection *c, int status, const char *msg)
{
	char *body = strdup(msg);
	return body ? respond(c, status, JSON, body, 1) : MHD_NO;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
           const char *version, const char *upload, size_t *upload_len, void **ctx)
{
	struct nym_httpserve *s = cls;
	struct req *r = *ctx;
	const char *type = JSON, *cl;
	char *target, *q, *body = NULL;
	size_t head;
	int status = 0;

	(void)url;
	(void)upload;
	if (*upload_len) { /* a body MHD read anyway after our 413: ignored */
		*upload_len = 0;
		return MHD_YES;
	}
	if (!r)
		return refuse(c, 500, "{\"message\":\"out of memory\"}");
	target = r->target;
	if (!r->checked) {
		/* the head as it came: request line, fields, empty line */
		head = strlen(method) + 1 + strlen(target) + 1 + strlen(version) + 2 + 2;
		MHD_get_connection_values(c, MHD_HEADER_KIND, add_field, &head);
		if (head > HEAD_MAX)
			return refuse(c, 431, "{\"message\":\"request head too large\"}");
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if ((cl && strtol(cl, NULL, 10) != 0) ||
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
			return refuse(c, 413, "{\"message\":\"no request body accepted\"}");
		/* MHD keeps the connection only for an answer queued after the whole
		 * request: that is its next call */
		r->checked = 1;
		return MHD_YES;
	}
	q = strchr(target, '?');
	if (q)
		*q++ = 0;
	s->h(s->arg, method, target, q, &status, &type, &body);
	if (!body)
		return refuse(c, 500, "{\"message\":\"out of memory\"}");
	return respond(c, status, type, body, 0);
}

int
nym_httpserve_open(struct nym_httpserve **out, const char *ip, uint16_t port,
                   char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct nym_httpserve *s;
	socklen_t sl;
	int fd, one = 1, v6 = strchr(ip, ':') != NULL;

	*out = NULL;
	memset(&ss, 0, sizeof ss);
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		if (inet_pton(AF_INET6, ip, &a->sin6_addr) != 1)
			return FAIL(NYM_EADDR, "'%s' is not an IP address", ip);
		sl = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		if (inet_pton(AF_INET, ip, &a->sin_addr) != 1)
			return FAIL(NYM_EADDR, "'%s' is not an IP address", ip);
		sl = sizeof *a;
	}
	if (!(s = calloc(1, sizeof *s)))
		return FAIL(NYM_ENOMEM, "out of memory");
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		FAIL(NYM_EIO, "socket: %s", strerror(errno));
		free(s);
		return NYM_EIO;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		FAIL(NYM_EIO, "%s", strerror(errno));
		goto fail;
	}
	sl = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	s->port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
			   : ((struct sockaddr_in *)&ss)->sin_port);
	/* no MHD_USE_ERROR_LOG: the library prints nothing */
	s->d = MHD_start_daemon(MHD_USE_EPOLL | (v6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
				on_request, s,
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONN,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)POOL_SIZE,
				MHD_OPTION_URI_LOG_CALLBACK, keep_uri, (void *)NULL,
				MHD_OPTION_NOTIFY_COMPLETED, completed, (void *)NULL,
				MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, (void *)NULL,
				MHD_OPTION_END);
	if (!s->d) {
		FAIL(NYM_EIO, "libmicrohttpd would not start");
		goto fail;
	}
	*out = s;
	return 0;
fail:
	close(fd);
	free(s);
	return NYM_EIO;
}

uint16_t
nym_httpserve_port(const struct nym_httpserve *s)
{
	return s->port;
}

int
nym_httpserve_run(struct nym_httpserve *s, nym_httpserve_handler h, void *arg,
                  const volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	s->h = h;
	s->arg = arg;
	/* a signal ends the wait early (EINTR); otherwise at most 1 s */
	while (!*stop)
		if (MHD_run_wait(s->d, 1000) != MHD_YES)
			return FAIL(NYM_EIO, "libmicrohttpd: polling failed");
	return 0;
}

void
nym_httpserve_close(struct nym_httpserve *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d); /* closes the listening socket too */
	free(s);
}
