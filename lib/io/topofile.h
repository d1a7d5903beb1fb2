/* topofile.h — a topology read from a file: the bytes of a saved document
 * (ours, or an official custom-mixnet file; "-" is stdin) handed to
 * nym_topology_parse(). The I/O half of the tools' --topology/--file FILE. */
#ifndef NYM_TOPOFILE_H
#define NYM_TOPOFILE_H

#include <stddef.h>

#include "proto/topology.h"

/* Read path (at most 256 MiB) and parse it; errors name the file. On success
 * source is the path unless the document names one; *out is freed with
 * nym_topology_free. */
int nym_topofile_load(struct nym_topology **out, const char *path, char *err, size_t errlen);

/* Only the "mix_host" strings of the nodes under "layers" and "gateways" of
 * the JSON file path, the rest unchecked (a gateway's --topology: the next
 * hops it allows). *hosts: *n strings, each and the array freed by the
 * caller. NYM_EIO/NYM_EFORMAT (err says why) or NYM_ENOMEM. */
int nym_topofile_hosts(const char *path, char ***hosts, size_t *n, char *err, size_t errlen);

#endif
