#!/usr/bin/env bats
# nym-localnet: a whole mixnet on 127.0.0.1, up, used, inspected, down.
load helpers

teardown() {
	nym-localnet down --dir "$BATS_TEST_TMPDIR/net" >/dev/null 2>&1 || true
}

# Wait (5 s at most) until the JQ expression holds on `status --json`.
wait_status() {
	for _ in $(seq 100); do
		nym-localnet status --dir "$BATS_TEST_TMPDIR/net" --json 2>/dev/null | jq -e "$1" >/dev/null && return 0
		sleep 0.05
	done
	nym-localnet status --dir "$BATS_TEST_TMPDIR/net" --json >&2
	return 1
}

@test "up --json: API URL, gateway and nodes, all answering, in well under a few seconds" {
	BASE=$(free_port_range)
	start=$(date +%s%N)
	run nym-localnet up --dir "$BATS_TEST_TMPDIR/net" --base-port "$BASE" --json
	ms=$((($(date +%s%N) - start) / 1000000))
	assert_success
	echo "# up took $ms ms" >&3
	[ "$ms" -lt 3000 ]
	echo "$output" | jq -e --arg b "$BASE" '
		.api_url == "http://127.0.0.1:\($b)/" and
		(.gateway.identity_key | length) >= 43 and
		.gateway.ws_url == "ws://127.0.0.1:\($b | tonumber + 5)" and
		(.nodes | length) == 4 and
		([.nodes[].name] == ["mix1","mix2","mix3","gateway"]) and
		([.nodes[].mix_port] == [($b|tonumber)+1, ($b|tonumber)+2, ($b|tonumber)+3, ($b|tonumber)+4]) and
		all(.nodes[]; .pid > 0)'
	for pid in $(echo "$output" | jq -r '.nodes[].pid, .api.pid'); do kill -0 "$pid"; done
	# the served API answers with the topology; the files are valid
	run nym-topology --api "http://127.0.0.1:$BASE/" --json
	assert_success
	echo "$output" | jq -e '(.layers["1"] | length) == 1 and (.gateways | length) == 1'
	run nym-topology --file "$BATS_TEST_TMPDIR/net/custom-mixnet.json" --json
	assert_success
	jq -e '(.nodes | length) == 4 and .rotation_id == 0 and
		([.nodes[] | select(.role == "gateway")][0].ws_port == ('"$BASE"' + 5)) and
		all(.nodes[]; (.sphinx_secret_hex | length) == 64 and (.identity_secret_hex | length) == 64)' \
		"$BATS_TEST_TMPDIR/net/network.json"
	for n in mix1 mix2 mix3 gateway api; do [ -s "$BATS_TEST_TMPDIR/net/$n.log" ] || [ "$n" = api ]; done
}

@test "status: running and counters; a packet crosses the three mix nodes to the gateway" {
	BASE=$(free_port_range)
	nym-localnet up --dir "$BATS_TEST_TMPDIR/net" --base-port "$BASE" >/dev/null
	run nym-localnet status --dir "$BATS_TEST_TMPDIR/net"
	assert_success
	assert_output --partial "mix1 pid"
	assert_output --partial "running"
	refute_output --partial "stopped"
	# a client of this gateway, and a packet to it along the topology's route
	GW=$(nym-localnet status --dir "$BATS_TEST_TMPDIR/net" --json | jq -r .gateway.identity_key)
	ADDR=$(nym-keygen --dir "$BATS_TEST_TMPDIR/client" --gateway "$GW" | tail -1)
	nym-topology route --topology "$BATS_TEST_TMPDIR/net/topology.json" --to "$ADDR" >route.json
	jq -e '(.hops | length) == 4' route.json
	printf 'through the localnet' | nym-sphinx-wrap --route route.json --delay-mean 5 >packet.bin
	{ printf '\010\001\000\000'; cat packet.bin; } >"/dev/tcp/127.0.0.1/$((BASE + 1))"
	wait_status 'all(.nodes[] | select(.role == "mixnode"); .stats.forwarded == 1 and .stats.sent == 1)'
	wait_status '.nodes[3].stats.final_hop_received == 1'
}

@test "down stops everything; status then says stopped and fails; up again reuses the keys" {
	BASE=$(free_port_range)
	run nym-localnet up --dir "$BATS_TEST_TMPDIR/net" --base-port "$BASE" --json
	assert_success
	gw=$(echo "$output" | jq -r .gateway.identity_key)
	pids=$(echo "$output" | jq -r '.nodes[].pid, .api.pid')
	run nym-localnet up --dir "$BATS_TEST_TMPDIR/net" --base-port "$BASE"
	assert_failure 1
	assert_output --partial "already running"
	run nym-localnet down --dir "$BATS_TEST_TMPDIR/net"
	assert_success
	for pid in $pids; do run ! running "$pid"; done
	run nym-localnet status --dir "$BATS_TEST_TMPDIR/net" --json
	assert_failure 1
	echo "$output" | jq -e 'all(.nodes[]; .running == false) and .api.running == false'
	run nym-localnet down --dir "$BATS_TEST_TMPDIR/net"
	assert_success
	run nym-localnet up --dir "$BATS_TEST_TMPDIR/net" --base-port "$BASE" --json
	assert_success
	[ "$(echo "$output" | jq -r .gateway.identity_key)" = "$gw" ]
}

@test "a port already taken: up fails with the node's own words and leaves nothing running" {
	BASE=$(free_port_range)
	python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(8)' \
		$((BASE + 2)) &
	blocker=$!
	sleep 0.3
	run nym-localnet up --dir "$BATS_TEST_TMPDIR/net" --base-port "$BASE"
	kill "$blocker"
	assert_failure 1
	assert_output --partial "mix2 did not start"
	assert_output --partial "Address already in use"
	run nym-localnet status --dir "$BATS_TEST_TMPDIR/net"
	assert_failure 1
	refute_output --partial " running"
}

@test "usage: commands and options" {
	run nym-localnet
	assert_failure 2
	run nym-localnet sideways
	assert_failure 2
	assert_output --partial "unknown command"
	run nym-localnet up --base-port 99999
	assert_failure 2
	run nym-localnet up --delay-mean soon
	assert_failure 2
	run nym-localnet status --base-port 12000
	assert_failure 2
	run nym-localnet status --dir "$BATS_TEST_TMPDIR/none"
	assert_failure 1
	assert_output --partial "no local mixnet here"
	run nym-localnet --help
	assert_success
	assert_output --partial "Usage: nym-localnet up"
	run nym-localnet --version
	assert_success
	assert_output --partial "nymkit"
}

@test "--delay-mean and --max-delay reach the env file and the nodes" {
	BASE=$(free_port_range)
	run nym-localnet up --dir "$BATS_TEST_TMPDIR/net" --base-port "$BASE" --delay-mean 0 --max-delay 0 --json
	assert_success
	echo "$output" | jq -e '.delay_mean_ms == 0'
	grep -q '^NYM_DELAY_MEAN_MS=0$' "$BATS_TEST_TMPDIR/net/env"
	grep -q "^NYM_API=http://127.0.0.1:$BASE/\$" "$BATS_TEST_TMPDIR/net/env"
	pid=$(echo "$output" | jq -r '.nodes[0].pid')
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- '--max-delay 0'
}
