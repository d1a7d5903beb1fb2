#!/usr/bin/env bats
# make install: tools, man pages, completions, libnym.a, headers and libnym.pc
# land under DESTDIR/PREFIX, and a program builds against the installed library.
load helpers

setup_file() {
	export TOP="$BATS_TEST_DIRNAME/.."
	export ROOT="$BATS_FILE_TMPDIR/root"
	make -s -C "$TOP" install PREFIX=/usr/local DESTDIR="$ROOT" >/dev/null
}

@test "install: every tool, with its man page and completions" {
	for src in "$TOP"/cmd/*.c "$TOP"/cmd/nym-localnet; do
		t=$(basename "$src" .c)
		[ "$t" = tool ] && continue
		assert [ -x "$ROOT/usr/local/bin/$t" ]
		assert [ -f "$ROOT/usr/local/share/man/man1/$t.1" ]
		assert [ -f "$ROOT/usr/local/share/bash-completion/completions/$t" ]
		assert [ -f "$ROOT/usr/local/share/zsh/site-functions/_$t" ]
	done
}

@test "install: libnym.a, headers and libnym.pc; a program links against them" {
	assert [ -f "$ROOT/usr/local/lib/libnym.a" ]
	assert [ -f "$ROOT/usr/local/include/nym/proto/sphinx.h" ]
	sed "s|^prefix=.*|prefix=$ROOT/usr/local|" "$ROOT/usr/local/lib/pkgconfig/libnym.pc" > libnym.pc
	cat > prog.c <<'C'
#include <stdio.h>
#include <base/codec.h>
#include <crypto/crypto.h>
int main(void) {
	uint8_t sk[32] = {1}, pk[32];
	char b58[64];
	if (nym_crypto_init() || nym_x25519_base(pk, sk)) return 1;
	if (nym_base58_encode(b58, sizeof b58, pk, 32) < 0) return 1;
	puts(b58);
	return 0;
}
C
	run sh -c "cc -o prog prog.c \$(PKG_CONFIG_PATH=. pkg-config --cflags --libs libnym)"
	assert_success
	run ./prog
	assert_success
	assert_output --regexp '^[1-9A-HJ-NP-Za-km-z]{43,44}$'
}
