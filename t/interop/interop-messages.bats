#!/usr/bin/env bats
# Messages both ways between the official Nym client (wasm 1.4.1) and nymkit's tools, through
# nymkit's mix nodes and gateway: every byte must arrive as sent.
load ../helpers
load interop

BATS_TEST_TIMEOUT=60

setup_file() {
	interop_npm
	localnet_up
}

teardown_file() {
	localnet_down
}

SIZES="1 2048 102400"

@test "1: official client → nymkit nodes → nym-recv: 1 B, 2 KiB and 100 KiB arrive exactly" {
	interop_deadline 35
	recv_start bob
	official_start alice
	local n
	for n in $SIZES; do
		head -c "$n" /dev/urandom >"msg.$n"
		official_cmd alice "{\"cmd\":\"send\",\"hex\":\"$(hexof "msg.$n")\",\"to\":\"$RECV_ADDR\",\"id\":$n}"
	done
	wait_json "$(recv_out bob)" . 3 >got.json
	for n in $SIZES; do
		run jq -c --argjson n "$n" 'select(.size == $n)' got.json
		assert_success
		[ "${#lines[@]}" -eq 1 ] || { echo "size $n arrived ${#lines[@]} times"; return 1; }
		jq -r .data <<<"$output" | base64 -d >"got.$n"
		cmp "msg.$n" "got.$n"
		# a plain message: no sender tag
		[ "$(jq -r .sender_tag <<<"$output")" = null ]
	done
	# nothing more (no duplicate) arrives in the next half second
	sleep 0.5
	[ "$(wc -l <"$(recv_out bob)")" -eq 3 ]
	run jq -r 'select(.event == "error")' "$(official_out alice)"
	assert_output ''
}

@test "1 (variants): with extended (32 KiB) packets, and with loop cover traffic (Sphinx v258) and Poisson sending on, messages arrive exactly and the nodes drop nothing" {
	interop_deadline 35
	recv_start bob
	official_start ext --extended
	official_start cover --cover
	head -c 100000 /dev/urandom >big
	head -c 5000 /dev/urandom >small
	official_cmd ext "{\"cmd\":\"send\",\"hex\":\"$(hexof big)\",\"to\":\"$RECV_ADDR\"}"
	official_cmd cover "{\"cmd\":\"send\",\"hex\":\"$(hexof small)\",\"to\":\"$RECV_ADDR\"}"
	wait_json "$(recv_out bob)" . 2 >got.json
	jq -r 'select(.size == 100000) | .data' got.json | base64 -d | cmp big -
	jq -r 'select(.size == 5000) | .data' got.json | base64 -d | cmp small -
	# A second more of the official cover stream (about 50 packets/s), then the counters:
	# every packet processed, none dropped (bad MAC, size, replay...) at any node.
	sleep 1.5
	local n
	for n in mix1 mix2 mix3; do
		node_stats "$n" | jq -e '.dropped_total == 0 and .processed >= 50' >/dev/null ||
			{ echo "$n: $(node_stats "$n")"; return 1; }
	done
	node_stats gateway | jq -e '([.dropped[]] | add) == 0 and .final_hop_received >= 50' >/dev/null ||
		{ echo "gateway: $(node_stats gateway)"; return 1; }
}

@test "2: nym-send → nymkit nodes → official client: its received event carries exactly the bytes" {
	interop_deadline 40
	official_start carol
	nym-keygen --id dave --gateway "$INTEROP_GW" >/dev/null
	local n out
	out=$(official_out carol)
	for n in $SIZES; do
		head -c "$n" /dev/urandom >"msg.$n"
		run timeout 25 nym-send --id dave --api "$INTEROP_API" --to "$OFFICIAL_ADDR" --file "msg.$n" \
			--timeout 20 --json --quiet
		assert_success # every packet acknowledged
		jq -e --argjson n "$n" '.size == $n and .ok == true and .acknowledged == .packets' <<<"$output"
	done
	wait_json "$out" 'select(.event == "received")' 3 >got.json
	for n in $SIZES; do
		run jq -r --argjson n "$n" 'select(.len == $n) | .hex' got.json
		assert_success
		[ "${#lines[@]}" -eq 1 ] || { echo "size $n arrived ${#lines[@]} times"; return 1; }
		[ "$output" = "$(hexof "msg.$n")" ]
		jq -e -s --argjson n "$n" --arg h "$(sha256of "msg.$n")" \
			'map(select(.len == $n)) | .[0].sha256 == $h and .[0].sender_tag == null' got.json
	done
}
