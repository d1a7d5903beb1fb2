#!/bin/sh
# bench/bench_wasm.sh BUILD_DIR — make bench's WebAssembly part: the official wasm client 1.4.1
# and nymkit's (make wasm), in one Node process, and native nym-send, each sending 1 MiB to
# one nym-recv over one local mixnet (zero delays, Poisson and cover off); time to ready and
# to deliver as ratios, .wasm sizes, Sphinx creation wasm over native. Writes the official
# client's MB/s to BUILD_DIR/bench/official.mbps for bench_message's "x official".
set -e
O=$(cd "${1:-build}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$O/cmd:$PATH"
make -C "$root" --no-print-directory wasm >/dev/null
# the official package (the interop suite's pinned npm packages)
if [ ! -f "$root/t/interop/node_modules/@nymproject/nym-client-wasm/nym_client_wasm_bg.wasm" ]; then
	(cd "$root/t/interop" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nymkit-bench-wasm.XXXXXX")
recv=
cleanup() {
	[ -n "$recv" ] && kill "$recv" 2>/dev/null && wait "$recv" 2>/dev/null
	nym-localnet down --dir "$tmp/net" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
export HOME="$tmp/home" NYM_HOME_DIR="$tmp/home" NYM_DELAY_MEAN_MS=0
mkdir -p "$HOME"
base=$(python3 -c 'import random; print(random.randrange(20000, 30000, 10))')
net=$(nym-localnet up --dir "$tmp/net" --base-port "$base" --delay-mean 0 --max-delay 0 --json)
api=$(printf '%s' "$net" | jq -r .api_url)
gw=$(printf '%s' "$net" | jq -r .gateway.identity_key)
nym-keygen --id bench-recv --gateway "$gw" >/dev/null
nym-keygen --id bench-send --gateway "$gw" >/dev/null
nym-recv --id bench-recv --api "$api" --json --no-cover >"$tmp/recv.out" 2>"$tmp/recv.err" &
recv=$!
i=0
until grep -Eq '(registered at the gateway|connected) as ' "$tmp/recv.err"; do
	i=$((i + 1)); [ $i -lt 200 ] || { echo "bench_wasm: nym-recv did not start" >&2; exit 1; }
	sleep 0.05
done
to=$(nym-keygen --id bench-recv --show --json | jq -r .address)
res=$(cd "$root/bench" && node bench_wasm.mjs "$api" "$to" "$tmp/recv.out" "$root/wasm/dist")
# native nym-send, same recipient, same network
head -c 1048576 /dev/urandom >"$tmp/mib"
n0=$(grep -c '"size":1048576' "$tmp/recv.out" || true)
t0=$(date +%s%N)
nym-send --id bench-send --api "$api" --to "$to" --file "$tmp/mib" --no-poisson --timeout 60 --quiet
until [ "$(grep -c '"size":1048576' "$tmp/recv.out" || true)" -gt "$n0" ]; do sleep 0.002; done
native_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
create_ns=$("$O/bench/bench_sphinx" --create-ns)
official_wasm=$(stat -c %s "$root/t/interop/node_modules/@nymproject/nym-client-wasm/nym_client_wasm_bg.wasm")
printf '%s\n' "$res" | jq -r --argjson native "$native_ms" --argjson cns "$create_ns" --argjson ow "$official_wasm" '
	def f(x): (x * 100 | round) / 100;
	"bench_wasm: 1 MiB to nym-recv over one local mixnet (one Node process; Poisson and cover off)",
	"client                      ready ms   deliver ms   MB/s",
	"official wasm 1.4.1    \(.official.ready_ms | f(.) | tostring | .[0:9] | " " * (10 - length) + .)   \(.official.deliver_ms | f(.) | tostring | .[0:10] | " " * (11 - length) + .)   \(1.048576 / (.official.deliver_ms / 1000) | f(.))",
	"nymkit wasm            \(.nymkit.ready_ms | f(.) | tostring | .[0:9] | " " * (10 - length) + .)   \(.nymkit.deliver_ms | f(.) | tostring | .[0:10] | " " * (11 - length) + .)   \(1.048576 / (.nymkit.deliver_ms / 1000) | f(.))",
	"nymkit native nym-send          -   \($native | tostring | " " * (11 - length) + .)   \(1.048576 / ($native / 1000) | f(.))",
	"deliver: official / nymkit wasm = \(.official.deliver_ms / .nymkit.deliver_ms | f(.)) x faster (target >= 2)",
	"ready:   official / nymkit wasm = \(.official.ready_ms / .nymkit.ready_ms | f(.)) x faster (target >= 3)",
	".wasm:   \(.wasm_bytes) bytes vs the official \($ow) = 1/\($ow / .wasm_bytes | f(.)) (target <= 1/4)",
	"sphinx:  4-hop v259 creation \(.sphinx_wasm_us | f(.)) us in wasm, \($cns / 1000 | f(.)) us native = \(.sphinx_wasm_us * 1000 / $cns | f(.)) x (target <= 2)"'
mkdir -p "$O/bench"
printf '%s\n' "$res" | jq -r '1.048576 / (.official.deliver_ms / 1000)' >"$O/bench/official.mbps"
