#!/usr/bin/env bats
# nym-send: messages through a local mixnet (nym-localnet), acknowledged,
# byte-identical at the other end; retransmission; failures.
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
}

@test "0 B, 1 B, 2 KiB and 1 MiB random messages arrive byte-identical (sha256), each acknowledged" {
	recv_start alice --json --count 4
	A=$(address alice)
	for n in 0 1 2048 1048576; do
		head -c "$n" /dev/urandom > "in.$n"
		run nym-send --id bob --to "$A" --file "in.$n" --rate 1000 --json --timeout 60
		assert_success
		echo "$output" | jq -e --argjson n "$n" '.ok and .size == $n and .packets >= 1 and .acknowledged == .packets'
	done
	recv_wait alice 20
	[ "$status" -eq 0 ]
	[ "$(wc -l < alice.out)" -eq 4 ]
	i=1
	for n in 0 1 2048 1048576; do
		[ "$(json_sha alice.out $i)" = "$(sha256sum < in.$n | cut -d' ' -f1)" ]
		sed -n "${i}p" alice.out | jq -e --argjson n "$n" '.size == $n'
		i=$((i + 1))
	done
}

@test "stdin is sent when no --file is given; the default Poisson rate works" {
	recv_start alice --count 1
	echo "hello through the mixnet" | nym-send --id bob --to "$(address alice)" --quiet
	recv_wait alice 10
	[ "$status" -eq 0 ]
	[ "$(cat alice.out)" = "hello through the mixnet" ]
}

@test "--packet-size extended8/16/32 with --no-poisson: fewer, larger packets, the same bytes" {
	recv_start alice --json --count 3
	head -c 200000 /dev/urandom > in
	for s in extended8 extended16 extended32; do
		run nym-send --id bob --to "$(address alice)" --file in --packet-size "$s" --no-poisson --json --timeout 30
		assert_success
		echo "$output" | jq -e '.ok' >/dev/null
		echo "$output" | jq -r .packets >> packets
	done
	[ "$(cat packets | tr '\n' ' ')" = "26 13 7 " ]
	recv_wait alice 10
	[ "$status" -eq 0 ]
	for i in 1 2 3; do [ "$(json_sha alice.out $i)" = "$(sha256sum < in | cut -d' ' -f1)" ]; done
}

@test "kill -9 of a mix node during a 1 MiB transfer, then restart: the message arrives whole and once" {
	recv_start alice --json
	head -c 1048576 /dev/urandom > big
	nym-send --id bob --to "$(address alice)" --file big --rate 300 --json --timeout 90 > send.json 2> send.err 3>&- &
	sender=$!
	sleep 1
	node_kill9 mix2
	sleep 2
	node_restart mix2
	wait "$sender" || { cat send.err >&2; false; }
	jq -e '.ok and .acknowledged == .packets' send.json
	# whole and once: exactly one message, the right one, even a while later
	sleep 2
	[ "$(wc -l < alice.out)" -eq 1 ]
	[ "$(json_sha alice.out 1)" = "$(sha256sum < big | cut -d' ' -f1)" ]
}

@test "packets lost while a mix node is down are retransmitted (new routes, same fragments)" {
	recv_start alice --json --count 1
	node_kill9 mix3
	head -c 20000 /dev/urandom > mid
	nym-send --id bob --to "$(address alice)" --file mid --no-poisson --json --timeout 60 > send.json 2> send.err 3>&- &
	sender=$!
	sleep 3
	node_restart mix3
	wait "$sender" || { cat send.err >&2; false; }
	jq -e '.ok and .retransmissions > 0' send.json
	recv_wait alice 10
	[ "$status" -eq 0 ]
	[ "$(json_sha alice.out 1)" = "$(sha256sum < mid | cut -d' ' -f1)" ]
}

@test "50 concurrent nym-send through the sender's nym-recv: every message arrives exactly once" {
	recv_start alice --json --count 50 --timeout 60
	recv_start bob
	A=$(address alice)
	pids=
	for i in $(seq 50); do
		echo "message $i" | nym-send --id bob --to "$A" --rate 200 --timeout 60 --quiet 3>&- &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p"; done
	recv_wait alice 30
	[ "$status" -eq 0 ]
	jq -r '.text | rtrimstr("\n")' alice.out > got
	[ "$(wc -l < got)" -eq 50 ]
	[ "$(sort got | uniq -d | wc -l)" -eq 0 ]
	for i in $(seq 50); do grep -qx "message $i" got; done
}

@test "--surbs: an anonymous message shows a sender tag (the one --json reports); --reply answers it" {
	recv_start alice --json
	recv_start bob --json
	run nym-send --id bob --to "$(address alice)" --surbs 5 --json --timeout 30 <<< "who are you?"
	assert_success
	tag=$(echo "$output" | jq -r .sender_tag)
	[ -n "$tag" ]
	[ "$tag" != null ]
	for _ in $(seq 300); do [ -s alice.out ] && break; sleep 0.05; done
	jq -e --arg t "$tag" '.text == "who are you?\n" and .sender_tag == $t' alice.out
	run nym-send --id alice --reply "$tag" --json --timeout 30 <<< "a friend"
	assert_success
	for _ in $(seq 300); do [ -s bob.out ] && break; sleep 0.05; done
	jq -e '.text == "a friend\n" and .sender_tag == null' bob.out
	# a tag nobody sent us
	run nym-send --id alice --reply zXExeyvPEHUk9rjXTu78T --timeout 10 <<< "x"
	assert_failure 1
	assert_output --partial "no reply SURBs for this sender tag"
}

@test "--reply after a restart of the replier's nym-recv: the SURBs were kept on disk (0600)" {
	recv_start alice --json
	recv_start bob --json
	run nym-send --id bob --to "$(address alice)" --surbs 10 --json --timeout 30 <<< "remember me"
	assert_success
	tag=$(echo "$output" | jq -r .sender_tag)
	for _ in $(seq 300); do [ -s alice.out ] && break; sleep 0.05; done
	jq -e --arg t "$tag" '.sender_tag == $t' alice.out
	surbs="$HOME/.nym/clients/alice/data/reply_surbs.dat"
	for _ in $(seq 100); do [ -s "$surbs" ] && break; sleep 0.05; done
	# killed, not asked to stop: what is on disk is what counts
	kill -9 "$(cat alice.pid)"
	recv_stop alice
	[ "$(stat -c %a "$surbs")" = 600 ]
	[ "$(head -c 8 "$surbs")" = NYMSURB1 ]
	recv_start alice --json
	run nym-send --id alice --reply "$tag" --json --timeout 30 <<< "still here"
	assert_success
	for _ in $(seq 300); do [ -s bob.out ] && break; sleep 0.05; done
	jq -e '.text == "still here\n" and .sender_tag == null' bob.out
}

@test "--reply needing more SURBs than it holds: a SurbRequest, answered with AdditionalSurbs, then the reply" {
	recv_start alice --json
	recv_start bob --json
	run nym-send --id bob --to "$(address alice)" --surbs 1 --json --timeout 30 <<< "one SURB only"
	assert_success
	tag=$(echo "$output" | jq -r .sender_tag)
	for _ in $(seq 300); do [ -s alice.out ] && break; sleep 0.05; done
	head -c 6000 /dev/urandom > long
	run nym-send --id alice --reply "$tag" --file long --json --timeout 30
	assert_success
	echo "$output" | jq -e '.ok and .packets >= 4'
	for _ in $(seq 300); do [ -s bob.out ] && break; sleep 0.05; done
	[ "$(json_sha bob.out 1)" = "$(sha256sum < long | cut -d' ' -f1)" ]
}

@test "--timeout: packets that cannot be acknowledged make it exit 1 and say how many" {
	node_kill9 mix1
	run nym-send --id bob --to "$(address bob)" --timeout 3 --no-poisson <<< "never"
	node_restart mix1
	assert_failure 1
	assert_output --partial "timed out after 3 s: 1 of 1 packets never acknowledged"
}

@test "an unreachable gateway: retried until --timeout, then exit 1 saying why" {
	port=$(free_port)
	start=$(date +%s)
	run --separate-stderr nym-send --id bob --to "$(address bob)" --gateway "ws://127.0.0.1:$port" --timeout 4 <<< "x"
	assert_failure 1
	[[ "$stderr" == *"reconnecting until the timeout"* ]]
	[[ "${stderr_lines[-1]}" == "nym-send: timed out after 4 s: 1 of 1 packets never acknowledged; the gateway is unreachable: cannot connect"* ]]
	[ $(($(date +%s) - start)) -ge 4 ]
	[ $(($(date +%s) - start)) -lt 10 ]
}

@test "the gateway away for 3 s mid-send: nym-send rides it out, the message arrives whole" {
	recv_start alice --count 1 --timeout 90
	head -c 300000 /dev/urandom > big
	nym-send --id bob --to "$(address alice)" --file big --rate 100 --timeout 60 --json > send.json 2> send.err 3>&- &
	sender=$!
	sleep 1.5
	node_kill9 gateway
	sleep 3
	node_restart gateway
	status=0
	wait "$sender" || status=$?
	[ "$status" -eq 0 ] || { cat send.err; false; }
	grep -q "gateway connection lost" send.err
	jq -e '.ok == true and .acknowledged == .packets' send.json
	recv_wait alice 60
	[ "$status" -eq 0 ]
	[ "$(sha256sum < alice.out)" = "$(sha256sum < big)" ]
}

@test "the gateway gone for good mid-send: exit 1 at --timeout with the count of unacknowledged packets" {
	recv_start alice
	head -c 300000 /dev/urandom > big
	nym-send --id bob --to "$(address alice)" --file big --rate 100 --timeout 6 --json > send.json 2> send.err 3>&- &
	sender=$!
	sleep 1.5
	node_kill9 gateway
	status=0
	wait "$sender" || status=$?
	node_restart gateway
	[ "$status" -eq 1 ]
	grep -q "the gateway is unreachable" send.err
	jq -e '.ok == false and .acknowledged < .packets' send.json
}

@test "a wrong address is a usage error; a gateway the network lacks is a failure" {
	run nym-send --id bob --to "not-an-address" <<< "x"
	assert_failure 2
	assert_output --partial "bad address 'not-an-address'"
	A=$(address alice)
	run nym-send --id bob --to "${A%@*}@9C6hybhQ6Aycep9jaUnP6uL9ZYvDjUp1aSkFWPUFJtpj" <<< "x"
	assert_failure 1
	assert_output --partial "the recipient's gateway 9C6hybhQ6Aycep9jaUnP6uL9ZYvDjUp1aSkFWPUFJtpj is not in the network"
}

@test "Ctrl-C: exit 1 saying what was not acknowledged; nothing partial is printed at the recipient" {
	recv_start alice --json
	head -c 500000 /dev/urandom > big
	nym-send --id bob --to "$(address alice)" --file big --rate 20 --timeout 60 > send.out 2> send.err 3>&- &
	sender=$!
	sleep 1.5
	kill -INT "$sender"
	status=0
	wait "$sender" || status=$?
	[ "$status" -eq 1 ]
	grep -q "interrupted: [0-9]* of [0-9]* packets not acknowledged" send.err
	sleep 1
	[ ! -s alice.out ]
}

@test "a full disk for the keys: registration cannot store the shared key, clear error" {
	client carol
	mnt="$BATS_TEST_TMPDIR/full"
	mkdir -p "$mnt"
	mount -t tmpfs -o size=64k tmpfs "$mnt"
	mkdir -p "$mnt/.nym/clients"
	cp -a "$HOME/.nym/clients/carol" "$mnt/.nym/clients/"
	dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null || true
	NYM_HOME_DIR="$mnt" run nym-send --id carol --to "$(address alice)" --timeout 10 <<< "x"
	umount "$mnt"
	assert_failure 1
	assert_output --partial "cannot store the gateway shared key"
	assert_output --partial "No space left on device"
}

@test "usage: --help, --version, missing --to, bad numbers" {
	run nym-send --help
	assert_success
	assert_output --partial "Usage: nym-send"
	run nym-send --version
	assert_success
	assert_output --partial "nym-send (nymkit)"
	run nym-send
	assert_failure 2
	run nym-send --to x --reply y
	assert_failure 2
	run nym-send --to "$(address alice)" --rate 0
	assert_failure 2
	run nym-send --to "$(address alice)" --packet-size huge
	assert_failure 2
	run nym-send --reply '0OIl' <<< "x"
	assert_failure 2
}

@test "a hung nym-api (accepts, never answers): --timeout 3 covers fetching the network, exit 1 within 4 s in one line" {
	hung_api_start
	t0=$(now_ms)
	run nym-send --id bob --api "$HUNG_API" --to "$(address alice)" --timeout 3 <<< "x"
	t=$(( $(now_ms) - t0 ))
	assert_failure 1
	[ "$t" -lt 4500 ] || fail "took $t ms"
	[ "${#lines[@]}" -eq 1 ] || fail "more than one line: $output"
	assert_output --partial "nym-send: timed out after 3 s: cannot get the network: GET $HUNG_API"
}
