# t/mixnet.bash — a local mixnet for the client tools' tests (nym-send,
# nym-recv, nym-cover): one nym-localnet per test file, clients per test.
# Load after helpers: `load helpers; load mixnet`.

# setup_file: bring the mixnet up (extra args go to nym-localnet up).
mixnet_up() {
	export MIXNET_DIR="$BATS_FILE_TMPDIR/net"
	local base
	base=$(free_port_range)
	nym-localnet up --dir "$MIXNET_DIR" --base-port "$base" "$@" > "$BATS_FILE_TMPDIR/up.json"
}

# teardown_file
mixnet_down() {
	nym-localnet down --dir "$MIXNET_DIR" >/dev/null 2>&1 || true
}

# In each test: the network's variables (NYM_API, NYM_DELAY_MEAN_MS, ...).
mixnet_env() {
	set -a
	. "$MIXNET_DIR/env"
	set +a
	export NYM_TOPOLOGY="$MIXNET_DIR/topology.json"
	MIXNET_API=$NYM_API
	unset NYM_API
}

# setup: a private home in the test's directory, the network's variables,
# and the clients NAME... (keys, gateway chosen).
mixnet_clients() {
	export HOME="$BATS_TEST_TMPDIR/home"
	export NYM_HOME_DIR="$HOME"
	unset NYM_ID
	mkdir -p "$HOME"
	cd "$BATS_TEST_TMPDIR"
	mixnet_env
	local n
	for n in "$@"; do client "$n"; done
}

# A client NAME; prints nothing.
client() {
	nym-keygen --id "$1" --gateway "$NYM_GATEWAY" >/dev/null 2>&1
}

# The full address of a registered client.
address() {
	nym-keygen --id "$1" --show --json | jq -r .address
}

# Start nym-recv for NAME in the background, output to $BATS_TEST_TMPDIR/NAME.out,
# and wait (20 s at most) until it is registered and its control socket answers.
recv_start() {
	local name=$1; shift
	# 3>&-: bats waits for every holder of its fd 3 before it ends
	nym-recv --id "$name" "$@" > "$BATS_TEST_TMPDIR/$name.out" 2> "$BATS_TEST_TMPDIR/$name.err" 3>&- &
	echo $! > "$BATS_TEST_TMPDIR/$name.pid"
	local sock="$HOME/.nym/clients/$name/data/control.sock"
	for _ in $(seq 400); do
		# up: registered and serving; or already done (--count met by stored messages)
		if grep -q "registered\|connected" "$BATS_TEST_TMPDIR/$name.err" 2>/dev/null &&
		    { [ -S "$sock" ] || ! kill -0 "$(cat "$BATS_TEST_TMPDIR/$name.pid")" 2>/dev/null; }; then
			return 0
		fi
		sleep 0.05
	done
	# say what it was doing: its stderr, whether it still runs, the gateway's last words
	echo "nym-recv $name did not come up in 20 s; its stderr:" >&2
	cat "$BATS_TEST_TMPDIR/$name.err" >&2
	ps -o pid=,stat=,etime=,args= -p "$(cat "$BATS_TEST_TMPDIR/$name.pid")" >&2 || echo "(not running)" >&2
	tail -n 5 "$MIXNET_DIR/gateway.log" >&2
	return 1
}

recv_stop() {
	local p
	p=$(cat "$BATS_TEST_TMPDIR/$1.pid" 2>/dev/null) || return 0
	kill "$p" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.05; done
	kill -9 "$p" 2>/dev/null || true
	# SIGKILL is asynchronous: the next test step must not meet the old process
	for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.05; done
}

# Wait (up to $2 seconds, default 20) for nym-recv NAME to exit; its status in $status.
recv_wait() {
	local p i n=$(( ${2:-20} * 20 ))
	p=$(cat "$BATS_TEST_TMPDIR/$1.pid")
	for i in $(seq $n); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$p" 2>/dev/null; then kill -9 "$p"; status=124; return 0; fi
	wait "$p" && status=0 || status=$?
	return 0
}

# Restart a node of the mixnet with the command line it was started with.
node_kill9() {
	local pid
	pid=$(cat "$MIXNET_DIR/$1.pid")
	ps -o args= -p "$pid" > "$MIXNET_DIR/$1.args"
	kill -9 "$pid"
}
# The subshell execs the node, so $! is the node's own pid and `nym-localnet down`
# stops it (setsid forked here, and the restarted node outlived the test).
node_restart() {
	( cd "$MIXNET_DIR" && exec $(cat "$MIXNET_DIR/$1.args") >> "$MIXNET_DIR/$1.log" 2>&1 3>&- < /dev/null ) &
	echo $! > "$MIXNET_DIR/$1.pid"
}

# sha256 of the data of JSON message number N (1-based) of a nym-recv --json output.
json_sha() {
	sed -n "${2}p" "$1" | jq -r .data | base64 -d | sha256sum | cut -d' ' -f1
}
