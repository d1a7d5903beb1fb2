#!/usr/bin/env bats
# mk/layers.sh (make layers): lib/'s layers point down only, and I/O stays in lib/io.
# Each kind of violation is planted in a copy of lib/ and must be found.
load helpers

LAYERS=$BATS_TEST_DIRNAME/../mk/layers.sh

setup() {
	cd "$BATS_TEST_TMPDIR"
	cp -r "$BATS_TEST_DIRNAME/../lib" lib
	find lib -name '*.o' -o -name '*.a' | xargs rm -f
}

@test "the tree as it is passes" {
	run sh "$LAYERS" lib
	assert_success
	refute_output --partial "not ok"
}

@test "an upward include (proto includes io) is found" {
	sed -i '0,/#include "/s//#include "io\/netio.h"\n#include "/' lib/proto/sphinx.h
	run sh "$LAYERS" lib
	assert_failure
	assert_output --regexp 'lib/proto/sphinx.h:[0-9]+: proto/ includes io/netio.h, a higher layer'
}

@test "<libwebsockets.h> in lib/crypto is found; in lib/io it is fine" {
	printf '#include <libwebsockets.h>\n' >> lib/crypto/blake3.c
	run sh "$LAYERS" lib
	assert_failure
	assert_output --partial "lib/crypto/blake3.c"
	assert_output --partial "<libwebsockets.h> does I/O: only lib/io/ may include it"
	cp "$BATS_TEST_DIRNAME/../lib/crypto/blake3.c" lib/crypto/blake3.c
	printf '#include <libwebsockets.h>\n' >> lib/io/netio.c
	run sh "$LAYERS" lib
	assert_success
}

@test "libsodium in base, a header without its layer, a module outside the folders" {
	printf '#include <sodium.h>\n' >> lib/base/codec.c
	run sh "$LAYERS" lib
	assert_failure
	assert_output --partial "<sodium.h> in base/, which is libc only"
	cp "$BATS_TEST_DIRNAME/../lib/base/codec.c" lib/base/codec.c
	printf '#include "err.h"\n' >> lib/proto/ack.c
	run sh "$LAYERS" lib
	assert_failure
	assert_output --partial 'include "err.h" names no layer'
	cp "$BATS_TEST_DIRNAME/../lib/proto/ack.c" lib/proto/ack.c
	touch lib/stray.c
	run sh "$LAYERS" lib
	assert_failure
	assert_output --partial "lib/stray.c: outside the layer folders"
}
