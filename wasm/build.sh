#!/bin/sh
# wasm/build.sh SODIUM JANSSON BEARSSL — compile the sans-I/O core (lib/base,
# lib/crypto, lib/proto) and wasm/nymwasm.c with emcc into wasm/dist/
# (mk/wasm.sh passes the prefixes of the cached dependency builds).
set -e
cd "$(dirname "$0")/.."
S=$1 J=$2 B=$3
out=wasm/dist
obj=build/wasm
mkdir -p "$out" "$obj"
export NODE_PATH=/usr/share/nodejs NODE_OPTIONS=--no-experimental-fetch
CF="-O3 -std=c11 -Wall -Wextra -D_GNU_SOURCE -DNYM_AES_BEARSSL -DNYM_VERSION=\"0.1.0\" -Ilib -I$S/include -I$J/include -I$B/include"
# tcpsocket is the 2019 API over protobuf-c (a native nym-client mode): not in the wasm client
srcs=$(ls lib/base/*.c lib/crypto/*.c lib/proto/*.c wasm/nymwasm.c | grep -v '^lib/proto/tcpsocket\.c$')
objs=
for f in $srcs; do
	o=$obj/$(echo "$f" | tr / _ | sed 's/\.c$/.o/')
	objs="$objs $o"
	# recompile when the source or any header is newer
	if [ ! -f "$o" ] || [ "$f" -nt "$o" ] || [ -n "$(find lib wasm -name '*.h' -newer "$o" | head -1)" ]; then
		printf '%s %s\n' "$f" "$o"
	fi
done > "$obj/.list.$$"
# two at a time (xargs: POSIX sh has no wait -n)
export CF
xargs -r -P 2 -n 2 sh -c 'emcc $CF -c "$1" -o "$2" || exit 255' sh < "$obj/.list.$$"
rm -f "$obj/.list.$$"
emcc -O3 $objs "$S/lib/libsodium.a" "$J/lib/libjansson.a" "$B/lib/libbearssl.a" \
	-sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=nymkitCore -sENVIRONMENT=web,worker \
	-sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=33554432 \
	-sEXPORTED_FUNCTIONS=_malloc,_free \
	-sEXPORTED_RUNTIME_METHODS=UTF8ToString,stringToUTF8,lengthBytesUTF8 \
	-o "$out/nymkit-core.mjs"
mv "$out/nymkit-core.wasm" "$out/nymkit.wasm"
cp wasm/js/*.mjs wasm/js/*.d.ts wasm/js/package.json "$out/"
ls -l "$out"/*.wasm | awk '{print "nymkit-wasm: " $NF " " $5 " bytes"}' >&2
