#!/usr/bin/env bats
# nym-client: init (keys, registration, config.toml) and run (the official
# websocket API, doc/spec/client-websocket.md), driven by an application
# written from the spec in Python (t/bin/wsapp.py, Debian's python3-websockets).
load helpers
load mixnet

PY=/usr/bin/python3
APP="$BATS_TEST_DIRNAME/bin/wsapp.py"

setup_file() {
	mixnet_up
}

teardown_file() {
	mixnet_down
}

setup() {
	mixnet_clients bob
	PORT=$(( $(free_port_range) + 1 ))
}

teardown() {
	client_stop
	recv_stop bob
}

# init alice on $PORT; her address in $A
init_alice() {
	A=$(nym-client init --id alice --gateway "$NYM_GATEWAY" --port "$PORT" --quiet)
}

# nym-client run (or $CLIENT_CMD) for alice in the background; wait until its API answers
client_start() {
	nym-client "${CLIENT_CMD:-run}" --id alice "$@" > client.out 2> client.err 3>&- &
	echo $! > client.pid
	for _ in $(seq 400); do
		grep -q "connected as\|registered" client.err 2>/dev/null && return 0
		running "$(cat client.pid)" || break
		sleep 0.05
	done
	cat client.err >&2
	return 1
}

client_stop() {
	local p
	p=$(cat client.pid 2>/dev/null) || return 0
	kill "$p" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
	rm -f client.pid
}

app() { timeout 60 "$PY" "$APP" "ws://127.0.0.1:$PORT"; }
# the 2019 TCP-socket API's application (t/bin/tcpapp.py), on $TPORT
tcpapp() { timeout 60 "$PY" "$BATS_TEST_DIRNAME/bin/tcpapp.py" "$TPORT"; }
tcp_start() {
	TPORT=$(( PORT + 1 ))
	CLIENT_CMD=tcpsocket client_start --port "$TPORT" "$@"
}

@test "init: keys in nym-keygen's layout, registered, config.toml [socket], the address printed" {
	init_alice
	[ "$A" = "$(address alice)" ]
	run nym-keygen --check "$A"
	assert_success
	[ -f "$HOME/.nym/clients/alice/data/gateway_shared_key.pem" ]
	cfg="$HOME/.nym/clients/alice/config/config.toml"
	grep -qx '\[socket\]' "$cfg"
	grep -qx 'socket_type = "WebSocket"' "$cfg"
	grep -qx 'host = "127.0.0.1"' "$cfg"
	grep -qx "listening_port = $PORT" "$cfg"
	# a second init keeps the keys
	run nym-client init --id alice --port "$PORT"
	assert_success
	assert_line "$A"
}

@test "every request and response form, text and binary" {
	init_alice
	client_start
	anon_tag=
	run app <<-EOT
	text {"type":"selfAddress"}
	recv
	self-bin
	recv
	text {"type":"send","message":"plain text","recipient":"$A","connectionId":7}
	recv
	recv
	send-bin $A plainbin 9
	recv
	recv
	text {"type":"sendAnonymous","message":"anon text","recipient":"$A","replySurbs":10}
	recv
	anon-bin $A anonbin 10 0
	recv
	lane-bin 9
	recv
	closed-bin 9
	text {"type":"send","message":"no lane","recipient":"$A"}
	recv
	EOT
	assert_success
	assert_line --index 0 "text {\"type\":\"selfAddress\",\"address\":\"$A\"}"
	assert_line --index 1 "bin selfAddress $A"
	assert_line --index 2 --regexp '^text \{"type":"laneQueueLength","lane":7,"queue_length":[0-9]+\}$'
	assert_line --index 3 'text {"type":"received","message":"plain text","senderTag":null}'
	assert_line --index 4 --regexp '^bin laneQueueLength 9 [0-9]+$'
	assert_line --index 5 'bin received null plainbin'
	# pushes follow the last request's frame type
	assert_line --index 6 --regexp '^text \{"type":"received","message":"anon text","senderTag":"[1-9A-HJ-NP-Za-km-z]+"\}$'
	assert_line --index 7 --regexp '^bin received [1-9A-HJ-NP-Za-km-z]+ anonbin$'
	assert_line --index 8 --regexp '^bin laneQueueLength 9 [0-9]+$'
	assert_line --index 9 'text {"type":"received","message":"no lane","senderTag":null}'
	[ "${#lines[@]}" -eq 10 ]
	# reply through the SURBs of the anonymous sender (ourselves), both forms
	tag=$(echo "${lines[6]}" | sed 's/.*"senderTag":"\([^"]*\)".*/\1/')
	run app <<-EOT
	text {"type":"reply","message":"reply text","senderTag":"$tag"}
	recv
	reply-bin $tag replybin 0
	recv
	EOT
	assert_success
	assert_line --index 0 'text {"type":"received","message":"reply text","senderTag":null}'
	assert_line --index 1 'bin received null replybin'
}

@test "errors: malformed JSON, missing fields, wrong lengths, invalid keys, unknown tags" {
	init_alice
	client_start
	bad=$(echo "$A" | sed 's/^./1/')
	r96=$(printf '%0192d' 0)
	f96=$(printf 'ff%.0s' $(seq 96))
	run app <<-EOT
	text {"type":
	recv
	text {"type":"send","message":"x"}
	recv
	text {"type":"closedConnection"}
	recv
	text {"type":"send","message":"x","recipient":"nonsense"}
	recv
	text {"type":"reply","message":"x","senderTag":"zXExeyvPEHUk9rjXTu78T"}
	recv
	bin 09
	recv
	bin
	recv
	bin 00$r96
	recv
	bin 00${r96}00000000000000000000000000000005
	recv
	bin 04000000000000002a00
	recv
	bin 00${f96}00000000000000000000000000000000
	recv
	bin 00ffffffffffffffffffffffffffffffffffffffffffffffff
	recv
	text {"type":"selfAddress"}
	recv
	EOT
	assert_success
	assert_line --index 0 --regexp '^text \{"type":"error","message":"malformed request:.*line 1'
	assert_line --index 1 --partial '"message":"malformed request:missing field `recipient`"'
	assert_line --index 2 --partial '"message":"malformed request:unknown variant `closedConnection`'
	assert_line --index 3 --partial '"message":"malformed request:malformed recipient'
	assert_line --index 4 --partial '"message":"other:no reply SURBs for this sender tag"'
	assert_line --index 5 'bin error 3 unknown request type:unknown request tag'
	assert_line --index 6 'bin error 1 received request contained no data:empty request'
	assert_line --index 7 --regexp '^bin error 2 received request did not contain enough data:'
	assert_line --index 8 --regexp '^bin error 4 malformed request:data length'
	assert_line --index 9 --regexp '^bin error 4 malformed request:'
	# keys that name no gateway of the network
	assert_line --index 10 "bin error 255 other:the recipient's gateway is not in the topology"
	assert_line --index 11 --regexp '^bin error 2 '
	# still serving
	assert_line --index 12 "text {\"type\":\"selfAddress\",\"address\":\"$A\"}"
}

@test "usage: --help, --version, exit 2 on bad usage" {
	run nym-client --help
	assert_success
	assert_output --partial "Usage: nym-client init"
	run nym-client --version
	assert_success
	run nym-client
	assert_failure 2
	run nym-client frob
	assert_failure 2
	run nym-client run --port 0
	assert_failure 2
	run nym-client init --disable-socket
	assert_failure 2
}
@test "messages for no application are kept, delivered in order on the next connection, across a restart" {
	init_alice
	client_start
	for m in one two three; do
		echo "$m" | nym-send --id bob --to "$A" --quiet --timeout 30
	done
	sleep 2
	client_stop
	[ -s "$HOME/.nym/clients/alice/data/held" ]
	client_start
	run app <<-EOT
	recv
	recv
	recv
	EOT
	assert_success
	assert_line --index 0 'bin received null one'
	assert_line --index 1 'bin received null two'
	assert_line --index 2 'bin received null three'
}

@test "a non-reading application blocks no one and loses nothing" {
	init_alice
	client_start
	{ printf 'text {"type":"selfAddress"}\nrecv\nsleep 6\nquiet 8\n' | app > slow.out; } 3>&- &
	sp=$!
	sleep 1
	for m in m1 m2 m3; do
		run nym-send --id alice --to "$A" --quiet --timeout 30 <<< "$m"
		assert_success
	done
	wait "$sp"
	grep -c '"type":"received"' slow.out | grep -qx 3
	run grep -o '"message":"m[0-9]' slow.out
	assert_output $'"message":"m1\n"message":"m2\n"message":"m3'
}

@test "one gateway connection: nym-send and nym-recv of the identity work through nym-client" {
	init_alice
	client_start
	nym-recv --id alice --count 1 --timeout 30 > alice.out 2> alice.err 3>&- &
	rp=$!
	for _ in $(seq 200); do grep -q "connected through" alice.err 2>/dev/null && break; sleep 0.05; done
	grep -q "connected through the running nym-client as $A" alice.err
	echo "through the client" | nym-send --id alice --to "$A" --quiet --timeout 30
	wait "$rp"
	[ "$(cat alice.out)" = "through the client" ]
}

@test "run: the address is bound exactly or exit 1 with one line; non-loopback warns" {
	init_alice
	"$PY" -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(6)' "$PORT" 3>&- &
	lp=$!
	sleep 0.5
	run nym-client run --id alice --quiet
	assert_failure 1
	assert_output "nym-client: cannot listen on 127.0.0.1 port $PORT: Address already in use"
	kill "$lp" || true
	wait "$lp" || true
	run nym-client run --id alice --host localhost
	assert_failure 1
	assert_output --partial "not a numeric IPv4 or IPv6 address"
	client_start --host 0.0.0.0
	grep -q "warning: the websocket API listens on 0.0.0.0" client.err
}

@test "--disable-socket: no websocket API, the control socket still serves" {
	init_alice
	client_start --disable-socket true
	run app <<< "self-bin"
	assert_failure
	echo "ctl" | nym-send --id alice --to "$A" --quiet --timeout 30
}


@test "one application at a time: a second connection is shut; the next after it is served" {
	init_alice
	client_start
	{ printf 'text {"type":"selfAddress"}\nrecv\nsleep 3\n' | app > first.out; } 3>&- &
	fp=$!
	sleep 1
	run app <<-EOT
	text {"type":"selfAddress"}
	recv 5
	EOT
	assert_output "closed"
	wait "$fp"
	grep -q '"type":"selfAddress"' first.out
	run app <<-EOT
	text {"type":"selfAddress"}
	recv
	EOT
	assert_success
	assert_output --partial '"type":"selfAddress"'
}

@test "tcpsocket: details, send to self, fetch returns it exactly once, clients (empty), flush" {
	init_alice
	tcp_start
	gw=$(nym-keygen --id alice --show --json | jq -r .gateway)
	run tcpapp <<-EOT
	details
	flush
	recv
	recv
	clients
	send $A hello-2019
	flush
	recv
	recv
	recv
	wait-fetch hello-2019 30
	fetch
	flush
	recv
	recv
	EOT
	assert_success
	id_hex=$(echo "${A%%.*}" | "$PY" -c 'import sys; B="123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"; n=0
for c in sys.stdin.read().strip(): n=n*58+B.index(c)
print(n.to_bytes(32,"big").hex())')
	assert_line --index 0 --regexp "^details $A $id_hex $gw 127\.0\.0\.1 [0-9]+ [0-9a-f]{64}$"
	assert_line --index 1 "flush"
	assert_line --index 2 "clients 0"
	assert_line --index 3 "send"
	assert_line --index 4 "flush"
	assert_line --index 5 "fetch 1 hello-2019"
	# exactly once: the next fetch is empty
	assert_line --index 6 "fetch 0"
	assert_line --index 7 "flush"
	[ "${#lines[@]}" -eq 8 ]
	# fetched, but the connection closed before a flush wrote the answer: kept for the next
	run tcpapp <<-EOT
	send $A second-2019
	flush
	recv
	recv
	sleep 3
	fetch
	EOT
	assert_success
	run tcpapp <<< "wait-fetch second-2019 30"
	assert_output "fetch 1 second-2019"
}

@test "tcpsocket: an empty request is refused and the connection stays; garbage, a 4 GiB claim close it" {
	init_alice
	tcp_start
	# a second connection is served at the same time as this one
	{ printf 'details\nsleep 2\nflush\nrecv\nrecv\n' | tcpapp > other.out; } 3>&- &
	op=$!
	run tcpapp <<-EOT
	empty
	flush
	recv
	recv
	send nonsense x
	flush
	recv
	recv
	clients
	flush
	recv
	recv
	raw 0000000000000004ffffffff
	recv
	recv 5
	EOT
	assert_success
	assert_line --index 0 "exception Invalid server request"
	assert_line --index 1 "flush"
	assert_line --index 2 --regexp "^exception the recipient's Id is not a Nym address"
	assert_line --index 4 "clients 0"
	assert_line --index 6 --regexp "^exception not a Request"
	assert_line --index 7 "closed"
	run tcpapp <<-EOT
	raw 0000000100000000
	recv
	recv 5
	EOT
	assert_success
	assert_line --index 0 --regexp "^exception request longer than 1048576 bytes"
	assert_line --index 1 "closed"
	wait "$op"
	grep -q "^details $A " other.out || { cat other.out; fail "the other connection was not served"; }
	# the client is still up and serving
	run tcpapp <<< $'details\nflush\nrecv'
	assert_output --partial "details $A "
}

@test "large messages (10 MiB and more) both ways through the websocket API" {
	init_alice
	NYM_DELAY_MEAN_MS=0 client_start --no-poisson --no-cover
	head -c $(( (10 << 20) + 12345 )) /dev/urandom > big
	sum=$(sha256sum big | cut -c1-64)
	SECONDS=0
	run app <<-EOT
	send-bin-file $A big
	recv 50
	EOT
	assert_success
	assert_output "bin received null len=$(( (10 << 20) + 12345 )) sha256=$sum"
	echo "# 10 MiB to self in ${SECONDS}s" >&3
}

@test "a flood of sends waits in the application's socket: memory stays bounded, every message arrives" {
	init_alice
	# packets leave at 500/s; requests come faster
	NYM_DELAY_MEAN_MS=0 client_start --rate 500 --no-cover
	# 400 messages of 12 KB: 2800 packets, more than the 2048 let in unacknowledged
	run app <<-EOT
	flood-bin $A 400 12000
	count 400 100
	EOT
	assert_success
	assert_output "distinct 400 of 400"
	grep -q "packets not yet acknowledged: requests wait unread" client.err ||
		fail "nym-client never held the flood back"
	hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$(cat client.pid)/status")
	echo "# nym-client peak RSS: $hwm kB" >&3
	# (AddressSanitizer's own memory, under make asan, is several times more)
	limit=150000
	[ -z "${ASAN_OPTIONS:-}" ] || limit=600000
	[ "$hwm" -lt "$limit" ] || fail "peak RSS $hwm kB"
}
