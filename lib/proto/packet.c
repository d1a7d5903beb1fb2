/* packet.c — size classes by name, node routing addresses (packet.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/packet.h"

/* Names only: lengths come from framing.c's size table. */
static const char *const names[] = {
	[NYM_SIZE_REGULAR] = "regular",
	[NYM_SIZE_ACK] = "ack",
	[NYM_SIZE_EXTENDED32] = "extended32",
	[NYM_SIZE_EXTENDED8] = "extended8",
	[NYM_SIZE_EXTENDED16] = "extended16",
	[NYM_SIZE_OUTFOX_REGULAR] = "outfox_regular",
	[NYM_SIZE_OUTFOX_ACK] = "outfox_ack",
};
#define NNAMES (sizeof names / sizeof *names)

int
nym_packet_size_by_name(const char *name)
{
	for (size_t t = 1; t < NNAMES; t++)
		if (strcmp(names[t], name) == 0)
			return (int)t;
	return NYM_EINVAL;
}

const char *
nym_packet_size_name(uint8_t tag)
{
	return tag >= 1 && tag < NNAMES ? names[tag] : NULL;
}

int
nym_node_addr_encode(uint8_t *out, size_t outlen, const struct nym_node_addr *a)
{
	size_t n;

	if (a->family == 4)
		n = NYM_NODE_ADDR_V4_LEN;
	else if (a->family == 6)
		n = NYM_NODE_ADDR_V6_LEN;
	else
		return NYM_EADDR;
	if (outlen < n)
		return NYM_ESIZE;
	out[0] = a->family;
	out[1] = (uint8_t)(a->port >> 8);
	out[2] = (uint8_t)a->port;
	memcpy(out + 3, a->ip, n - 3);
	memset(out + n, 0, outlen - n);
	return (int)n;
}

int
nym_node_addr_decode(struct nym_node_addr *a, const uint8_t *in, size_t len)
{
	int n = nym_next_hop_len(in, len);

	if (n < 0)
		return n;
	memset(a, 0, sizeof *a);
	a->family = in[0];
	a->port = (uint16_t)(in[1] << 8 | in[2]);
	memcpy(a->ip, in + 3, (size_t)n - 3);
	return n;
}

int
nym_node_addr_parse(struct nym_node_addr *a, const char *s)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = s, *port;
	size_t hl;
	char *end;

	memset(a, 0, sizeof *a);
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return NYM_EADDR;
		h = s + 1;
		hl = (size_t)(rb - h);
		port = rb + 2;
		a->family = 6;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return NYM_EADDR;
		hl = (size_t)(colon - s);
		port = colon + 1;
		a->family = 4;
	}
	if (hl == 0 || hl >= sizeof host)
		return NYM_EADDR;
	memcpy(host, h, hl);
	host[hl] = 0;
	if (inet_pton(a->family == 4 ? AF_INET : AF_INET6, host, a->ip) != 1)
		return NYM_EADDR;
	if (*port < '0' || *port > '9')
		return NYM_EADDR;
	unsigned long p = strtoul(port, &end, 10);
	if (*end || p == 0 || p > 65535 || end - port > 5)
		return NYM_EADDR;
	a->port = (uint16_t)p;
	return 0;
}

int
nym_node_addr_format(char *out, size_t cap, const struct nym_node_addr *a)
{
	char host[INET6_ADDRSTRLEN];
	int n;

	if ((a->family != 4 && a->family != 6) ||
	    !inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->ip, host, sizeof host))
		return NYM_EADDR;
	n = snprintf(out, cap, a->family == 4 ? "%s:%u" : "[%s]:%u", host, (unsigned)a->port);
	if (n < 0 || (size_t)n >= cap)
		return NYM_ESIZE;
	return n;
}
