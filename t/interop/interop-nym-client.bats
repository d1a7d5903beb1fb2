#!/usr/bin/env bats
# nym-client against the official Nym client (wasm 1.4.1): the official client sends an
# anonymous message to an application on nym-client's websocket API (Python, t/bin/wsapp.py,
# written from the spec), and the application's reply comes back through the SURBs it sent.
load ../helpers
load interop

BATS_TEST_TIMEOUT=60

setup_file() {
	interop_npm
	localnet_up
}

teardown() {
	stop_tracked
	local f
	for f in client.err app.out app.err "$BATS_TEST_TMPDIR"/official-*/err; do
		[ -f "$f" ] && { echo "--- $f (tail)"; tail -n 15 "$f"; }
	done
	return 0
}

teardown_file() {
	localnet_down
}

@test "official anonymous send → an application on nym-client → its reply through SURBs → the official client" {
	interop_deadline 45
	cd "$BATS_TEST_TMPDIR"
	local port a
	port=$(free_port)
	a=$(nym-client init --id bob --gateway "$INTEROP_GW" --api "$INTEROP_API" --port "$port" --quiet)
	[ -n "$a" ]
	nym-client run --id bob --api "$INTEROP_API" --no-cover >client.out 2>client.err 3>&- &
	track $!
	wait_line client.err 'websocket API on ws://'
	# the application: one message in, a reply to its sender tag out
	printf 'recv 40\nreply-last answer-from-the-app\nsleep 2\n' |
		timeout 50 /usr/bin/python3 "$INTEROP_DIR/../bin/wsapp.py" "ws://127.0.0.1:$port" >app.out 2>app.err 3>&- &
	track $!
	official_start alice
	official_cmd alice "{\"cmd\":\"send_anonymous\",\"text\":\"question-from-official\",\"to\":\"$a\",\"surbs\":5}"
	wait_line app.out '^bin received [1-9A-HJ-NP-Za-km-z]+ question-from-official$'
	# the sender tag, never the official client's address
	run ! grep -q "${OFFICIAL_ADDR%%.*}" app.out
	wait_json "$(official_out alice)" 'select(.event == "received")' >reply.json
	[ "$(jq -r .hex reply.json)" = "$(hexs answer-from-the-app)" ]
	[ "$(jq -r .sender_tag reply.json)" = null ]
}
