#!/usr/bin/env bats
# Bandwidth at the gateway, as the clients meet it: a gateway that takes only zk-nym
# credentials (nym-gateway --enforce-zk-nyms), and a free allowance that runs out in the
# middle of a transfer (nym-gateway --free-bandwidth, small). Each test brings up its own
# local mixnet, with zero mix delays.
load helpers

# net_up NAME [nym-localnet up options]: a mixnet in $BATS_TEST_TMPDIR/NAME, its env loaded.
net_up() {
	local dir=$BATS_TEST_TMPDIR/$1; shift
	export HOME="$BATS_TEST_TMPDIR/home" NYM_HOME_DIR="$BATS_TEST_TMPDIR/home"
	NET=$dir
	nym-localnet up --dir "$dir" --base-port "$(free_port_range)" --delay-mean 0 --max-delay 0 \
		"$@" --json > "$BATS_TEST_TMPDIR/up.json"
	. "$dir/env"
	GW=$(jq -r .gateway.identity_key "$BATS_TEST_TMPDIR/up.json")
}

teardown() {
	[ -n "${RECV:-}" ] && kill "$RECV" 2>/dev/null
	[ -n "${NET:-}" ] && nym-localnet down --dir "$NET" >/dev/null 2>&1
	true
}

@test "a gateway that takes only zk-nym credentials: nym-send, nym-recv and nym-client exit 1 at once, and say so" {
	net_up zk --enforce-zk-nyms
	nym-keygen --id a >/dev/null 2>&1
	nym-keygen --id b --gateway "$GW" >/dev/null 2>&1
	to=$(nym-keygen --id b --show --json | jq -r .address)
	SECONDS=0
	run --separate-stderr timeout 20 nym-send --id a --api "$NYM_API" --to "$to" --timeout 15 <<<"hi"
	assert_failure 1
	[ "$SECONDS" -lt 15 ]
	assert_equal "$(printf '%s\n' "$stderr" | grep -c .)" 1
	assert_equal "$stderr" 'nym-send: the gateway requires zk-nym credentials for bandwidth (it answers "This gateway is only accepting coconut credentials for bandwidth"), which nymkit does not have; use another gateway: nym-keygen --id NAME --gateway ID --force'
	SECONDS=0
	run --separate-stderr timeout 20 nym-recv --id b --api "$NYM_API"
	assert_failure 1
	[ "$SECONDS" -lt 15 ]
	[[ "$stderr" == *"nym-recv: the gateway requires zk-nym credentials for bandwidth"* ]]
	SECONDS=0
	run --separate-stderr timeout 20 nym-client init --id c --api "$NYM_API" --gateway "$GW"
	assert_failure 1
	[ "$SECONDS" -lt 15 ]
	[[ "$stderr" == *"nym-client: the gateway requires zk-nym credentials for bandwidth"* ]]
}

@test "the allowance runs out mid-transfer: claimed again once per episode, the message arrives whole, no packet forwarded twice" {
	net_up small --free-bandwidth 100000 --capture "$BATS_TEST_TMPDIR/cap"
	nym-keygen --id a >/dev/null 2>&1
	nym-keygen --id b >/dev/null 2>&1
	nym-recv --id b --api "$NYM_API" --count 1 --json > b.out 2> b.err 3>&- &
	RECV=$!
	for _ in $(seq 200); do grep -q registered b.err && break; sleep 0.05; done
	to=$(nym-keygen --id b --show --json | jq -r .address)
	head -c 200000 /dev/urandom > in
	# 200 kB is 125 packets of 2413 bytes: about 300 kB through a 100 kB allowance
	run --separate-stderr timeout 60 nym-send --id a --api "$NYM_API" --to "$to" --file in --timeout 40 --json
	assert_success
	echo "$output" | jq -e '.packets == 125 and .acknowledged == 125'
	sent=$(echo "$output" | jq '.packets + .retransmissions')
	for _ in $(seq 200); do [ -s b.out ] && break; sleep 0.05; done
	jq -r .data b.out | base64 -d | cmp - in
	# it ran out, and claimed again once per time it ran out, not once per refused packet
	episodes=$(printf '%s\n' "$stderr" | grep -c 'out of bandwidth (claiming more)')
	[ "$episodes" -ge 1 ]
	[ "$episodes" -le $(( sent * 2413 / 100000 + 1 )) ]
	# the gateway forwarded each packet once: all of a's (and its cover on idle ticks), none twice
	me=$(nym-keygen --id a --show --json | jq -r .address); me=${me%%.*}
	[ "$(jq -r --arg c "$me" 'select(.client == $c) | .file' "$BATS_TEST_TMPDIR/cap/packets.jsonl" | wc -l)" -ge "$sent" ]
	assert_equal "$(cd "$BATS_TEST_TMPDIR/cap" && sha256sum pkt-*.bin | cut -d' ' -f1 | sort | uniq -d | wc -l)" 0
}
