/* nymapi.c — libcurl fetch of the nym-api routes (see nymapi.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "base/clock.h"
#include "base/err.h"
#include "io/nymapi.h"

#define MAX_PAGES 10000

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void
curl_start(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

struct sink {
	char *buf;
	size_t len, cap, max;
	int too_big;
};

static size_t
sink_write(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct sink *s = ctx;
	size_t n = size * nmemb;

	if (n > s->max - s->len) {
		s->too_big = 1;
		return 0; /* aborts the transfer */
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 65536;
		char *nb;
		while (cap < s->len + n + 1)
			cap *= 2;
		if (!(nb = realloc(s->buf, cap)))
			return 0;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = 0;
	return n;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Worth another attempt: the server or the path may recover. */
static int
retryable_curl(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

int
nym_api_get(const struct nym_api_opts *o, const char *route, char **body, size_t *len,
            char *err, size_t errlen)
{
	char url[2048], ua[64], ebuf[CURL_ERROR_SIZE];
	const char *base = o->base_url ? o->base_url : NYM_API_DEFAULT_URL;
	size_t bl = strlen(base);
	long backoff = o->backoff_ms > 0 ? o->backoff_ms : 500;
	int attempts = 1 + (o->retries > 0 ? o->retries : 0), r = NYM_ENET;
	struct curl_slist *hdr = NULL;
	CURL *c;

	*body = NULL;
	*len = 0;
	if (strncmp(base, "http://", 7) && strncmp(base, "https://", 8))
		return nym_err_set(err, errlen, NYM_EINVAL, "%s: not an http:// or https:// URL", base);
	if (snprintf(url, sizeof url, "%s%s%s", base, bl && base[bl - 1] == '/' ? "" : "/", route) >=
	    (int)sizeof url)
		return nym_err_set(err, errlen, NYM_EINVAL, "URL too long");
	pthread_once(&curl_once, curl_start);
	if (!curl_ok || !(c = curl_easy_init()))
		return nym_err_set(err, errlen, NYM_ENET, "%s: cannot initialise libcurl", url);
	snprintf(ua, sizeof ua, "nymkit/%s", NYM_VERSION);
	hdr = curl_slist_append(hdr, "Accept: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_USERAGENT, o->user_agent ? o->user_agent : ua);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* gzip etc., inflated by libcurl */
	/* a server that accepts and then says nothing: no byte for read_timeout */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
	    o->read_timeout_ms > 0 ? (o->read_timeout_ms + 999) / 1000 : 10L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);

	for (int a = 0; a < attempts; a++) {
		struct sink s = { NULL, 0, 0, o->max_body ? o->max_body : (size_t)64 << 20, 0 };
		long status = 0;
		CURLcode cc;
		int again = 0;

		long conn = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000L;
		long total = o->timeout_ms > 0 ? o->timeout_ms : 60000L;
		if (a) {
			long pause = backoff << (a - 1 < 6 ? a - 1 : 6);
			/* no time for the pause and another try: keep the last error */
			if (o->deadline_ms && nym_mono_ms() + (uint64_t)pause + 100 >= o->deadline_ms)
				break;
			pause_ms(pause);
		}
		if (o->deadline_ms) {
			uint64_t now = nym_mono_ms();
			long left = now < o->deadline_ms ? (long)(o->deadline_ms - now) : 0;
			if (left <= 0) {
				r = nym_err_set(err, errlen, NYM_ETIMEOUT, "GET %s: out of time", url);
				break;
			}
			if (total > left)
				total = left;
			if (conn > left)
				conn = left;
		}
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, conn);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total);
		ebuf[0] = 0;
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
		cc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (cc == CURLE_OK && status >= 200 && status < 300) {
			if (!s.buf && !(s.buf = calloc(1, 1))) {
				r = nym_err_set(err, errlen, NYM_ENOMEM, "out of memory");
				break;
			}
			*body = s.buf;
			*len = s.len;
			r = 0;
			break;
		}
		if (cc == CURLE_WRITE_ERROR && s.too_big) {
			r = nym_err_set(err, errlen, NYM_ETOOBIG, "GET %s: answer larger than %zu bytes", url, s.max);
		} else if (cc == CURLE_OPERATION_TIMEDOUT) {
			r = nym_err_set(err, errlen, NYM_ETIMEOUT, "GET %s: timed out (%s)", url,
			                ebuf[0] ? ebuf : curl_easy_strerror(cc));
			again = 1;
		} else if (cc != CURLE_OK) {
			r = nym_err_set(err, errlen, NYM_ENET, "GET %s: %s", url, ebuf[0] ? ebuf : curl_easy_strerror(cc));
			again = retryable_curl(cc);
		} else {
			/* first line of the body, if it is short text, helps the reader */
			char snippet[96] = "";
			if (s.buf && s.len) {
				size_t k;
				for (k = 0; k < s.len && k + 1 < sizeof snippet && s.buf[k] != '\n' &&
					    s.buf[k] >= 0x20 && s.buf[k] < 0x7f; k++)
					snippet[k] = s.buf[k];
				snippet[k] = 0;
			}
			r = nym_err_set(err, errlen, status == 404 ? NYM_ENOTFOUND : NYM_ENET,
			                "GET %s: HTTP %ld%s%s", url, status, snippet[0] ? ": " : "", snippet);
			again = status == 429 || status >= 500;
		}
		free(s.buf);
		if (!again)
			break;
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return r;
}

/* All pages of a skimmed route: page=0, 1, ... until pagination.total nodes
 * are in hand (the server may ignore paging and send everything at once). */
static int
get_pages(const struct nym_api_opts *o, const char *route, struct nym_text **pages, size_t *np,
          char *err, size_t errlen)
{
	size_t got = 0;
	int r;

	*pages = NULL;
	*np = 0;
	for (uint32_t p = 0; p < MAX_PAGES; p++) {
		char path[256];
		char *body;
		size_t len, count;
		uint32_t total;
		struct nym_text *nv;

		snprintf(path, sizeof path, "%s?page=%u", route, p);
		if ((r = nym_api_get(o, path, &body, &len, err, errlen)) < 0)
			return r;
		if (!(nv = realloc(*pages, (*np + 1) * sizeof *nv))) {
			free(body);
			return nym_err_set(err, errlen, NYM_ENOMEM, "out of memory");
		}
		*pages = nv;
		nv[*np].data = body;
		nv[*np].len = len;
		(*np)++;
		if ((r = nym_topology_page_info(&nv[*np - 1], &total, &count, err, errlen)) < 0) {
			char tmp[NYM_TOPOLOGY_ERR_MAX];
			snprintf(tmp, sizeof tmp, "%s", err ? err : "");
			nym_err_set(err, errlen, r, "%s%s: %s", o->base_url ? o->base_url : NYM_API_DEFAULT_URL, path, tmp);
			return r;
		}
		got += count;
		/* done, or the server has nothing more: let the parser judge the count */
		if (got >= total || count == 0)
			return 0;
	}
	return nym_err_set(err, errlen, NYM_EFULL, "%s: more than %d pages", route, MAX_PAGES);
}

static void
free_pages(struct nym_text *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((void *)p[i].data);
	free(p);
}

int
nym_api_fetch_topology(const struct nym_api_opts *o, const struct nym_topology_filter *f,
                       struct nym_topology **out, char *err, size_t errlen)
{
	struct nym_api_answers a;
	struct nym_text *mix = NULL, *gw = NULL;
	size_t nmix = 0, ngw = 0;
	char *rs = NULL, *kr = NULL;
	size_t rslen, krlen;
	int r;

	*out = NULL;
	memset(&a, 0, sizeof a);
	if ((r = nym_api_get(o, NYM_API_REWARDED_SET, &rs, &rslen, err, errlen)) < 0 ||
	    (r = get_pages(o, NYM_API_MIXNODES, &mix, &nmix, err, errlen)) < 0 ||
	    (r = get_pages(o, NYM_API_GATEWAYS, &gw, &ngw, err, errlen)) < 0 ||
	    (r = nym_api_get(o, NYM_API_KEY_ROTATION, &kr, &krlen, err, errlen)) < 0)
		goto out;
	a.rewarded_set.data = rs;
	a.rewarded_set.len = rslen;
	a.key_rotation.data = kr;
	a.key_rotation.len = krlen;
	a.mixnodes = mix;
	a.n_mixnodes = nmix;
	a.gateways = gw;
	a.n_gateways = ngw;
	if ((r = nym_topology_from_api(out, &a, f, err, errlen)) < 0) {
		char tmp[NYM_TOPOLOGY_ERR_MAX];
		snprintf(tmp, sizeof tmp, "%s", err ? err : "");
		nym_err_set(err, errlen, r, "%s: %s", o->base_url ? o->base_url : NYM_API_DEFAULT_URL, tmp);
		goto out;
	}
	{
		const char *base = o->base_url ? o->base_url : NYM_API_DEFAULT_URL;
		time_t now = time(NULL);
		struct tm tm;
		snprintf((*out)->source, sizeof (*out)->source, "%s", base);
		gmtime_r(&now, &tm);
		strftime((*out)->fetched_at, sizeof (*out)->fetched_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
out:
	free(rs);
	free(kr);
	free_pages(mix, nmix);
	free_pages(gw, ngw);
	return r;
}

/* ---- off the caller's thread ------------------------------------------------- */

struct nym_api_job {
	pthread_mutex_t mu;
	pthread_t th;
	struct nym_api_opts o;
	char *base, *ua;
	int done, abandoned, result;
	struct nym_topology *topo;
	char err[NYM_TOPOLOGY_ERR_MAX];
};

static void
job_destroy(struct nym_api_job *j)
{
	nym_topology_free(j->topo);
	free(j->base);
	free(j->ua);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

static void *
job_run(void *arg)
{
	struct nym_api_job *j = arg;
	struct nym_topology *t = NULL;
	char err[NYM_TOPOLOGY_ERR_MAX] = "";
	int r = nym_api_fetch_topology(&j->o, NULL, &t, err, sizeof err), gone;

	pthread_mutex_lock(&j->mu);
	j->result = r;
	j->topo = t;
	memcpy(j->err, err, sizeof err);
	j->done = 1;
	gone = j->abandoned;
	pthread_mutex_unlock(&j->mu);
	if (gone)
		job_destroy(j);
	return NULL;
}

int
nym_api_job_start(struct nym_api_job **out, const struct nym_api_opts *o)
{
	struct nym_api_job *j = calloc(1, sizeof *j);
	pthread_attr_t at;
	int e;

	*out = NULL;
	if (!j)
		return NYM_ENOMEM;
	j->o = *o;
	if ((o->base_url && !(j->base = strdup(o->base_url))) ||
	    (o->user_agent && !(j->ua = strdup(o->user_agent)))) {
		free(j->base);
		free(j->ua);
		free(j);
		return NYM_ENOMEM;
	}
	j->o.base_url = j->base;
	j->o.user_agent = j->ua;
	pthread_mutex_init(&j->mu, NULL);
	pthread_once(&curl_once, curl_start); /* not thread-safe: on the caller's thread */
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	e = pthread_create(&j->th, &at, job_run, j);
	pthread_attr_destroy(&at);
	if (e) {
		job_destroy(j);
		return NYM_ENOMEM;
	}
	*out = j;
	return 0;
}

int
nym_api_job_poll(struct nym_api_job *j, struct nym_topology **out, char *err, size_t errlen)
{
	int r;

	pthread_mutex_lock(&j->mu);
	if (!j->done) {
		pthread_mutex_unlock(&j->mu);
		return 0;
	}
	r = j->result;
	if (r >= 0) {
		*out = j->topo;
		j->topo = NULL;
		r = 1;
	} else if (err && errlen)
		snprintf(err, errlen, "%s", j->err);
	pthread_mutex_unlock(&j->mu);
	return r;
}

void
nym_api_job_free(struct nym_api_job *j)
{
	int running;

	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	running = !j->done;
	j->abandoned = 1;
	pthread_mutex_unlock(&j->mu);
	if (!running)
		job_destroy(j); /* else the thread frees it when it ends */
}
