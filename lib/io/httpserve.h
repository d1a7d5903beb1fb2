/* httpserve.h — a small plain-HTTP/1.1 server for local use (what
 * `nym-topology serve` answers the nym-api routes with), on libmicrohttpd:
 * one listening socket on exactly the address asked, up to 512 connections
 * served in the caller's thread, keep-alive and pipelined requests, GET and
 * HEAD (HEAD: the head alone).
 *
 * The server itself answers, with a JSON {"message"} body, 413 to a request
 * with a body and 431 to a head over 8 KiB; a client silent for 10 s is
 * dropped. Everything else goes to the handler. These answers carry
 * Content-Type, Content-Length, Access-Control-Allow-Origin: * and
 * Cache-Control: no-store. libmicrohttpd itself answers, with its own HTML
 * body: 400 to a request line it cannot read (and closes a connection whose
 * request line has no target without a word), 505 to a version other than
 * HTTP/1.x, 414 or 431 to a head too big for its 32 KiB per connection. */
#ifndef NYM_HTTPSERVE_H
#define NYM_HTTPSERVE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct nym_httpserve;

/* One request: method ("GET", "HEAD", "POST", ...), path (the target up to
 * '?', as sent) and query (after '?', NULL if none). The handler sets
 * *status, *type (a static string) and *body (malloc'd, freed by the server;
 * NULL with status 0: out of memory, answered 500). */
typedef void (*nym_httpserve_handler)(void *arg, const char *method, const char *path,
                                      const char *query, int *status, const char **type,
                                      char **body);

/* Listen on ip (v4 or v6 literal) and port (0: any free one). On failure err
 * holds the reason (strerror of the failing bind/listen). */
int nym_httpserve_open(struct nym_httpserve **out, const char *ip, uint16_t port,
                       char *err, size_t errlen);
/* The port actually bound. */
uint16_t nym_httpserve_port(const struct nym_httpserve *s);
/* Serve until *stop is set (checked at least once a second); 0, or a
 * negative NYM_E* with err set if polling fails. */
int nym_httpserve_run(struct nym_httpserve *s, nym_httpserve_handler h, void *arg,
                      const volatile sig_atomic_t *stop, char *err, size_t errlen);
void nym_httpserve_close(struct nym_httpserve *s);

#endif
