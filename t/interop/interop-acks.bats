#!/usr/bin/env bats
# Acknowledgements between the official Nym client (wasm 1.4.1) and nymkit's nodes: with
# retransmission on, the official client resends nothing when nymkit's gateway returns its
# acks; nym-send's packets to it are all acknowledged.
load ../helpers
load interop

BATS_TEST_TIMEOUT=60

setup_file() {
	interop_npm
	localnet_up --capture "$BATS_FILE_TMPDIR/capture"
}

teardown_file() {
	localnet_down
}

# Packets client ID has sent, as nymkit's gateway captured them.
sent_by() {
	jq -s --arg c "$1" 'map(select(.client == $c)) | length' "$BATS_FILE_TMPDIR/capture/packets.jsonl"
}

# The official client retransmits an unacknowledged packet after 1.5 × its expected delay
# + 1.5 s (ackWaitMultiplier, ackWaitAdditionMs); with 50 ms mean hop delays that is about 2 s.
QUIET_SECS=4

@test "5: with retransmission on, the official client resends nothing: nymkit's gateway returns its acks" {
	interop_deadline 30
	recv_start bob
	official_start alice --retransmit
	local id=${OFFICIAL_ADDR%%.*} n m
	head -c 12000 /dev/urandom >msg
	official_cmd alice "{\"cmd\":\"send\",\"hex\":\"$(hexof msg)\",\"to\":\"$RECV_ADDR\"}"
	official_cmd alice "{\"cmd\":\"send\",\"text\":\"x\",\"to\":\"$RECV_ADDR\"}"
	wait_json "$(recv_out bob)" 'select(.size == 12000 or .size == 1)' 2 >got.json
	jq -r 'select(.size == 12000) | .data' got.json | base64 -d | cmp msg -
	n=$(sent_by "$id")
	[ "$n" -eq 9 ] # 12000 bytes take eight regular packets, "x" one; nothing resent so far
	sleep "$QUIET_SECS"
	m=$(sent_by "$id")
	[ "$m" -eq "$n" ] || { echo "the official client sent $((m - n)) packets again (acks lost?)"; return 1; }
	# and the gateway sent every ack back into the mixnet
	node_stats gateway | jq -e --argjson n "$n" '.acks_forwarded >= $n'
}

@test "5 (control): when acks do not come back, the official client does retransmit, and the count shows it" {
	interop_deadline 30
	recv_start bob
	official_start alice --retransmit
	local id=${OFFICIAL_ADDR%%.*} n m mix1
	mix1=$(cat "$INTEROP_NET/mix1.pid")
	# mix1 frozen: the packets and their acks wait in its socket buffer.
	kill -STOP "$mix1"
	official_cmd alice "{\"cmd\":\"send\",\"text\":\"held up\",\"to\":\"$RECV_ADDR\"}"
	wait_json "$(official_out alice)" 'select(.event == "ok" and .cmd == "send")' >/dev/null
	sleep 0.5
	n=$(sent_by "$id")
	sleep "$QUIET_SECS"
	m=$(sent_by "$id")
	kill -CONT "$mix1"
	[ "$m" -gt "$n" ] || { echo "no retransmission in ${QUIET_SECS}s ($n packets, then $m)"; return 1; }
	# once mix1 runs again the message arrives, once
	wait_json "$(recv_out bob)" 'select(.size == 7)' >/dev/null
	sleep 0.5
	[ "$(wc -l <"$(recv_out bob)")" -eq 1 ]
}

@test "5: nym-send to the official client exits 0: every packet acknowledged, none resent" {
	interop_deadline 30
	official_start carol
	nym-keygen --id dave --gateway "$INTEROP_GW" >/dev/null
	head -c 20000 /dev/urandom >msg
	run timeout 25 nym-send --id dave --api "$INTEROP_API" --to "$OFFICIAL_ADDR" --file msg \
		--timeout 20 --json --quiet
	assert_success
	jq -e '.ok == true and .packets >= 13 and .acknowledged == .packets and (.retransmissions // 0) == 0' <<<"$output"
	wait_json "$(official_out carol)" 'select(.event == "received" and .len == 20000)' >got.json
	[ "$(jq -r .sha256 got.json)" = "$(sha256of msg)" ]
}
