#!/usr/bin/env bats
# nym-cover: loop cover traffic through a local mixnet, counted on return.
load helpers
load mixnet

setup_file() {
	mixnet_up
}

teardown_file() {
	mixnet_down
}

setup() {
	mixnet_clients carol
}

teardown() {
	recv_stop carol
}

@test "--json: loops sent and returned, round-trip times in order" {
	run nym-cover --id carol --rate 40 --duration 2 --json
	assert_success
	echo "$output" | jq -e '.sent >= 20 and .returned == .sent and .lost == 0 and .mean_ms == 25
		and .rtt_ms.min > 0 and .rtt_ms.min <= .rtt_ms.p50 and .rtt_ms.p50 <= .rtt_ms.p99
		and .rtt_ms.p99 <= .rtt_ms.max'
}

@test "the loops are cover: they reach no nym-recv as messages (the marker is dropped)" {
	run nym-cover --id carol --mean 20 --duration 1
	assert_success
	assert_output --regexp "^loops sent [0-9]+, returned [0-9]+; rtt ms"
	recv_start carol --json --timeout 2
	recv_wait carol 10
	[ ! -s carol.out ]
}

@test "a dead mix layer: the loops are lost and it says so (exit 1)" {
	node_kill9 mix2
	run nym-cover --id carol --rate 20 --duration 1 --json
	node_restart mix2
	assert_failure 1
	echo "${lines[0]}" | jq -e '.sent > 0 and .returned == 0 and .lost == .sent and .rtt_ms == null'
	assert_output --partial "no loop came back"
}

@test "the gateway away for 4 s during --duration: nym-cover keeps reconnecting (no giving up after 3 tries)" {
	nym-cover --id carol --rate 20 --duration 9 --json > cover.json 2> cover.err 3>&- &
	cov=$!
	sleep 2
	before=$(grep -c ': clients on' "$MIXNET_DIR/gateway.log")
	node_kill9 gateway
	sleep 4
	node_restart gateway
	wait "$cov" || fail "nym-cover failed: $(cat cover.err)"
	grep -q "gateway connection lost" cover.err
	jq -e '.returned > 0' cover.json
	# the gateway is up again for the next test
	for _ in $(seq 100); do [ "$(grep -c ': clients on' "$MIXNET_DIR/gateway.log")" -gt "$before" ] && break; sleep 0.05; done
}

@test "through a running nym-recv: its connection sends the loops, only ours are counted" {
	recv_start carol
	run nym-cover --id carol --rate 30 --duration 1 --json
	assert_success
	echo "$output" | jq -e '.sent >= 10 and .returned == .sent'
	# nym-recv's own cover streams go on meanwhile; none of them is reported to us
	echo "$output" | jq -e '.returned <= .sent'
	# and it still receives
	recv_stop carol
}

@test "no network and no nym-recv: a usage error" {
	unset NYM_TOPOLOGY
	run nym-cover --id carol --duration 1
	assert_failure 2
	assert_output --partial "no network"
}

@test "usage: --mean with --rate, bad numbers, --help, --version" {
	run nym-cover --mean 10 --rate 5
	assert_failure 2
	run nym-cover --duration 0
	assert_failure 2
	run nym-cover --help
	assert_success
	assert_output --partial "Usage: nym-cover"
	run nym-cover --version
	assert_success
}

@test "nan, inf, huge and malformed numbers are refused at once: exit 2, one line" {
	for v in nan NaN inf -inf infinity 1e300 1e-400 0x10 " 1" 1s "" -0; do
		run --separate-stderr timeout 10 nym-cover --id carol --duration "$v"
		assert_failure 2
		[ "${#stderr_lines[@]}" -eq 1 ]
		assert_equal "$stderr" "nym-cover: --duration wants a number of seconds above 0 and at most 1e+09, not '$v'"
	done
	run --separate-stderr timeout 10 nym-cover --id carol --mean nan --duration 1
	assert_failure 2
	run --separate-stderr timeout 10 nym-cover --id carol --rate inf --duration 1
	assert_failure 2
	for v in nan inf -1 1e300 x; do
		NYM_DELAY_MEAN_MS=$v run --separate-stderr timeout 10 nym-cover --id carol --duration 1
		assert_failure 2
		assert_equal "$stderr" "nym-cover: NYM_DELAY_MEAN_MS wants a number of milliseconds from 0 and at most 1e+09, not '$v'"
	done
	NYM_DELAY_MEAN_MS=x run --separate-stderr timeout 10 nym-send --id carol --to "$(address carol)" <<<hi
	assert_failure 2
	NYM_DELAY_MEAN_MS=x run --separate-stderr timeout 10 nym-recv --id carol
	assert_failure 2
	NYM_TOPOLOGY_REFRESH=nan run --separate-stderr timeout 10 nym-recv --id carol --api http://127.0.0.1:9
	assert_failure 2
	run --separate-stderr nym-sphinx-wrap --delay-mean inf --nym --id carol < /dev/null
	assert_failure 2
	run --separate-stderr nym-mixnode --stats nan
	assert_failure 2
	# plain decimals still go
	run --separate-stderr timeout 10 nym-cover --id carol --duration 0.5e0 --mean 1E2
	assert_success
}
