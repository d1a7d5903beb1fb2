/* test_fragstore.c — lib/io/fragstore.c with proto/chunking's state calls:
 * fragments appended, loaded back into a fresh reassembler that completes
 * the message; completed sets refuse duplicates after a reload; a rewrite
 * keeps only what is live; a torn tail is dropped; one holder at a time. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "io/fragstore.h"
#include "proto/chunking.h"
#include "test.h"

#define P 100
#define NFRAG 600

static off_t
size_of(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? st.st_size : -1;
}

/* Deterministic rng for the set ids. */
static int
fill(void *ctx, uint8_t *b, size_t n)
{
	uint32_t *x = ctx;
	for (size_t i = 0; i < n; i++) {
		*x = *x * 1103515245u + 12345u;
		b[i] = (uint8_t)(*x >> 16);
	}
	return 0;
}

struct load {
	struct nym_reasm *r;
	uint64_t now;
	int frags, done, messages;
	uint8_t *out;
	size_t out_len;
};

static int
load_one(void *arg, int kind, const uint8_t *body, size_t len, uint64_t unix_ms)
{
	struct load *l = arg;
	struct nym_fragment f;
	uint8_t *o;
	size_t ol;
	(void)unix_ms;
	if (kind == NYM_FRAGSTORE_DONE) {
		for (size_t i = 0; i + 4 <= len; i += 4)
			if (nym_reasm_mark_done(l->r, (uint32_t)body[i] << 24 | (uint32_t)body[i + 1] << 16 |
			        (uint32_t)body[i + 2] << 8 | body[i + 3], l->now) == 0)
				l->done++;
		return 0;
	}
	if (nym_fragment_parse(&f, body, len) < 0)
		return NYM_EFORMAT;
	l->frags++;
	if (nym_reasm_add(l->r, &f, l->now, &o, &ol) == 1) {
		l->messages++;
		free(l->out);
		l->out = o;
		l->out_len = ol;
	}
	return 0;
}

int
main(void)
{
	char dir[] = "/tmp/nym-fragstore-XXXXXX", path[200];
	static uint8_t msg[NFRAG * P], frag[NFRAG][P];
	uint8_t id[NYM_FRAG_ID_LEN], *o;
	uint32_t seed = 7, ids[8];
	struct nym_rng rng = {fill, &seed};
	struct nym_split sp;
	struct nym_fragstore *fs, *fs2;
	struct nym_fragment f;
	struct load l;
	size_t dropped, ol, n;
	int e = -1;

	CHECK(mkdtemp(dir) != NULL, "temp dir");
	snprintf(path, sizeof path, "%s/fragments", dir);
	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t)(i * 31 + 7);
	CHECK(nym_split_init(&sp, msg, 40000, P, &rng) == 0 && sp.nsets == 2, "a message of two sets");
	for (size_t i = 0; i < sp.nfrags; i++)
		(void)nym_split_fragment(&sp, i, frag[i], id);

	/* a first run gets all but the last fragment, then dies */
	CHECK(nym_fragstore_open(&fs, path) == 0, "open a new store");
	CHECK(size_of(path) == 8 && (size_of(path) >= 0), "it holds the magic only");
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
	CHECK(nym_fragstore_open(&fs2, path) == NYM_EEXIST, "a second holder is refused");
	for (size_t i = 0; i + 1 < sp.nfrags; i++)
		if ((e = nym_fragstore_add(fs, frag[i], P, 1000 + i)) < 0)
			break;
	CHECK(e == 0 && size_of(path) == 8 + (off_t)(sp.nfrags - 1) * (NYM_FRAGSTORE_HDR + P),
	    "one record per fragment, written at once");
	nym_fragstore_close(fs);

	/* the restart: loaded into a fresh reassembler, the last one completes it */
	memset(&l, 0, sizeof l);
	l.r = nym_reasm_new(NULL);
	l.now = 5000;
	CHECK(nym_fragstore_open(&fs, path) == 0, "reopen");
	CHECK(nym_fragstore_load(fs, load_one, &l, &dropped) == (int)sp.nfrags - 1 && dropped == 0 &&
	      l.messages == 0, "all fragments back, nothing complete yet");
	CHECK(nym_fragment_parse(&f, frag[sp.nfrags - 1], P) == 0 &&
	      nym_reasm_add(l.r, &f, 6000, &o, &ol) == 1, "the last fragment completes the message");
	CHECK(ol == sp.padded_len && !memcmp(o, msg, 40000), "byte-exact");
	free(o);
	n = nym_reasm_chain(l.r, f.set_id, ids, 8);
	CHECK(n == 2 && ids[0] == sp.set_ids[0] && ids[1] == sp.set_ids[1], "its chain: both sets, in order");
	CHECK(nym_reasm_chain(l.r, 12345, ids, 8) == 0, "no chain for an unknown set");
	CHECK(nym_fragstore_done(fs, ids, n, 6000) == 0, "completed sets recorded");
	CHECK(nym_fragstore_rewrite(fs, l.r, 6000, 7000) == 0 &&
	      size_of(path) == 8 + 2 * (NYM_FRAGSTORE_HDR + 4), "rewritten: two completed ids, no fragments");
	nym_fragstore_close(fs);
	nym_reasm_free(l.r);

	/* another restart: a retransmitted copy is refused, not a new message */
	memset(&l, 0, sizeof l);
	l.r = nym_reasm_new(NULL);
	CHECK(nym_fragstore_open(&fs, path) == 0 && nym_fragstore_load(fs, load_one, &l, NULL) == 2 &&
	      l.done == 2, "reloaded the completed ids");
	CHECK(nym_fragment_parse(&f, frag[3], P) == 0 && nym_reasm_add(l.r, &f, 1, &o, &ol) == NYM_EREPLAY,
	    "a duplicate after the restart is refused");

	/* live state survives a rewrite: half of a new message */
	uint32_t seed2 = 99;
	struct nym_rng rng2 = {fill, &seed2};
	struct nym_split sp2;
	CHECK(nym_split_init(&sp2, msg, 5000, P, &rng2) == 0 && sp2.nsets == 1, "a one-set message");
	for (size_t i = 0; i < sp2.nfrags; i += 2) {
		(void)nym_split_fragment(&sp2, i, frag[i], id);
		if (nym_fragment_parse(&f, frag[i], P) < 0 || nym_reasm_add(l.r, &f, 50, &o, &ol) != 0)
			break;
	}
	CHECK(nym_fragstore_rewrite(fs, l.r, 100, 10000) == 0, "rewritten with half a message");
	nym_fragstore_close(fs);
	nym_reasm_free(l.r);
	memset(&l, 0, sizeof l);
	l.r = nym_reasm_new(NULL);
	CHECK(nym_fragstore_open(&fs, path) == 0 &&
	      nym_fragstore_load(fs, load_one, &l, NULL) == (int)(sp2.nfrags + 1) / 2 + 2,
	    "reloaded: the half message and the two completed ids");
	for (size_t i = 1; i < sp2.nfrags; i += 2) {
		(void)nym_split_fragment(&sp2, i, frag[i], id);
		if (nym_fragment_parse(&f, frag[i], P) < 0)
			break;
		e = nym_reasm_add(l.r, &f, 200, &o, &ol);
	}
	CHECK(e == 1 && ol == sp2.padded_len && !memcmp(o, msg, 5000), "completed after the rewrite");
	free(o);

	/* a torn tail (a crash in a write) is dropped and cut */
	off_t good = size_of(path);
	CHECK(nym_fragstore_add(fs, frag[0], P, 1) == 0, "one more record");
	nym_fragstore_close(fs);
	CHECK(truncate(path, good + NYM_FRAGSTORE_HDR + P / 2) == 0, "cut in the middle of it");
	nym_reasm_free(l.r);
	memset(&l, 0, sizeof l);
	l.r = nym_reasm_new(NULL);
	CHECK(nym_fragstore_open(&fs, path) == 0 && nym_fragstore_load(fs, load_one, &l, &dropped) > 0 &&
	      dropped == NYM_FRAGSTORE_HDR + P / 2 && size_of(path) == good, "the torn record is dropped");
	nym_fragstore_close(fs);
	nym_reasm_free(l.r);
	free(l.out);

	/* expiry is counted, so that a caller can report the loss */
	struct nym_reasm_limits lim = {1 << 20, 100, 1000};
	struct nym_reasm *r = nym_reasm_new(&lim);
	size_t fr = 0;
	(void)nym_split_fragment(&sp2, 0, frag[0], id);
	(void)nym_split_fragment(&sp2, 1, frag[1], id);
	CHECK(nym_fragment_parse(&f, frag[0], P) == 0 && nym_reasm_add(r, &f, 10, &o, &ol) == 0 &&
	      nym_fragment_parse(&f, frag[1], P) == 0 && nym_reasm_add(r, &f, 10, &o, &ol) == 0,
	    "two fragments of an incomplete set");
	CHECK(nym_reasm_expire(r, 500) == 0 && nym_reasm_expired(r, &fr) == 0, "not yet expired");
	CHECK(nym_reasm_expire(r, 1010) == 1 && nym_reasm_expired(r, &fr) == 1 && fr == 2,
	    "expired: one set with two fragments counted");
	nym_reasm_free(r);

	nym_split_free(&sp);
	nym_split_free(&sp2);
	unlink(path);
	snprintf(path, sizeof path, "%s/fragments.lock", dir);
	unlink(path);
	rmdir(dir);
	printf("1..%d\n", t_n);
	return t_failed != 0;
}
