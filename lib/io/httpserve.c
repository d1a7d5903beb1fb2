/* httpserve.c — plain HTTP/1.1 over poll(): accept, read heads, hand each
 * complete one to the handler, write the answer, keep or close. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "io/httpserve.h"

#define MAX_CONN 512
#define REQ_MAX 8192          /* request head limit (431 above) */
#define IDLE_MS 10000         /* a client silent this long is dropped */
#define JSON "application/json"

#define FAIL(code, ...) nym_err_set(err, errlen, code, __VA_ARGS__)

struct conn {
	int fd;
	char in[REQ_MAX];
	size_t inlen;
	char *out;
	size_t outlen, outpos;
	int close_after;
	struct timespec last;
};

struct nym_httpserve {
	int lfd;
	uint16_t port;
	struct conn *conns;
	struct pollfd *pfd;
	size_t nconn;
};

static long
ms_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	default: return "Unknown";
	}
}

static void
respond(struct conn *c, int status, const char *type, const char *body, int head_only)
{
	size_t bl = strlen(body), cap = bl + 512;
	char *out = malloc(cap);
	int n;

	if (!out) {
		c->close_after = 1;
		return;
	}
	n = snprintf(out, cap,
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "Access-Control-Allow-Origin: *\r\nCache-Control: no-store\r\nConnection: %s\r\n\r\n",
		     status, reason(status), type, bl, c->close_after ? "close" : "keep-alive");
	if (!head_only) {
		memcpy(out + n, body, bl);
		n += (int)bl;
	}
	free(c->out);
	c->out = out;
	c->outlen = (size_t)n;
	c->outpos = 0;
}

/* Handle one complete request head in c->in[0..headlen). */
static void
handle(struct conn *c, size_t headlen, nym_httpserve_handler h, void *arg)
{
	char method[16], target[2048], version[16];
	const char *p;
	char *query, *body = NULL;
	const char *type = JSON;
	int status = 0;

	c->in[headlen - 1] = 0;
	if (sscanf(c->in, "%15s %2047s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7)) {
		c->close_after = 1;
		respond(c, 400, JSON, "{\"message\":\"bad request\"}", 0);
		return;
	}
	/* connection persistence (HTTP/1.0: close unless asked; 1.1: keep unless asked) */
	for (p = strchr(c->in, '\n'); p; p = strchr(p + 1, '\n')) {
		if (!strncasecmp(p + 1, "connection:", 11)) {
			const char *v = p + 12;
			while (*v == ' ' || *v == '\t')
				v++;
			if (!strncasecmp(v, "close", 5))
				c->close_after = 1;
		}
		if (!strncasecmp(p + 1, "content-length:", 15) && strtol(p + 16, NULL, 10) != 0) {
			c->close_after = 1; /* we take no request bodies */
			respond(c, 413, JSON, "{\"message\":\"no request body accepted\"}", 0);
			return;
		}
	}
	if (!strcmp(version, "HTTP/1.0"))
		c->close_after = 1;
	query = strchr(target, '?');
	if (query)
		*query++ = 0;
	h(arg, method, target, query, &status, &type, &body);
	if (!body)
		respond(c, 500, JSON, "{\"message\":\"out of memory\"}", !strcmp(method, "HEAD"));
	else
		respond(c, status, type, body, !strcmp(method, "HEAD"));
	free(body);
}

int
nym_httpserve_open(struct nym_httpserve **out, const char *ip, uint16_t port,
                   char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct nym_httpserve *s;
	socklen_t sl;
	int one = 1;

	*out = NULL;
	memset(&ss, 0, sizeof ss);
	if (strchr(ip, ':')) {
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
	if (!(s = calloc(1, sizeof *s)) || !(s->conns = calloc(MAX_CONN, sizeof *s->conns)) ||
	    !(s->pfd = calloc(MAX_CONN + 1, sizeof *s->pfd))) {
		if (s)
			free(s->conns);
		free(s);
		return FAIL(NYM_ENOMEM, "out of memory");
	}
	if ((s->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		FAIL(NYM_EIO, "socket: %s", strerror(errno));
		goto fail;
	}
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(s->lfd, (struct sockaddr *)&ss, sl) < 0 || listen(s->lfd, 128) < 0) {
		FAIL(NYM_EIO, "%s", strerror(errno));
		goto fail;
	}
	sl = sizeof ss;
	getsockname(s->lfd, (struct sockaddr *)&ss, &sl);
	s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						 : ((struct sockaddr_in *)&ss)->sin_port);
	*out = s;
	return 0;
fail:
	if (s->lfd >= 0)
		close(s->lfd);
	free(s->conns);
	free(s->pfd);
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
	struct conn *conns = s->conns;
	struct pollfd *pfd = s->pfd;

	while (!*stop) {
		size_t n = 0;

		pfd[n].fd = s->lfd;
		pfd[n].events = s->nconn < MAX_CONN ? POLLIN : 0;
		n++;
		for (size_t i = 0; i < s->nconn; i++, n++) {
			pfd[n].fd = conns[i].fd;
			pfd[n].events = conns[i].out ? POLLOUT : POLLIN;
			pfd[n].revents = 0;
		}
		if (poll(pfd, n, 1000) < 0) {
			if (errno == EINTR)
				continue;
			return FAIL(NYM_EIO, "poll: %s", strerror(errno));
		}
		for (size_t i = 0; i < s->nconn; i++) {
			struct conn *c = &conns[i];
			short ev = pfd[i + 1].revents;
			int drop = 0;

			if (ev & (POLLERR | POLLNVAL)) {
				drop = 1;
			} else if (c->out && (ev & (POLLOUT | POLLHUP))) {
				ssize_t w = send(c->fd, c->out + c->outpos, c->outlen - c->outpos, MSG_NOSIGNAL);
				if (w < 0 && errno != EAGAIN && errno != EINTR) {
					drop = 1;
				} else if (w > 0) {
					c->outpos += (size_t)w;
					clock_gettime(CLOCK_MONOTONIC, &c->last);
					if (c->outpos == c->outlen) {
						free(c->out);
						c->out = NULL;
						if (c->close_after)
							drop = 1;
					}
				}
			} else if (!c->out && (ev & (POLLIN | POLLHUP))) {
				ssize_t r = read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
				if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
					drop = 1;
				} else if (r > 0) {
					c->inlen += (size_t)r;
					clock_gettime(CLOCK_MONOTONIC, &c->last);
				}
			}
			/* a complete head waiting (also pipelined ones after a response) */
			if (!drop && !c->out && c->inlen) {
				char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
				size_t hl = end ? (size_t)(end - c->in) + 4 : 0;
				if (!end && !memmem(c->in, c->inlen, "\n\n", 2)) {
					if (c->inlen == sizeof c->in) {
						c->close_after = 1;
						respond(c, 431, JSON, "{\"message\":\"request head too large\"}", 0);
						c->inlen = 0;
					}
				} else {
					if (!end)
						hl = (size_t)((char *)memmem(c->in, c->inlen, "\n\n", 2) - c->in) + 2;
					handle(c, hl, h, arg);
					memmove(c->in, c->in + hl, c->inlen - hl);
					c->inlen -= hl;
				}
			}
			if (!drop && ms_since(&c->last) > IDLE_MS)
				drop = 1;
			if (drop) {
				close(c->fd);
				free(c->out);
				conns[i] = conns[s->nconn - 1];
				pfd[i + 1] = pfd[s->nconn];
				s->nconn--;
				i--;
			}
		}
		if (pfd[0].revents & POLLIN) {
			while (s->nconn < MAX_CONN) {
				int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd < 0)
					break;
				memset(&conns[s->nconn], 0, sizeof conns[s->nconn]);
				conns[s->nconn].fd = fd;
				clock_gettime(CLOCK_MONOTONIC, &conns[s->nconn].last);
				s->nconn++;
			}
		}
	}
	return 0;
}

void
nym_httpserve_close(struct nym_httpserve *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nconn; i++) {
		close(s->conns[i].fd);
		free(s->conns[i].out);
	}
	close(s->lfd);
	free(s->conns);
	free(s->pfd);
	free(s);
}
