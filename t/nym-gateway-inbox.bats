#!/usr/bin/env bats
# nym-gateway's inbox bounds: bytes per client that is away (--inbox-quota),
# bytes in all (--inbox-total), registered clients (--max-clients). Past a
# bound a packet is dropped without its SURB-ack: the sender retransmits and
# reports it not acknowledged; nothing acknowledged is lost.
load helpers
load mixnet

setup_file() {
	mixnet_up
}

teardown_file() {
	mixnet_down
}

setup() {
	mixnet_clients alice bob carol
}

teardown() {
	for n in alice bob carol; do recv_stop "$n"; done
}

# Restart the gateway with extra options.
gateway_with() {
	node_kill9 gateway
	sleep 0.2
	sed -i 's/ --inbox-quota [0-9]*\| --inbox-total [0-9]*\| --max-clients [0-9]*//g' "$MIXNET_DIR/gateway.args"
	printf '%s %s\n' "$(cat "$MIXNET_DIR/gateway.args")" "$*" > "$MIXNET_DIR/gateway.args"
	node_restart gateway
	for _ in $(seq 100); do grep -q "gateway .*: clients on" "$MIXNET_DIR/gateway.log" && break; sleep 0.05; done
	sleep 0.5
}

# The most bytes kept for one client.
client_max_bytes() {
	sqlite3 "$MIXNET_DIR/gateway.sqlite" "SELECT coalesce(max(s), 0) FROM (SELECT sum(length(data)) AS s FROM messages GROUP BY address)"
}

inbox_bytes() {
	sqlite3 "$MIXNET_DIR/gateway.sqlite" "SELECT coalesce(sum(length(data)), 0) FROM messages"
}

@test "--inbox-quota: a client that is away gets at most that many bytes kept; past it the sender is not acknowledged" {
	recv_start alice # registered, then away
	recv_stop alice
	gateway_with --inbox-quota 40000
	head -c 16384 /dev/urandom > small
	run nym-send --id bob --to "$(address alice)" --file small --no-poisson --timeout 20 --json
	assert_success
	# 40 more packets do not fit: dropped without SURB-acks, so never acknowledged
	head -c 65536 /dev/urandom > large
	run nym-send --id bob --to "$(address alice)" --file large --no-poisson --timeout 6 --json
	assert_failure 1
	echo "${lines[0]}" | jq -e '.ok == false and .acknowledged < .packets' || fail "$output"
	kept=$(client_max_bytes)
	[ "$kept" -gt 16384 ] && [ "$kept" -le 40000 ] || fail "the inbox keeps $kept bytes for one client"
	# what was acknowledged arrives
	recv_start alice --json --count 1
	recv_wait alice 20
	[ "$status" -eq 0 ]
	[ "$(json_sha alice.out 1)" = "$(sha256sum < small | cut -d' ' -f1)" ]
}

@test "--inbox-total bounds the inbox over all clients" {
	recv_start alice
	recv_stop alice
	recv_start carol
	recv_stop carol
	# room for 30000 bytes more than the inbox holds now (messages of other tests)
	gateway_with --inbox-total $(( $(inbox_bytes) + 30000 ))
	head -c 20000 /dev/urandom > m
	run nym-send --id bob --to "$(address alice)" --file m --no-poisson --timeout 20 --quiet
	assert_success
	run nym-send --id bob --to "$(address carol)" --file m --no-poisson --timeout 6 --quiet
	assert_failure 1
	assert_output --partial "never acknowledged"
	recv_start alice --count 1
	recv_wait alice 20
	[ "$status" -eq 0 ]
	cmp m alice.out
}

@test "--max-clients: a new client past the bound is refused in words; known ones still connect" {
	recv_start alice
	recv_stop alice
	recv_start bob
	recv_stop bob
	n=$(sqlite3 "$MIXNET_DIR/gateway.sqlite" "SELECT count(*) FROM clients")
	gateway_with --max-clients "$n"
	run nym-recv --id carol --timeout 5
	assert_failure 1
	assert_output --partial "no room for more clients"
	recv_start alice --timeout 5
	grep -q "connected as" alice.err
}

@test "usage: the bounds want numbers" {
	run nym-gateway --inbox-quota 0
	assert_failure 2
	assert_output --partial "--inbox-quota: '0' is not a number of bytes"
	run nym-gateway --max-clients x
	assert_failure 2
	run nym-gateway --help
	assert_output --partial "--inbox-quota BYTES"
}
