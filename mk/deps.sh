#!/bin/sh
# Install the Debian packages nymkit needs, only those missing, saying which.
# Usage: mk/deps.sh [build|check|demo|wasm]   (check also needs the test tools;
#   wasm: emscripten and what builds the libraries' Debian sources, deb-src enabled)
set -e
want="gcc make pkg-config libsodium-dev libssl-dev libcurl4-openssl-dev libjansson-dev
libwebsockets-dev libmicrohttpd-dev libsqlite3-dev libprotobuf-c-dev protobuf-c-compiler"
case "${1:-build}" in
check|demo) # ps/pkill (procps) and xxd are not in a minimal Debian; bats' own timeout needs ps.
	# curl: the SOCKS tests and the demo fetch through nym-socks5-client with it.
	want="$want bats bats-support bats-assert b3sum jq clang python3 python3-websockets openssl procps xxd curl sqlite3"
	# Node may come from elsewhere than Debian (it ships its own npm): judge by command.
	command -v node >/dev/null 2>&1 || want="$want nodejs"
	command -v npm >/dev/null 2>&1 || want="$want npm" ;;
wasm) # node-undici, node-cjs-module-lexer: what Debian's own Node 18 (mk/wasm.sh node18) loads
	want="emscripten dpkg-dev autoconf automake libtool chromium node-undici node-cjs-module-lexer"
	command -v node >/dev/null 2>&1 || want="$want nodejs"
	# apt-get source needs deb-src lines: add them to Debian's deb822 sources once.
	src=/etc/apt/sources.list.d/debian.sources
	if [ -f "$src" ] && ! grep -q '^Types:.*deb-src' "$src"; then
		if [ "$(id -u)" != 0 ]; then
			echo "nymkit: not root; enable deb-src in $src (Types: deb deb-src)" >&2
			exit 1
		fi
		echo "nymkit: enabling deb-src in $src" >&2
		sed -i 's/^Types: deb$/Types: deb deb-src/' "$src"
		apt-get update -qq >&2 || { echo "nymkit: apt-get update failed" >&2; exit 1; }
	fi ;;
esac
missing=
for p in $want; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$s" in *" installed") ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
echo "nymkit: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" != 0 ]; then
	echo "nymkit: not root; run as root: apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || { echo "nymkit: apt-get update failed" >&2; exit 1; }
apt-get install -y -qq --no-install-recommends $missing >&2 ||
	{ echo "nymkit: apt-get install failed for:$missing" >&2; exit 1; }
