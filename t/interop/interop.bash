# t/interop/interop.bash — the interop suite's shared pieces: the pinned npm packages, a
# fresh local mixnet per file (nym-localnet on 127.0.0.1), the official client (official.mjs)
# and nym-recv as background processes, and bounded waits on their JSON output.
# Load after ../helpers. Every wait ends at the test's own deadline (interop_deadline).

INTEROP_DIR=$(cd "$BATS_TEST_DIRNAME" && pwd)
# Run from the source tree without t/run: the tools are in ../../build/cmd.
if [ ! -x "$NYM_BIN/nym-send" ] && [ -x "$INTEROP_DIR/../../build/cmd/nym-send" ]; then
	NYM_BIN=$(cd "$INTEROP_DIR/../../build/cmd" && pwd)
	PATH="$NYM_BIN:$PATH"
fi

# ---------------------------------------------------------------- npm packages
# Installs the pinned packages (package-lock.json) when node_modules is missing or was made
# from another lock file. Fails, loudly, when it cannot: the suite never skips.
interop_npm() {
	local lock=$INTEROP_DIR/package-lock.json stamp=$INTEROP_DIR/node_modules/.nymkit-lock-sha256
	command -v node >/dev/null || { echo "interop: node is not installed (mk/deps.sh check installs it)" >&2; return 1; }
	command -v npm >/dev/null || { echo "interop: npm is not installed (mk/deps.sh check installs it)" >&2; return 1; }
	local want
	want=$(sha256sum <"$lock" | cut -c1-64)
	# flock on the lock file itself: two suites started at once install once.
	flock "$lock" sh -c '
		cd "$1" || exit 1
		[ "$(cat "$2" 2>/dev/null)" = "$3" ] &&
			[ -f node_modules/@nymproject/nym-client-wasm/nym_client_wasm_bg.wasm ] &&
			[ -f node_modules/@nymproject/mix-fetch/web-worker-0.js ] && exit 0
		echo "interop: installing the pinned npm packages (npm ci) in $1" >&2
		npm ci --no-audit --no-fund --loglevel=error >&2 || { echo "interop: npm ci failed" >&2; exit 1; }
		printf "%s\n" "$3" >"$2"
	' sh "$INTEROP_DIR" "$stamp" "$want" || return 1
	# The module must load in this Node (on Node 18 through env.mjs's Web Crypto shim);
	# checked once per Node version and install.
	local loads
	loads=$INTEROP_DIR/node_modules/.nymkit-loads-$(node --version)
	[ -f "$loads" ] && return 0
	(cd "$INTEROP_DIR" && node --input-type=module -e '
		import { loadOfficialClient } from "./lib/env.mjs";
		const { nym } = await loadOfficialClient();
		if (typeof nym.NymClient !== "function") throw new Error("no NymClient export");
	' >/dev/null) || { echo "interop: the official client does not load under node $(node --version)" >&2; return 1; }
	: >"$loads"
}

# ---------------------------------------------------------------- deadlines
# interop_deadline SECS: this test's own time limit; every wait below stops at it.
interop_deadline() { INTEROP_DEADLINE=$((SECONDS + $1)); }
interop_left() { echo $((${INTEROP_DEADLINE:-$((SECONDS + 30))} - SECONDS)); }

# ---------------------------------------------------------------- local mixnet
# localnet_up [nym-localnet options]: a fresh mixnet in $BATS_FILE_TMPDIR/net with zero delays
# (the nodes forward at once), for setup_file. Exports INTEROP_API, INTEROP_NET, INTEROP_GW.
localnet_up() {
	INTEROP_NET=$BATS_FILE_TMPDIR/net
	local try base out
	for try in 1 2 3; do
		base=$(free_port_range)
		[ -n "$base" ] || { echo "interop: no free ports" >&2; return 1; }
		if out=$(nym-localnet up --dir "$INTEROP_NET" --base-port "$base" --delay-mean 0 \
			--max-delay 0 --json "$@" 2>"$BATS_FILE_TMPDIR/localnet.err"); then
			break
		fi
		out=
		nym-localnet down --dir "$INTEROP_NET" >/dev/null 2>&1
	done
	[ -n "$out" ] || { echo "interop: nym-localnet up failed:" >&2; cat "$BATS_FILE_TMPDIR/localnet.err" >&2; return 1; }
	INTEROP_API=$(jq -r .api_url <<<"$out")
	INTEROP_GW=$(jq -r .gateway.identity_key <<<"$out")
	export INTEROP_NET INTEROP_API INTEROP_GW
	# nymkit's clients pick their hop delays from this, as on this network's env file.
	export NYM_DELAY_MEAN_MS=0
}

localnet_down() {
	[ -n "${INTEROP_NET:-}" ] && [ -d "$INTEROP_NET" ] || return 0
	nym-localnet down --dir "$INTEROP_NET"
}

# The last stats line of a node (gateway, mix1..3) as JSON.
node_stats() { tail -n 1 "$INTEROP_NET/$1.stats"; }

# ---------------------------------------------------------------- background processes
# Each test's background processes are listed in $BATS_TEST_TMPDIR/pids and ended in
# teardown, by their ids.
track() { echo "$1" >>"$BATS_TEST_TMPDIR/pids"; }

stop_tracked() {
	local f=$BATS_TEST_TMPDIR/pids p i
	[ -f "$f" ] || return 0
	for p in $(cat "$f"); do kill "$p" 2>/dev/null; done
	for i in $(seq 40); do
		local left=
		for p in $(cat "$f"); do running "$p" && left=1; done
		[ -z "$left" ] && break
		sleep 0.05
	done
	for p in $(cat "$f"); do running "$p" && kill -9 "$p" 2>/dev/null; done
	rm -f "$f"
}

teardown() {
	stop_tracked
	# Say what the processes said, for a failing test.
	local f
	for f in "$BATS_TEST_TMPDIR"/official-*/err "$BATS_TEST_TMPDIR"/recv-*/err; do
		[ -f "$f" ] && { echo "--- $f (tail)"; tail -n 15 "$f"; }
	done
	return 0
}

# wait_json FILE JQ-FILTER [COUNT]: wait (until the deadline) for COUNT (default 1) JSON lines
# of FILE that pass the filter; print them. Lines still being written are ignored.
wait_json() {
	local file=$1 filter=$2 count=${3:-1} got
	while :; do
		got=$(jq -cR "fromjson? | $filter" "$file" 2>/dev/null)
		if [ -n "$got" ] && [ "$(printf '%s\n' "$got" | wc -l)" -ge "$count" ]; then
			printf '%s\n' "$got" | head -n "$count"
			return 0
		fi
		if [ "$(interop_left)" -le 0 ]; then
			echo "interop: timed out waiting for $count × '$filter' in $file; it has:" >&2
			tail -c 2000 "$file" >&2
			return 1
		fi
		sleep 0.1
	done
}

# wait_line FILE REGEX: wait for a line of FILE matching REGEX (grep -E).
wait_line() {
	while ! grep -Eq "$2" "$1" 2>/dev/null; do
		if [ "$(interop_left)" -le 0 ]; then
			echo "interop: timed out waiting for /$2/ in $1; it has:" >&2
			tail -c 2000 "$1" >&2
			return 1
		fi
		sleep 0.05
	done
}

# ---------------------------------------------------------------- the official client
# official_start NAME [official.mjs options]: start it against the local mixnet, wait until it
# is ready; sets OFFICIAL_ADDR. Its events go to $BATS_TEST_TMPDIR/official-NAME/out.
official_start() {
	local name=$1 d=$BATS_TEST_TMPDIR/official-$1
	shift
	mkdir -p "$d" && mkfifo "$d/in" || return 1
	(cd "$INTEROP_DIR" && exec node official.mjs --api "$INTEROP_API" --client-id "$name" \
		--duration 110 "$@") <"$d/in" >"$d/out" 2>"$d/err" 3>&- &
	track $!
	# Holds the command pipe open between commands.
	sleep 120 >"$d/in" 3>&- &
	track $!
	wait_json "$d/out" 'select(.event == "ready" or .event == "error")' >/dev/null || return 1
	OFFICIAL_ADDR=$(jq -r 'select(.event == "ready") | .address' "$d/out")
	[ -n "$OFFICIAL_ADDR" ] || { echo "interop: the official client did not start:" >&2; cat "$d/out" "$d/err" >&2; return 1; }
}

# official_cmd NAME JSON: one command line to the official client.
official_cmd() { printf '%s\n' "$2" >"$BATS_TEST_TMPDIR/official-$1/in"; }

official_out() { echo "$BATS_TEST_TMPDIR/official-$1/out"; }

# ---------------------------------------------------------------- nymkit's client
# recv_start NAME [nym-recv options]: keys for NAME at the local gateway, nym-recv --json for
# it in the background, waiting until it is connected; sets RECV_ADDR.
recv_start() {
	local name=$1 d=$BATS_TEST_TMPDIR/recv-$1
	shift
	mkdir -p "$d"
	[ -f "$NYM_HOME_DIR/.nym/clients/$name/data/private_identity.pem" ] ||
		nym-keygen --id "$name" --gateway "$INTEROP_GW" >/dev/null || return 1
	nym-recv --id "$name" --api "$INTEROP_API" --json --no-cover "$@" >"$d/out" 2>"$d/err" 3>&- &
	track $!
	wait_line "$d/err" ' (registered at the gateway|connected) as ' || return 1
	RECV_ADDR=$(nym-keygen --id "$name" --show --json | jq -r .address)
}

recv_out() { echo "$BATS_TEST_TMPDIR/recv-$1/out"; }

# ---------------------------------------------------------------- bytes
hexof() { od -An -v -tx1 "$1" | tr -d ' \n'; }
hexs() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
sha256of() { sha256sum "$1" | cut -c1-64; }
