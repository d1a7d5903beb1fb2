#!/usr/bin/env bats
# Anonymous messages and replies through SURBs between the official Nym client (wasm 1.4.1)
# and nymkit's tools, both ways, through nymkit's mix nodes and gateway.
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

@test "3: official anonymous send with reply SURBs → nym-recv (sender tag, no address); nym-send --reply TAG → the official client" {
	interop_deadline 35
	recv_start bob
	official_start alice
	head -c 1500 /dev/urandom >question
	official_cmd alice "{\"cmd\":\"send_anonymous\",\"hex\":\"$(hexof question)\",\"to\":\"$RECV_ADDR\",\"surbs\":5}"
	wait_json "$(recv_out bob)" 'select(.size == 1500)' >got.json
	jq -r .data got.json | base64 -d >got
	cmp question got
	local tag
	tag=$(jq -r .sender_tag got.json)
	[ -n "$tag" ]
	[ "$tag" != null ]
	# the sender tag, never alice's address or identity
	run ! grep -q "${OFFICIAL_ADDR%%.*}" "$(recv_out bob)"

	head -c 3000 /dev/urandom >answer
	run timeout 25 nym-send --id bob --api "$INTEROP_API" --reply "$tag" --file answer --timeout 20 --quiet
	assert_success
	wait_json "$(official_out alice)" "select(.event == \"received\" and .len == 3000)" >reply.json
	[ "$(jq -r .hex reply.json)" = "$(hexof answer)" ]
	[ "$(jq -r .sha256 reply.json)" = "$(sha256of answer)" ]
}

@test "3 (more SURBs): nym-recv, short of SURBs for a long reply, asks the official client for more; the reply arrives" {
	interop_deadline 35
	recv_start bob
	official_start alice
	official_cmd alice "{\"cmd\":\"send_anonymous\",\"text\":\"ask\",\"to\":\"$RECV_ADDR\",\"surbs\":2}"
	wait_json "$(recv_out bob)" 'select(.size == 3)' >got.json
	local tag
	tag=$(jq -r .sender_tag got.json)
	# 12000 bytes take eight SURBs; bob holds two
	head -c 12000 /dev/urandom >answer
	run timeout 25 nym-send --id bob --api "$INTEROP_API" --reply "$tag" --file answer --timeout 20 --quiet
	assert_success
	wait_json "$(official_out alice)" 'select(.event == "received" and .len == 12000)' >reply.json
	[ "$(jq -r .sha256 reply.json)" = "$(sha256of answer)" ]
}

@test "4: nym-send --surbs N → the official client replies to the sender tag → nym-recv prints the reply" {
	interop_deadline 35
	recv_start dave
	official_start carol
	head -c 700 /dev/urandom >question
	# 20 SURBs: the official client keeps 10 in reserve (minimumReplySurbStorageThreshold) for
	# asking the sender for more, and replies only with SURBs beyond those.
	run timeout 25 nym-send --id dave --api "$INTEROP_API" --to "$OFFICIAL_ADDR" --surbs 20 \
		--file question --timeout 20 --json --quiet
	assert_success
	local tag
	tag=$(jq -r .sender_tag <<<"$output")
	[ -n "$tag" ]
	[ "$tag" != null ]

	wait_json "$(official_out carol)" 'select(.event == "received" and .len == 700)' >got.json
	[ "$(jq -r .hex got.json)" = "$(hexof question)" ]
	# The tag the official client holds (read from its AnonymousSenderTag) is the one
	# nym-send chose, and not dave's address.
	[ "$(jq -r .sender_tag got.json)" = "$tag" ]

	head -c 2500 /dev/urandom >answer
	official_cmd carol "{\"cmd\":\"reply\",\"hex\":\"$(hexof answer)\",\"tag\":\"$tag\"}"
	wait_json "$(recv_out dave)" 'select(.size == 2500)' >reply.json
	jq -r .data reply.json | base64 -d >reply
	cmp answer reply
	run jq -r 'select(.event == "error")' "$(official_out carol)"
	assert_output ''
}

@test "4 (more SURBs): the official client, short of SURBs, asks nym-recv for more; nym-recv sends them and the reply arrives" {
	interop_deadline 35
	recv_start dave
	official_start carol
	head -c 700 /dev/urandom >question
	# 5 SURBs: fewer than the official client's reserve, so it sends a SurbRequest first
	run timeout 25 nym-send --id dave --api "$INTEROP_API" --to "$OFFICIAL_ADDR" --surbs 5 \
		--file question --timeout 20 --json --quiet
	assert_success
	local tag
	tag=$(jq -r .sender_tag <<<"$output")
	wait_json "$(official_out carol)" 'select(.event == "received" and .len == 700)' >/dev/null
	head -c 2500 /dev/urandom >answer
	official_cmd carol "{\"cmd\":\"reply\",\"hex\":\"$(hexof answer)\",\"tag\":\"$tag\"}"
	wait_json "$(recv_out dave)" 'select(.size == 2500)' >reply.json
	jq -r .data reply.json | base64 -d | cmp answer -
}
