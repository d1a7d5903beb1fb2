#!/usr/bin/env bats
# nym-recv: messages printed whole, once, in the chosen format; stored
# messages on start; the control socket; exit codes.
load helpers
load mixnet

setup_file() {
	mixnet_up
}

teardown_file() {
	mixnet_down
}

setup() {
	mixnet_clients alice bob
}

teardown() {
	for n in alice bob; do recv_stop "$n"; done
	[ -z "${HUNG_API_PID:-}" ] || kill "$HUNG_API_PID" 2>/dev/null || true
	if [ -e "$BATS_TEST_TMPDIR/mounted" ]; then umount "$(cat "$BATS_TEST_TMPDIR/mounted")"; fi
}

send() { # TO-NAME, stdin
	nym-send --id bob --to "$(address "$1")" --rate 500 --timeout 30 --quiet
}

@test "first start registers at the gateway: shared key stored 0600 beside the keys" {
	recv_start alice
	grep -q "registered at the gateway as $(address alice)" alice.err
	key="$HOME/.nym/clients/alice/data/gateway_shared_key.pem"
	[ "$(stat -c %a "$key")" = 600 ]
	grep -q "BEGIN AES-256-GCM-SIV GATEWAY SHARED KEY" "$key"
	recv_stop alice
	# the next start authenticates with the stored key
	recv_start alice
	grep -q "connected as" alice.err
}

@test "--json: size, data (base64), text only for UTF-8, sender_tag null" {
	recv_start alice --json --count 2
	printf 'caf\xc3\xa9' | send alice
	printf '\xff\xfe\x00' | send alice
	recv_wait alice 10
	[ "$status" -eq 0 ]
	sed -n 1p alice.out | jq -e '.size == 5 and .data == "Y2Fmw6k=" and .text == "café" and .sender_tag == null'
	sed -n 2p alice.out | jq -e '.size == 3 and .data == "//4A" and (has("text") | not) and .sender_tag == null'
	# keys in this order, one object per line
	sed -n 1p alice.out | grep -q '^{"size":5,"data":"Y2Fmw6k=","text":"caf\\u00E9","sender_tag":null}$'
}

@test "raw output by default, -0 puts a NUL after each message" {
	recv_start alice -0 --count 2
	printf 'one' | send alice
	printf 'two' | send alice
	recv_wait alice 10
	[ "$status" -eq 0 ]
	[ "$(od -An -c alice.out | tr -s ' ')" = " o n e \0 t w o \0" ]
}

@test "nym-recv stopped, three messages sent, nym-recv started again: all three arrive" {
	recv_start alice
	recv_stop alice
	for m in first second third; do echo "$m" | send alice; done
	recv_start alice --json --count 3
	recv_wait alice 10
	[ "$status" -eq 0 ]
	[ "$(jq -r '.text' alice.out | grep -c .)" -eq 3 ]
	for m in first second third; do jq -r .text alice.out | grep -qx "$m"; done
}

@test "--count 1 with three messages stored: one printed, the others kept for the next nym-recv" {
	recv_start alice
	recv_stop alice
	for m in first second third; do echo "$m" | send alice; done
	# the gateway pushes all three at once and forgets them
	recv_start alice --json --count 1
	recv_wait alice 10
	[ "$status" -eq 0 ]
	[ "$(grep -c . alice.out)" -eq 1 ]
	jq -r .text alice.out > texts
	run nym-recv --id alice --json --count 2 --timeout 15 --quiet
	assert_success
	echo "$output" | jq -r .text >> texts
	# each once, none lost (echo's newline makes every text end in an empty line)
	[ "$(grep . texts | sort | tr '\n' ' ')" = "first second third " ]
}

@test "stdout full (/dev/full): exit 1, the message is kept and printed by the next nym-recv" {
	recv_start alice
	recv_stop alice
	echo "not lost" | send alice
	run sh -c 'nym-recv --id alice --count 1 --timeout 15 --quiet > /dev/full'
	assert_failure 1
	assert_output --partial "nym-recv: cannot write to stdout: No space left on device"
	[ -s "$HOME/.nym/clients/alice/data/held" ]
	run nym-recv --id alice --count 1 --timeout 15 --quiet
	assert_success
	assert_output "not lost"
	[ ! -e "$HOME/.nym/clients/alice/data/held" ]
}

@test "stdout on a full filesystem: no half record (--json, -0, raw); the message is kept and printed whole next time" {
	[ "$(id -u)" -eq 0 ] || skip "mounting a tmpfs needs root"
	mkdir fs
	mount -t tmpfs -o size=64k tmpfs fs
	echo "$BATS_TEST_TMPDIR/fs" > mounted
	head -c 5000 /dev/urandom | base64 -w0 > msg # a JSON line of ~9 KiB
	recv_start alice
	recv_stop alice
	for mode in --json -0 ""; do
		send alice < msg
		rm -f fs/*
		# all but one page (4 KiB) taken: the record does not fit
		head -c $((60 * 1024)) /dev/zero > fs/fill 2> /dev/null || true
		run --separate-stderr sh -c "nym-recv --id alice $mode --count 1 --timeout 15 --quiet > fs/out"
		assert_failure 1
		[ "$(stat -c %s fs/out)" -eq 0 ] # nothing of the record
		[ "${#stderr_lines[@]}" -eq 1 ]
		assert_equal "$stderr" "nym-recv: cannot write to stdout: No space left on device; the message is kept for the next nym-recv"
		run --separate-stderr nym-recv --id alice $mode --count 1 --timeout 15 --quiet
		assert_success
		case $mode in
		--json) assert_equal "$(jq -r .text <<<"$output")" "$(cat msg)";;
		-0) assert_equal "$output" "$(cat msg)";; # bash drops the NUL
		*) assert_equal "$output" "$(cat msg)";;
		esac
		[ ! -e "$HOME/.nym/clients/alice/data/held" ]
	done
}

@test "a message reaching nym-send's own gateway connection is kept for nym-recv, not dropped" {
	recv_start alice
	recv_stop alice
	echo "for alice" | send alice
	# alice sends without a nym-recv: her own connection gets the stored message
	run sh -c "echo 'for bob' | nym-send --id alice --to '$(address bob)' --rate 500 --timeout 30"
	assert_success
	assert_output --partial "nym-send: a message for this identity arrived (10 bytes); kept for nym-recv"
	run nym-recv --id alice --count 1 --timeout 15 --quiet
	assert_success
	assert_output "for alice"
}

@test "retransmitted copies of a printed message are not printed again (mix node paused, then resumed)" {
	recv_start alice --json
	kill -STOP "$(cat "$MIXNET_DIR/mix1.pid")"
	echo "only once" | nym-send --id bob --to "$(address alice)" --no-poisson --json --timeout 30 \
		> send.json 2> send.err 3>&- &
	sender=$!
	sleep 4   # the ack timeout passes: copies of the packet queue up behind mix1
	kill -CONT "$(cat "$MIXNET_DIR/mix1.pid")"
	wait "$sender"
	jq -e '.ok and .retransmissions >= 1' send.json
	sleep 1
	[ "$(wc -l < alice.out)" -eq 1 ]
	jq -e '.text == "only once\n"' alice.out
	# remembered for restarts: one 24-byte record per printed message
	[ "$(stat -c %s "$HOME/.nym/clients/alice/data/received.seen")" -eq 24 ]
}

@test "--count and --timeout: exit 0 at the count, 1 when the timeout comes first, 0 on a bare timeout" {
	recv_start alice --count 2 --timeout 2
	echo "only one" | send alice
	recv_wait alice 10
	[ "$status" -eq 1 ]
	grep -q "timed out after 2 s with 1 of 2 messages" alice.err
	recv_start alice --timeout 1
	recv_wait alice 10
	[ "$status" -eq 0 ]
}

@test "one nym-recv per identity: a second one is refused; its control socket is 0600" {
	recv_start alice
	sock="$HOME/.nym/clients/alice/data/control.sock"
	[ "$(stat -c %a "$sock")" = 600 ]
	run nym-recv --id alice --timeout 5
	assert_failure 1
	assert_output --partial "another nym-recv already serves identity 'alice'"
	recv_stop alice
	[ ! -e "$sock" ]
}

@test "a stale control socket (nym-recv killed -9) is replaced" {
	recv_start alice
	kill -9 "$(cat alice.pid)"
	sleep 0.2
	[ -S "$HOME/.nym/clients/alice/data/control.sock" ]
	recv_start alice --count 1
	echo "after a crash" | send alice
	recv_wait alice 10
	[ "$status" -eq 0 ]
	[ "$(cat alice.out)" = "after a crash" ]
}

@test "SIGTERM stops it with exit 0; no partial message is ever printed" {
	recv_start alice
	head -c 400000 /dev/urandom > big
	nym-send --id bob --to "$(address alice)" --file big --rate 50 --timeout 30 --quiet 3>&- &
	sender=$!
	sleep 1
	kill -TERM "$(cat alice.pid)"
	recv_wait alice 5
	[ "$status" -eq 0 ]
	[ ! -s alice.out ]
	kill "$sender" 2>/dev/null || true
	wait "$sender" || true
}

@test "the gateway down and back: nym-recv keeps trying, says when it is back, then receives" {
	recv_start alice
	node_kill9 gateway
	for _ in $(seq 200); do grep -q "reconnecting" alice.err && break; sleep 0.05; done
	grep -q "gateway connection lost" alice.err
	sleep 2
	node_restart gateway
	for _ in $(seq 400); do grep -q "the gateway is back" alice.err && break; sleep 0.05; done
	grep -q "nym-recv: the gateway is back after [0-9.]* s: connected as $(address alice)" alice.err
	echo "after the outage" | send alice
	for _ in $(seq 300); do [ -s alice.out ] && break; sleep 0.05; done
	[ "$(cat alice.out)" = "after the outage" ]
}

@test "an unknown identity and a missing network are clear errors" {
	run nym-recv --id nobody --timeout 1
	assert_failure 1
	assert_output --partial "no client 'nobody'"
	assert_output --partial "nym-keygen --id nobody"
	unset NYM_TOPOLOGY
	run nym-recv --id alice --timeout 1
	assert_failure 2
	assert_output --partial "no network"
}

@test "an unreachable gateway: it keeps retrying (a receiver does), --timeout still ends it" {
	port=$(free_port)
	run nym-recv --id alice --gateway "ws://127.0.0.1:$port" --timeout 2
	assert_success
	assert_output --partial "reconnecting"
}

@test "wss://: certificate verified (NYM_CA_FILE to trust a local CA); an untrusted one is a TLS failure" {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem \
		-out cert.pem -days 1 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
	# a TLS listener with the localnet gateway's identity (registration checks it)
	port=$(free_port)
	mport=$(free_port)
	nym-gateway --keys "$MIXNET_DIR/keys/gateway" --listen "127.0.0.1:$port" --mix-listen "127.0.0.1:$mport" \
		--inbox "$BATS_TEST_TMPDIR/tls.sqlite" --cert cert.pem --key key.pem > tls.log 2>&1 3>&- &
	gwpid=$!
	for _ in $(seq 100); do grep -q "clients on wss" tls.log && break; sleep 0.05; done
	NYM_CA_FILE="$PWD/cert.pem" run nym-recv --id alice --gateway "wss://localhost:$port" --timeout 2 --no-cover
	assert_success
	assert_output --partial "registered at the gateway as $(address alice)"
	# nym-send retries a gateway it cannot reach until its --timeout, then says why
	run nym-send --id bob --to "$(address alice)" --gateway "wss://localhost:$port" --timeout 4 <<< "x"
	kill "$gwpid"
	assert_failure 1
	assert_output --partial "TLS failure"
	assert_output --partial "timed out after 4 s: 1 of 1 packets never acknowledged; the gateway is unreachable: TLS failure"
}

@test "--api: the network is fetched again while it runs (NYM_TOPOLOGY_REFRESH), and it keeps working" {
	api=$MIXNET_API
	unset NYM_TOPOLOGY
	NYM_TOPOLOGY_REFRESH=0.5 recv_start alice --api "$api" --count 1 --json
	sleep 1.5
	echo "after refreshes" | nym-send --id bob --api "$api" --to "$(address alice)" --timeout 20 --quiet
	recv_wait alice 10
	[ "$status" -eq 0 ]
	jq -e '.text == "after refreshes\n"' alice.out
	run ! grep -q "refresh failed" alice.err
}

@test "--api: a refresh that hangs (the nym-api accepts, never answers) does not stop nym-recv: it receives meanwhile" {
	hung_api_start "$MIXNET_API" "$BATS_TEST_TMPDIR/hang"
	unset NYM_TOPOLOGY
	NYM_TOPOLOGY_REFRESH=0.5 recv_start alice --api "$HUNG_API" --json
	touch "$BATS_TEST_TMPDIR/hang"
	sleep 1.5 # a refresh hangs now
	echo "while it hangs" | nym-send --id bob --topology "$MIXNET_DIR/topology.json" --to "$(address alice)" \
		--timeout 20 --quiet
	for _ in $(seq 40); do [ -s alice.out ] && break; sleep 0.1; done
	jq -e '.text == "while it hangs\n"' alice.out
	# --timeout of nym-recv covers fetching the network too
	t0=$(now_ms)
	run nym-recv --id bob --api "$HUNG_API" --timeout 2
	t=$(( $(now_ms) - t0 ))
	assert_failure 1
	[ "$t" -lt 3500 ] || fail "took $t ms"
	assert_output --partial "nym-recv: timed out after 2 s: cannot get the network"
}

@test "usage: --help, --version, bad numbers" {
	run nym-recv --help
	assert_success
	assert_output --partial "Usage: nym-recv"
	run nym-recv --version
	assert_success
	run nym-recv --count 0
	assert_failure 2
	run nym-recv --timeout -1
	assert_failure 2
	run nym-recv extra
	assert_failure 2
}
