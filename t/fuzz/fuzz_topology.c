/* fuzz_topology.c — the topology parsers: nym-api answers, our document, the
 * custom-mixnet file, routes and page info. First byte picks the parser; for
 * the API the rest is the four answers separated by NUL bytes (rewarded set,
 * mixnodes page, gateways page, key-rotation info). Whatever parses must dump
 * and parse back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "proto/nymapi_doc.h"
#include "proto/route.h"
#include "proto/topology.h"

static void
exercise(struct nym_topology *t)
{
	struct nym_topology *u = NULL;
	struct nym_route r;
	char err[NYM_TOPOLOGY_ERR_MAX], *s;
	static const uint8_t bytes[64] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct nym_rng_fixed st;
	struct nym_rng rng = nym_rng_fixed(&st, bytes, sizeof bytes);

	for (int f = 0; f < 2; f++) {
		if (nym_topology_dump(t, (enum nym_topology_format)f, 0, &s) == 0) {
			/* what we write, we must read */
			if (nym_topology_parse(&u, s, strlen(s), err, sizeof err) < 0) {
				fprintf(stderr, "round trip failed: %s\n%s\n", err, s);
				abort();
			}
			nym_topology_free(u);
			free(s);
		}
	}
	for (int k = 0; k <= NYM_API_ROUTE_EPOCH; k++)
		if (nym_topology_api_answer(t, (enum nym_api_route)k, 1, 2, &s) == 0)
			free(s);
	if (nym_route_choose(t, &rng, NULL, &r, err, sizeof err) == 0 &&
	    nym_route_dump(&r, "x", &s) == 0) {
		struct nym_route back;
		char dest[8];
		if (nym_route_parse(&back, dest, sizeof dest, s, strlen(s), err, sizeof err) < 0) {
			fprintf(stderr, "route round trip failed: %s\n%s\n", err, s);
			abort();
		}
		free(s);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_topology *t = NULL;
	char err[NYM_TOPOLOGY_ERR_MAX];

	if (size < 1)
		return 0;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;

	switch (data[0] % 4) {
	case 0: {
		struct nym_text part[4] = { { 0 } };
		struct nym_api_answers a = { 0 };
		size_t k = 0, start = 0;
		for (size_t i = 0; i <= n && k < 4; i++)
			if (i == n || p[i] == 0) {
				part[k].data = p + start;
				part[k].len = i - start;
				k++;
				start = i + 1;
			}
		a.rewarded_set = part[0];
		a.mixnodes = &part[1];
		a.n_mixnodes = 1;
		a.gateways = &part[2];
		a.n_gateways = 1;
		a.key_rotation = part[3];
		if (nym_topology_from_api(&t, &a, NULL, err, sizeof err) == 0)
			exercise(t);
		break;
	}
	case 1:
		if (nym_topology_parse(&t, p, n, err, sizeof err) == 0)
			exercise(t);
		break;
	case 2: {
		struct nym_route r;
		char dest[64];
		nym_route_parse(&r, dest, sizeof dest, p, n, err, sizeof err);
		break;
	}
	case 3: {
		struct nym_text page = { p, n };
		uint32_t total;
		size_t count;
		nym_topology_page_info(&page, &total, &count, err, sizeof err);
		break;
	}
	}
	nym_topology_free(t);
	return 0;
}
