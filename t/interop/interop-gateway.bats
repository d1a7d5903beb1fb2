#!/usr/bin/env bats
# The official Nym client (wasm 1.4.1) at nymkit's gateway: registration, authentication with
# stored keys after a restart, delivery of what waited in the inbox, and its packets peeled hop
# by hop with nymkit's node keys.
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

# A node's mix_host (mix1..mix3, gateway) from the local mixnet's topology.
mix_host() {
	case $1 in
	gateway) jq -r '.gateways[0].mix_host' "$INTEROP_NET/topology.json" ;;
	*) jq -r --arg l "${1#mix}" '.layers[$l][0].mix_host' "$INTEROP_NET/topology.json" ;;
	esac
}

# The unpadded-then-zero-padded 19-byte routing address of host:port (IPv4), in hex.
addr_hex() {
	local host=${1%:*} port=${1##*:}
	printf '04%04x' "$port"
	printf '%02x' ${host//./ }
	printf '%024d' 0
}

# peel HEX-PACKET: through mix1, mix2, mix3 and the gateway with their keys; each forward hop
# must name the next node of the topology. Prints the final hop's destination and payload.
peel() {
	local pkt=$1 k hop next want
	for k in mix1 mix2 mix3 gateway; do
		{ read -r hop && read -r next && read -r pkt; } < <(printf '%s' "$pkt" |
			nym-sphinx-wrap --unwrap --json --key "$INTEROP_NET/keys/$k/x25519_sphinx_primary" |
			jq -r '.hop, (.next_hop // .destination), (.packet // .payload)') || return 1
		case $k in mix1) want=$MIX2 ;; mix2) want=$MIX3 ;; mix3) want=$GATEWAY ;; gateway) want=final ;; esac
		if [ $k = gateway ]; then
			[ "$hop" = final ] || { echo "gateway: '$hop', not the final hop" >&2; return 1; }
		else
			[ "$hop" = forward ] || { echo "$k: '$hop', not a forward hop" >&2; return 1; }
			[ "$next" = "$want" ] || { echo "$k: next hop $next, not $want" >&2; return 1; }
		fi
	done
	printf '%s %s\n' "$next" "$pkt"
}

@test "6: the official client registers, authenticates, and after a restart authenticates again with its stored keys" {
	interop_deadline 30
	official_start alice
	local id=${OFFICIAL_ADDR%%.*} out
	out=$(official_out alice)

	# The session works before the restart: a message to itself comes back through our nodes.
	official_cmd alice '{"cmd":"send","text":"before restart"}'
	wait_json "$out" "select(.event == \"received\" and .hex == \"$(hexs 'before restart')\")"

	official_cmd alice '{"cmd":"restart"}'
	run wait_json "$out" 'select(.event == "restarted" or (.event == "error" and .stage == "restart"))'
	assert_success
	assert_output --partial '"same_address":true'

	# ... and after it, on the authenticated connection.
	official_cmd alice '{"cmd":"send","text":"after restart"}'
	wait_json "$out" "select(.event == \"received\" and .hex == \"$(hexs 'after restart')\")"

	# The gateway saw one registration, then two authentications, in that order.
	run grep -E "client $id (registered|authenticated)" "$INTEROP_NET/gateway.log"
	assert_success
	assert_line --index 0 --regexp "client $id registered \(v[0-9]+\)$"
	assert_line --index 1 --regexp "client $id authenticated \(v[0-9]+\)$"
	assert_line --index 2 --regexp "client $id authenticated \(v[0-9]+\)$"
	[ "${#lines[@]}" -eq 3 ]

	# The counters say the same (stats lines come every second).
	wait_json "$INTEROP_NET/gateway.stats" 'select(.registered >= 1 and .authenticated >= 2)' >/dev/null
	node_stats gateway | jq -e '.auth_failed == 0'
}

@test "6: messages that wait in nym-gateway's inbox while the official client is away reach it, once, when it authenticates again" {
	interop_deadline 35
	official_start erin
	local out
	out=$(official_out erin)
	official_cmd erin '{"cmd":"stop"}'
	wait_json "$out" 'select(.event == "stopped")' >/dev/null
	nym-keygen --id frank --gateway "$INTEROP_GW" >/dev/null
	head -c 5000 /dev/urandom >msg
	# the gateway acknowledges what it stores for an absent client
	run timeout 25 nym-send --id frank --api "$INTEROP_API" --to "$OFFICIAL_ADDR" --file msg \
		--timeout 20 --quiet
	assert_success
	wait_json "$INTEROP_NET/gateway.stats" 'select(.inbox_waiting >= 4)' >/dev/null # four packets

	official_cmd erin '{"cmd":"start"}'
	wait_json "$out" 'select(.event == "received" and .len == 5000)' >got.json
	[ "$(jq -r .hex got.json)" = "$(hexof msg)" ]
	sleep 0.5
	run jq -c 'select(.event == "received" or .event == "error")' "$out"
	[ "${#lines[@]}" -eq 1 ] || { printf '%s\n' "${lines[@]}"; return 1; }
	wait_json "$INTEROP_NET/gateway.stats" 'select(.inbox_waiting == 0)' >/dev/null
}


@test "7: packets the official client sent, captured at nymkit's gateway, peel hop by hop with the node keys" {
	interop_deadline 40
	recv_start bob
	official_start alice
	local alice_id=${OFFICIAL_ADDR%%.*} bob_id=${RECV_ADDR%%.*}
	head -c 3000 /dev/urandom >msg
	official_cmd alice "{\"cmd\":\"send\",\"hex\":\"$(hexof msg)\",\"to\":\"$RECV_ADDR\"}"
	# It arrives (so every packet was sent and crossed the nodes) ...
	wait_json "$(recv_out bob)" 'select(.size == 3000)' >got.json
	jq -r .data got.json | base64 -d >got
	cmp msg got

	# ... and each packet alice sent, as our gateway captured it, peels at mix1, mix2, mix3
	# and the gateway: addressed to bob, carrying a SURB-ack that starts at mix1 and itself
	# peels through the same four nodes back to alice; bob's keys open what is left.
	local cap=$BATS_FILE_TMPDIR/capture n=0 f payload ack
	run jq -r --arg c "$alice_id" 'select(.client == $c) | [.file, .next_hop, .sphinx_len, .packet_type] | @tsv' "$cap/packets.jsonl"
	assert_success
	[ "${#lines[@]}" -ge 2 ] # 3000 bytes take two regular packets
	local mix1 mix1_addr dest
	mix1=$(mix_host mix1) MIX2=$(mix_host mix2) MIX3=$(mix_host mix3) GATEWAY=$(mix_host gateway)
	mix1_addr=$(addr_hex "$mix1")
	while IFS=$'\t' read -r f hop len ptype; do
		[ "$hop" = "$mix1" ] || { echo "$f: sent to $hop, not to mix1 ($mix1)"; return 1; }
		[ "$len" = 2413 ]
		[ "$ptype" = 0 ]
		[ "$(stat -c %s "$cap/$f")" = 2413 ]
		read -r dest payload < <(peel "$(hexof "$cap/$f")")
		[ "$dest" = "$bob_id" ] || { echo "$f: for '$dest', not bob"; return 1; }
		[ "${#payload}" = 4096 ] # 2048 bytes
		printf '%s\n' "$payload" >>payloads.hex
		[ "${payload:0:38}" = "$mix1_addr" ] || { echo "$f: SURB-ack first hop ${payload:0:38}, not $mix1_addr"; return 1; }
		read -r dest ack < <(peel "${payload:38:772}") # the 386-byte ack packet
		[ "$dest" = "$alice_id" ] || { echo "$f: ack for '$dest', not alice"; return 1; }
		[ "${#ack}" = 42 ] # its payload: the 21-byte encrypted fragment id
		n=$((n + 1))
	done < <(printf '%s\n' "${lines[@]}")
	[ "$n" -eq "${#lines[@]}" ]
	# The final-hop payloads, opened offline with bob's keys, are alice's message.
	nym-sphinx-wrap --decrypt --id bob <payloads.hex >offline
	cmp msg offline

	# One wrong byte anywhere in the header and the first hop refuses it (MAC).
	f=$(printf '%s\n' "${lines[0]}" | cut -f1)
	local hex
	hex=$(hexof "$cap/$f")
	run peel "${hex:0:100}$(printf '%02x' $(( (0x${hex:100:2} + 1) % 256 )))${hex:102}"
	assert_failure
}
