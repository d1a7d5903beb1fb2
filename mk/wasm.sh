#!/bin/sh
# mk/wasm.sh — build nymkit's WebAssembly client into wasm/dist/ (make wasm).
# Installs what it needs (mk/deps.sh wasm), builds libsodium, jansson and
# BearSSL from their Debian source packages with Debian's emscripten, cached
# outside the clone under ${XDG_CACHE_HOME:-$HOME/.cache}/nymkit-wasm/<name>-<version>
# (a second run takes seconds), then compiles lib/base, lib/crypto, lib/proto
# (the sans-I/O core; never lib/io) and wasm/*.c into wasm/dist/nymkit.wasm
# with its ES module glue.
set -e
cd "$(dirname "$0")/.."
root=$(pwd)
sh mk/deps.sh wasm
cache=${XDG_CACHE_HOME:-$HOME/.cache}/nymkit-wasm
mkdir -p "$cache"
# Debian's emcc runs helpers that need acorn from Debian's node modules; Node
# >= 18's global fetch breaks the loading of a local .wasm while configuring.
export NODE_PATH=/usr/share/nodejs
export NODE_OPTIONS=--no-experimental-fetch
jobs=$(nproc 2>/dev/null || echo 2)

# The version apt-get source would fetch; if the newest one is missing on the
# mirror (a security update), the one before it.
srcver() { apt-cache showsrc "$1" 2>/dev/null | sed -n 's/^Version: //p' | sort -V -r | sed -n "${2:-1}p"; }

# fetch NAME -> prints the unpacked source directory (cached)
fetch() {
	n=$1
	for k in 1 2 3; do
		v=$(srcver "$n" $k)
		[ -n "$v" ] || break
		d="$cache/src/$n-$v"
		if [ -f "$d/.unpacked" ]; then echo "$d"; return 0; fi
		rm -rf "$d.tmp"; mkdir -p "$d.tmp"
		if (cd "$d.tmp" && apt-get source -qq --download-only "$n=$v" >/dev/null 2>&1 &&
		    dpkg-source -x --no-check ./*.dsc src >/dev/null 2>&1); then
			rm -rf "$d"; mv "$d.tmp/src" "$d"; rm -rf "$d.tmp"
			touch "$d/.unpacked"; echo "$d"; return 0
		fi
		rm -rf "$d.tmp"
	done
	echo "nymkit: apt-get source $n failed (is deb-src enabled?)" >&2
	return 1
}

build_sodium() {
	s=$(fetch libsodium); v=${s##*/}; p="$cache/$v"
	[ -f "$p/lib/libsodium.a" ] && return 0
	echo "nymkit-wasm: building $v (once; about 2 minutes)" >&2
	(cd "$s" && { [ -x configure ] || ./autogen.sh -s >/dev/null 2>&1; } &&
	 emconfigure ./configure --prefix="$p" --disable-shared --without-pthreads --disable-ssp \
		--disable-asm --disable-pie CFLAGS=-O3 >"$cache/$v.log" 2>&1 &&
	 emmake make -j"$jobs" >>"$cache/$v.log" 2>&1 && emmake make install >>"$cache/$v.log" 2>&1) ||
		{ tail -20 "$cache/$v.log" >&2; return 1; }
}

build_jansson() {
	s=$(fetch jansson); v=${s##*/}; p="$cache/$v"
	[ -f "$p/lib/libjansson.a" ] && return 0
	echo "nymkit-wasm: building $v (once)" >&2
	(cd "$s" && autoreconf -fi >"$cache/$v.log" 2>&1 &&
	 emconfigure ./configure --prefix="$p" --disable-shared CFLAGS=-O3 >>"$cache/$v.log" 2>&1 &&
	 emmake make -j"$jobs" -C src install >>"$cache/$v.log" 2>&1 &&
	 mkdir -p "$p/include" && cp src/jansson.h src/jansson_config.h "$p/include/") ||
		{ tail -20 "$cache/$v.log" >&2; return 1; }
}

build_bearssl() {
	s=$(fetch bearssl); v=${s##*/}; p="$cache/$v"
	[ -f "$p/lib/libbearssl.a" ] && return 0
	echo "nymkit-wasm: building $v (once)" >&2
	(cd "$s" && make -j"$jobs" CC=emcc AR=emar LD=emcc CFLAGS="-O3" BUILD=build-wasm \
		build-wasm/libbearssl.a >"$cache/$v.log" 2>&1 &&
	 mkdir -p "$p/lib" "$p/include" && cp build-wasm/libbearssl.a "$p/lib/" && cp inc/*.h "$p/include/") ||
		{ tail -20 "$cache/$v.log" >&2; return 1; }
}

# mk/wasm.sh node18: Debian 12's own Node 18 (nodejs + libnode108), unpacked into the cache
# beside a Node from elsewhere (one cannot install both); prints the path of a node to run.
if [ "${1:-}" = node18 ]; then
	d="$cache/node18"
	if [ ! -x "$d/node" ]; then
		v=$(apt-cache madison nodejs | awk '$3 ~ /^18\./ {print $3; exit}')
		[ -n "$v" ] || { echo "nymkit: no Debian nodejs 18 in the apt lists" >&2; exit 1; }
		rm -rf "$d.tmp" && mkdir -p "$d.tmp" && chmod 777 "$d.tmp"
		(cd "$d.tmp" && apt-get download -qq "nodejs=$v" "libnode108=$v" >/dev/null 2>&1 &&
		 for f in ./*.deb; do dpkg-deb -x "$f" root || exit 1; done) ||
			{ echo "nymkit: cannot fetch Debian's nodejs $v" >&2; exit 1; }
		printf '#!/bin/sh\nLD_LIBRARY_PATH="%s/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "%s/root/usr/bin/node" "$@"\n' "$d" "$d" >"$d.tmp/node"
		chmod +x "$d.tmp/node"
		rm -rf "$d" && mv "$d.tmp" "$d"
		sed -i "s|$d.tmp|$d|g" "$d/node"
	fi
	echo "$d/node"
	exit 0
fi

build_sodium & a=$!
build_jansson & b=$!
build_bearssl & c=$!
fail=0
wait $a || fail=1; wait $b || fail=1; wait $c || fail=1
[ $fail = 0 ] || { echo "nymkit-wasm: a dependency did not build" >&2; exit 1; }
[ "${1:-}" = deps ] && exit 0

pfx() { d=$(fetch "$1"); echo "$cache/${d##*/}"; }
SODIUM=$(pfx libsodium) JANSSON=$(pfx jansson) BEARSSL=$(pfx bearssl)
exec sh wasm/build.sh "$SODIUM" "$JANSSON" "$BEARSSL"
