#!/usr/bin/env bats
# nym-gateway: the client websocket endpoint (gateway protocol v6) and the
# final hop, driven by t/bin/gwpeer (a scriptable, sometimes hostile client).
# Everything on 127.0.0.1, every wait bounded.
load helpers

GWPEER="$NYM_BIN/../t/bin/gwpeer"

# Start a gateway with fresh (or existing) node keys in $BATS_TEST_TMPDIR/gw.
start_gw() {
	[ -d "$BATS_TEST_TMPDIR/gw" ] || nym-keygen --node --dir "$BATS_TEST_TMPDIR/gw" --json > "$BATS_TEST_TMPDIR/gw.json"
	GK=$(jq -r .identity_key "$BATS_TEST_TMPDIR/gw.json")
	SK=$(jq -r .sphinx_key "$BATS_TEST_TMPDIR/gw.json")
	: "${WS:=$(free_port)}" "${MIX:=$(free_port)}"
	nym-gateway --keys "$BATS_TEST_TMPDIR/gw" --listen "127.0.0.1:$WS" \
		--mix-listen "127.0.0.1:$MIX" "$@" > "$BATS_TEST_TMPDIR/gw.out" 2>> "$BATS_TEST_TMPDIR/gw.log" 3>&- &
	GWPID=$!
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$WS") 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$BATS_TEST_TMPDIR/gw.log" >&2
	return 1
}

stop_gw() {
	[ -n "${GWPID:-}" ] && kill "$GWPID" 2>/dev/null && wait "$GWPID" 2>/dev/null
	GWPID=
	return 0
}

teardown() {
	stop_gw
	jobs -p | xargs -r kill 2>/dev/null || true
}

# Wait (5 s at most) until file $1 holds a line matching $2.
wait_line() {
	for _ in $(seq 50); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

peer() {
	"$GWPEER" -t 5 "127.0.0.1:$WS" "$GK" "$@"
}

seed() {
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# A TCP listener on $1 that writes what it receives to $2 (for 3 s at most).
listen_tcp() {
	python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5); s.settimeout(5)
out = open(sys.argv[2], "wb"); end = time.time() + 5
try:
    c, _ = s.accept(); c.settimeout(1)
    while time.time() < end:
        try:
            d = c.recv(65536)
        except socket.timeout:
            continue
        if not d: break
        out.write(d); out.flush()
except socket.timeout:
    pass
 ' "$1" "$2" 3>&- &
	sleep 0.3
}

@test "nym-gateway: --help, --version and usage errors" {
	run nym-gateway --help
	assert_success
	assert_output --partial "Usage: nym-gateway"
	run nym-gateway --version
	assert_success
	assert_output --partial "nym-gateway (nymkit)"
	run nym-gateway --bogus
	assert_failure 2
	run nym-gateway --cert x.pem
	assert_failure 2
	assert_output --partial "--cert and --key go together"
	run nym-gateway --listen 127.0.0.1:99999
	assert_failure 2
	run nym-gateway --stats 0
	assert_failure 2
}

@test "nym-gateway: missing node keys are a clear error" {
	run nym-gateway --keys "$BATS_TEST_TMPDIR/nope" --listen 127.0.0.1:$(free_port)
	assert_failure 1
	assert_output --partial "nym-keygen --node"
}

@test "nym-gateway: supportedProtocol, registration, free bandwidth, ForwardSphinxV2 reaches the first hop" {
	start_gw
	hop=$(free_port)
	listen_tcp "$hop" "$BATS_TEST_TMPDIR/hop.bin"
	s=$(seed)
	run peer text '{"type":"supportedProtocol"}' recv register "$s" key \
		text '{"type":"claimFreeTestnetBandwidth"}' recv forward "127.0.0.1:$hop" 3 recv recv recv
	assert_success
	assert_line --index 0 '{"type":"supportedProtocol","version":6}'
	assert_line '{"type":"handshakePayload","protocol_version":6,"data":[1]}'
	assert_line '{"type":"register","protocol_version":6,"status":true,"upgrade_mode":false}'
	assert_line '{"type":"bandwidth","available_total":68719476736,"upgrade_mode":false}'
	assert_line '{"type":"send","remaining_bandwidth":68719469497,"upgrade_mode":false}'
	for _ in $(seq 30); do
		[ "$(stat -c %s "$BATS_TEST_TMPDIR/hop.bin" 2>/dev/null || echo 0)" -ge 7251 ] && break
		sleep 0.1
	done
	# three v8 frames: 08, size tag 1 (regular), type 0 (sphinx), rotation 0, 2413 bytes
	run stat -c %s "$BATS_TEST_TMPDIR/hop.bin"
	assert_output 7251
	run sh -c "od -An -tx1 -N4 '$BATS_TEST_TMPDIR/hop.bin' | tr -d ' '"
	assert_output 08010000
}

@test "nym-gateway: sending without bandwidth is a typedError, the connection stays" {
	start_gw
	run peer register "$(seed)" key forward 127.0.0.1:9 recv text '{"type":"supportedProtocol"}' recv
	assert_success
	assert_line '{"type":"typedError","error":{"out_of_bandwidth":{"required":2413,"available":0}}}'
	assert_line '{"type":"supportedProtocol","version":6}'
}

@test "nym-gateway: keys persist across a restart; authenticateV2 with the stored key" {
	start_gw
	s=$(seed)
	run peer register "$s" key text '{"type":"claimFreeTestnetBandwidth"}' recv
	assert_success
	stop_gw
	start_gw
	run peer auth "$s" key recv
	assert_success
	assert_output '{"type":"authenticate","protocol_version":6,"status":true,"bandwidth_remaining":68719476736,"upgrade_mode":false}'
}

@test "nym-gateway: a replayed or stale authenticateV2 is refused and the connection closed" {
	start_gw
	s=$(seed)
	peer register "$s" key > /dev/null
	now=$(date +%s)
	run peer auth "$s" key "$now" recv
	assert_success
	assert_output --partial '"type":"authenticate"'
	sleep 0.3
	run peer auth "$s" key "$now" expect-closed
	assert_success
	assert_line --index 0 '{"type":"error","message":"the provided request timestamp is smaller or equal to one previously used"}'
	run peer auth "$s" key $((now - 500)) expect-closed
	assert_success
	assert_output --partial "the provided request timestamp is excessively skewed. got $((now - 500))"
	run peer auth "$(seed)" key expect-closed
	assert_success
	assert_output --partial '"message":"the client is not registered"'
}

@test "nym-gateway: a handshake with a bad signature fails; the gateway stays up" {
	start_gw
	run peer m1only "$(seed)" badm3 expect-closed
	assert_success
	assert_line --partial '"type":"handshakeError"'
	assert_line --partial 'Failed to perform registration handshake'
	run peer register "$(seed)" key
	assert_success
}

@test "nym-gateway: hostile frames before authentication close only that connection" {
	start_gw
	run peer binary 0101000000000000000000000000 expect-closed
	assert_success
	assert_line --index 0 '{"type":"error","message":"received a sphinx packet without prior authentication"}'
	run peer text 'this is not json' expect-closed
	assert_success
	assert_output --partial '"type":"error"'
	run peer text '{"type":"authenticate","address":"x"}' expect-closed
	assert_output --partial 'the legacy authentication method is no longer supported'
	run peer text '{"type":"claimFreeTestnetBandwidth"}' expect-closed
	assert_output --partial "Only 'Register' or 'Authenticate' requests are allowed"
	run peer bigtext 300000 expect-closed
	assert_success
	# raw garbage instead of a websocket frame
	run peer raw ffffffffffffffffffff expect-closed
	assert_success
	run peer register "$(seed)" key
	assert_success
	grep -q "oversized text message" "$BATS_TEST_TMPDIR/gw.log"
}

@test "nym-gateway: errors after authentication keep the connection" {
	start_gw
	run peer register "$(seed)" key text 'garbage' recv binary 0102 recv binary 0909000000000000000000000000000000000000000000000000000000 recv \
		text '{"type":"handshakePayload","data":[1]}' recv text '{"type":"supportedProtocol"}' recv
	assert_success
	assert_line --partial 'the received request is malformed'
	assert_line --partial 'Provided binary request was malformed'
	assert_line --partial 'received illegal message of type RegisterHandshakeInitRequest in an authenticated client'
	assert_line '{"type":"supportedProtocol","version":6}'
}

@test "nym-gateway: a slow client that never finishes a frame does not block others" {
	start_gw
	# a frame header announcing 1000 bytes, then nothing
	"$GWPEER" -t 5 "127.0.0.1:$WS" "$GK" raw 81fe03e8aabbccdd hold 4000 > "$BATS_TEST_TMPDIR/slow.out" 3>&- &
	sleep 0.2
	start=$(date +%s%N)
	run peer register "$(seed)" key
	assert_success
	[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 3000 ]
}

@test "nym-gateway: duplicate connections: a live one wins, a dead one is replaced" {
	start_gw
	s=$(seed)
	peer register "$s" key > /dev/null
	# live: the first connection answers pings
	"$GWPEER" -t 5 "127.0.0.1:$WS" "$GK" auth "$s" key recv hold 5000 > "$BATS_TEST_TMPDIR/a.out" 3>&- &
	apid=$!
	wait_line "$BATS_TEST_TMPDIR/a.out" '"type":"authenticate"'
	sleep 1.1 # the next authentication needs a later timestamp
	run peer auth "$s" key expect-closed
	assert_success
	assert_output --partial 'There is already an open connection to this client'
	run peer register "$s" key2
	assert_failure
	wait "$apid" || true
	# dead: the first connection stops answering pings
	"$GWPEER" -t 5 "127.0.0.1:$WS" "$GK" auth "$s" key recv nopong hold 4000 > "$BATS_TEST_TMPDIR/b.out" 3>&- &
	wait_line "$BATS_TEST_TMPDIR/b.out" '"type":"authenticate"'
	sleep 1.1
	run peer auth "$s" key recv
	assert_success
	assert_output --partial '"type":"authenticate"'
	assert_output --partial '"status":true'
	sleep 0.5
	grep -q "previous connection of this client is dead" "$BATS_TEST_TMPDIR/gw.log"
}

# Build a final-hop packet for $1 (client identity) through the gateway's mix
# port, with a SURB-ack block whose first hop is 127.0.0.1:$2, and message $3.
final_hop_packet() {
	python3 -c '
import sys
port = int(sys.argv[1])
hop = bytes([4, port >> 8, port & 255, 127, 0, 0, 1]) + bytes(12)
sys.stdout.buffer.write(hop + bytes([0xac]) * 386 + sys.argv[2].encode())
' "$2" "$3" | nym-sphinx-wrap --hop "127.0.0.1:$MIX:$SK" --destination "$1" --delay-mean 0 > "$BATS_TEST_TMPDIR/pkt"
	{ printf "${HDR:-\\x08\\x01\\x00\\x00}"; cat "$BATS_TEST_TMPDIR/pkt"; } > "/dev/tcp/127.0.0.1/$MIX"
}

@test "nym-gateway: final hop: SURB-ack forwarded, payload pushed to a connected client" {
	start_gw
	s=$(seed)
	ack=$(free_port)
	listen_tcp "$ack" "$BATS_TEST_TMPDIR/ack.bin"
	id=$(peer register "$s" key | jq -r 'select(.client).client')
	"$GWPEER" -t 5 "127.0.0.1:$WS" "$GK" auth "$s" key recv recv > "$BATS_TEST_TMPDIR/c.out" 3>&- &
	cpid=$!
	wait_line "$BATS_TEST_TMPDIR/c.out" '"type":"authenticate"' 
	final_hop_packet "$id" "$ack" "hello client"
	wait $cpid
	run cat "$BATS_TEST_TMPDIR/c.out"
	assert_line --index 1 --partial '{"pushed":"68656c6c6f20636c69656e74'
	for _ in $(seq 30); do [ -s "$BATS_TEST_TMPDIR/ack.bin" ] && break; sleep 0.1; done
	# the ack packet: v8 frame of size tag 2 (ack), 386 bytes of 0xac
	run sh -c "od -An -tx1 -N6 '$BATS_TEST_TMPDIR/ack.bin' | tr -d ' '"
	assert_output 08020000acac
	run stat -c %s "$BATS_TEST_TMPDIR/ack.bin"
	assert_output 390
}

@test "nym-gateway: stored messages survive kill -9 and are delivered once" {
	start_gw
	s=$(seed)
	id=$(peer register "$s" key | jq -r 'select(.client).client')
	for i in 1 2 3; do final_hop_packet "$id" 9 "message $i"; done
	sleep 0.5
	kill -9 "$GWPID"
	wait "$GWPID" 2>/dev/null || true
	GWPID=
	start_gw
	# (hold: the pong to the gateway's ack ping says they were read; a client
	# gone before it answers gets them again)
	run peer auth "$s" key recvuntil authenticate hold 300
	assert_success
	assert_line --index 0 --partial "\"pushed\":\"$(printf 'message 1' | od -An -tx1 | tr -d ' \n')"
	assert_line --index 1 --partial "\"pushed\":\"$(printf 'message 2' | od -An -tx1 | tr -d ' \n')"
	assert_line --index 2 --partial "\"pushed\":\"$(printf 'message 3' | od -An -tx1 | tr -d ' \n')"
	assert_line --index 3 --partial '"type":"authenticate"'
	sleep 1.1
	run peer auth "$s" key recv
	assert_success
	assert_output --partial '"type":"authenticate"'
	refute_output --partial pushed
}

@test "nym-gateway: pushes a client never acknowledged with a pong are pushed again on its next connection" {
	start_gw
	s=$(seed)
	id=$(peer register "$s" key | jq -r 'select(.client).client')
	for i in 1 2; do final_hop_packet "$id" 9 "message $i"; done
	sleep 0.5
	# read, but gone before answering the ack ping (a client killed with them in its socket)
	run peer auth "$s" key nopong recvuntil authenticate
	assert_success
	assert_line --index 1 --partial "\"pushed\":\"$(printf 'message 2' | od -An -tx1 | tr -d ' \n')"
	sleep 1.1
	run peer auth "$s" key recvuntil authenticate hold 300
	assert_success
	assert_line --index 0 --partial "\"pushed\":\"$(printf 'message 1' | od -An -tx1 | tr -d ' \n')"
	assert_line --index 1 --partial "\"pushed\":\"$(printf 'message 2' | od -An -tx1 | tr -d ' \n')"
	sleep 1.1
	run peer auth "$s" key recv
	assert_success
	assert_output --partial '"type":"authenticate"'
	refute_output --partial pushed
}

@test "nym-gateway: a replayed final-hop packet is dropped" {
	start_gw --stats 1
	s=$(seed)
	id=$(peer register "$s" key | jq -r 'select(.client).client')
	final_hop_packet "$id" 9 "once"
	{ printf '\x08\x01\x00\x00'; cat "$BATS_TEST_TMPDIR/pkt"; } > "/dev/tcp/127.0.0.1/$MIX"
	sleep 1.5
	run peer auth "$s" key recvuntil authenticate
	assert_success
	[ "$(grep -c pushed <<< "$output")" -eq 1 ]
	tail -1 "$BATS_TEST_TMPDIR/gw.out" | jq -e '.dropped.replay == 1 and .final_hop_received == 2'
}

@test "nym-gateway: a thousand open connections, and a new client is still served" {
	start_gw
	"$GWPEER" -t 10 "127.0.0.1:$WS" "$GK" many 1000 4000 > "$BATS_TEST_TMPDIR/many.out" 3>&- &
	for _ in $(seq 100); do grep -q opened "$BATS_TEST_TMPDIR/many.out" 2>/dev/null && break; sleep 0.1; done
	run cat "$BATS_TEST_TMPDIR/many.out"
	assert_output '{"opened":1000}'
	run peer register "$(seed)" key
	assert_success
}

@test "nym-gateway: --stats prints one JSON object per interval" {
	start_gw --stats 1
	peer register "$(seed)" key > /dev/null
	sleep 2.3
	run sh -c "tail -1 '$BATS_TEST_TMPDIR/gw.out' | jq -e '.registered == 1 and .connections >= 1 and (.dropped | type) == \"object\"'"
	assert_success
}

@test "nym-gateway: wss with --cert/--key" {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
		-keyout "$BATS_TEST_TMPDIR/key.pem" -out "$BATS_TEST_TMPDIR/cert.pem" 2>/dev/null
	start_gw --cert "$BATS_TEST_TMPDIR/cert.pem" --key "$BATS_TEST_TMPDIR/key.pem"
	run sh -c "printf 'GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' | timeout 5 openssl s_client -quiet -connect 127.0.0.1:$WS 2>/dev/null | head -1"
	assert_output --partial "101"
	# plain ws on the TLS port does not work
	run peer text '{"type":"supportedProtocol"}' recv
	assert_failure
}

@test "nym-gateway: key rotation byte: Even uses the (even) primary key, Odd has no key" {
	start_gw --stats 1
	s=$(seed)
	id=$(peer register "$s" key | jq -r 'select(.client).client')
	HDR='\x08\x01\x00\x02' final_hop_packet "$id" 9 "even"
	HDR='\x08\x01\x00\x01' final_hop_packet "$id" 9 "odd"
	HDR='\x07\x01\x00' final_hop_packet "$id" 9 "v7"
	sleep 1.5
	run peer auth "$s" key recvuntil authenticate
	assert_success
	[ "$(grep -c pushed <<< "$output")" -eq 2 ]
	assert_line --index 0 --partial "\"pushed\":\"$(printf even | od -An -tx1 | tr -d ' \n')"
	assert_line --index 1 --partial "\"pushed\":\"$(printf v7 | od -An -tx1 | tr -d ' \n')"
	tail -1 "$BATS_TEST_TMPDIR/gw.out" | jq -e '.dropped.mac == 1'
}

@test "nym-gateway: --topology restricts next hops to known nodes" {
	hop=$(free_port)
	printf '{"layers":{"1":[{"node_id":1,"mix_host":"127.0.0.1:%s"}],"2":[],"3":[]},"gateways":[]}\n' "$hop" > "$BATS_TEST_TMPDIR/topo.json"
	start_gw --topology "$BATS_TEST_TMPDIR/topo.json" --stats 1
	listen_tcp "$hop" "$BATS_TEST_TMPDIR/hop.bin"
	run peer register "$(seed)" key text '{"type":"claimFreeTestnetBandwidth"}' recv \
		forward "127.0.0.1:$hop" recv forward 127.0.0.1:9 recv
	assert_success
	sleep 1.5
	run stat -c %s "$BATS_TEST_TMPDIR/hop.bin"
	assert_output 2417
	tail -1 "$BATS_TEST_TMPDIR/gw.out" | jq -e '.dropped.no_route == 1 and .forwarded == 1'
	grep -q "next hop 127.0.0.1:9 is not in the topology" "$BATS_TEST_TMPDIR/gw.log"
	run nym-gateway --keys "$BATS_TEST_TMPDIR/gw" --topology /dev/null --listen 127.0.0.1:$(free_port)
	assert_failure 1
}

@test "nym-gateway: a client that floods requests and never reads its replies is cut off" {
	start_gw
	run "$GWPEER" -t 10 "127.0.0.1:$WS" "$GK" register "$(seed)" key flood 400000 drain
	assert_success
	assert_line --partial '"closed":true'
	grep -q "client does not read its replies; closing" "$BATS_TEST_TMPDIR/gw.log"
	run peer text '{"type":"supportedProtocol"}' recv
	assert_success
	assert_output '{"type":"supportedProtocol","version":6}'
}

@test "nym-gateway: --max-conns: a flood of unauthenticated connections is capped, an authenticated client keeps working" {
	start_gw --max-conns 40 --stats 1
	# a client authenticates, holds its connection through the flood, then uses it
	"$GWPEER" -t 20 "127.0.0.1:$WS" "$GK" register "$(seed)" key text '{"type":"claimFreeTestnetBandwidth"}' \
		recv hold 3500 text '{"type":"supportedProtocol"}' recv >"$BATS_TEST_TMPDIR/client.out" 2>&1 &
	client=$!
	wait_line "$BATS_TEST_TMPDIR/client.out" '"client"'
	# 300 websocket connections that never authenticate, held 2.5 s (those
	# beyond the share are closed as soon as they are upgraded)
	run "$GWPEER" -t 20 "127.0.0.1:$WS" "$GK" many 300 2500
	assert_success
	wait "$client"
	run cat "$BATS_TEST_TMPDIR/client.out"
	assert_output --partial '"type":"supportedProtocol"'
	# never more than 3/4 of the cap unauthenticated, plus the client
	sleep 1.2
	run jq -s 'map(.connected) | max' "$BATS_TEST_TMPDIR/gw.out"
	[ "$output" -le 31 ]
	# the flood is gone: a new client gets in and authenticates
	run peer register "$(seed)" key text '{"type":"claimFreeTestnetBandwidth"}' recv
	assert_success
	run nym-gateway --max-conns 0
	assert_failure 2
}

@test "nym-gateway: over the unauthenticated cap, an upgrade is refused with HTTP 503 before the handshake (no 101)" {
	start_gw --max-conns 8 --stats 1
	# 6 = 3/4 of the cap: connections that never authenticate, held 4 s
	"$GWPEER" -t 20 "127.0.0.1:$WS" "$GK" many 6 4000 >"$BATS_TEST_TMPDIR/flood.out" 2>&1 3>&- &
	flood=$!
	sleep 1.5
	run curl -s -i -m 3 -H "Connection: Upgrade" -H "Upgrade: websocket" -H "Sec-WebSocket-Version: 13" \
		-H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" "http://127.0.0.1:$WS/"
	wait "$flood" || true
	assert_output --partial " 503 Service Unavailable"
	refute_output --partial "101 Switching Protocols"
	# once the flood is gone, the upgrade is answered as ever
	run curl -s -i -m 2 -H "Connection: Upgrade" -H "Upgrade: websocket" -H "Sec-WebSocket-Version: 13" \
		-H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" "http://127.0.0.1:$WS/"
	assert_output --partial "101 Switching Protocols"
}

@test "nym-gateway: --listen and --mix-listen with an address this host lacks, a bad or unresolvable one: exit 1, one line" {
	nym-keygen --node --dir "$BATS_TEST_TMPDIR/gw" >/dev/null
	for a in 10.255.255.1 999.0.0.1 nosuch.invalid; do
		p=$(free_port)
		run timeout 5 nym-gateway --keys "$BATS_TEST_TMPDIR/gw" --listen "$a:$p" --mix-listen "127.0.0.1:$(free_port)"
		assert_failure 1
		assert_output --partial "$a:$p"
		[ "${#lines[@]}" -eq 1 ]
		run timeout 5 nym-gateway --keys "$BATS_TEST_TMPDIR/gw" --mix-listen "$a:$p" --listen "127.0.0.1:$(free_port)"
		assert_failure 1
		assert_output --partial "$a:$p"
		[ "${#lines[@]}" -eq 1 ]
	done
}
