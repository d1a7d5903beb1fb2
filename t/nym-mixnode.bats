#!/usr/bin/env bats
# nym-mixnode: packets through three mix nodes, replays, hostile input.
# Everything on 127.0.0.1, free ports, every wait bounded.
load helpers

# Node keys in $BATS_TEST_TMPDIR/NAME; prints nothing.
mknode() {
	nym-keygen --node --dir "$BATS_TEST_TMPDIR/$1" >/dev/null
}
sphinx_key() {
	nym-keygen --show --node --dir "$BATS_TEST_TMPDIR/$1" --json | jq -r .sphinx_key
}
identity_key() {
	nym-keygen --show --node --dir "$BATS_TEST_TMPDIR/$1" --json | jq -r .identity_key
}

# Start a mix node NAME on PORT (more options after); stats every 0.1 s.
start_mix() {
	local name=$1 port=$2
	shift 2
	nym-mixnode --keys "$BATS_TEST_TMPDIR/$name" --listen "127.0.0.1:$port" --stats 0.1 "$@" \
		>"$BATS_TEST_TMPDIR/$name.stats" 2>"$BATS_TEST_TMPDIR/$name.log" &
	echo $! >>"$BATS_TEST_TMPDIR/pids"
	wait_port "$port"
}

wait_port() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "port $1 never opened" >&2
	return 1
}

# A listener standing in for the next hop after the last mix node: writes
# every byte it receives on PORT to FILE, for at most SECS seconds.
start_sink() {
	cat >"$BATS_TEST_TMPDIR/sink.py" <<'EOF'
import socket, sys, time, select
port, path, secs = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(16)
out = open(path, "wb"); end = time.time() + secs; conns = [s]
while time.time() < end:
    r, _, _ = select.select(conns, [], [], max(0.0, end - time.time()))
    for c in r:
        if c is s:
            conns.append(s.accept()[0])
            continue
        d = c.recv(65536)
        if not d:
            conns.remove(c); c.close()
        else:
            out.write(d); out.flush()
EOF
	python3 "$BATS_TEST_TMPDIR/sink.py" "$1" "$2" "${3:-20}" &
	echo $! >>"$BATS_TEST_TMPDIR/pids"
	wait_port "$1"
}

# Send the files given to 127.0.0.1:PORT on one connection.
send_to() {
	local port=$1
	shift
	cat "$@" >"/dev/tcp/127.0.0.1/$port"
}

# The last stats line of NAME has JQ-expression EXPR true (within 5 s).
wait_stat() {
	for _ in $(seq 100); do
		tail -1 "$BATS_TEST_TMPDIR/$1.stats" 2>/dev/null | jq -e "$2" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "stats of $1 never satisfied $2; last: $(tail -1 "$BATS_TEST_TMPDIR/$1.stats")" >&2
	return 1
}

# Wait until FILE has at least N bytes (within 5 s).
wait_size() {
	for _ in $(seq 100); do
		[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
		sleep 0.05
	done
	echo "$1 has $(stat -c %s "$1" 2>/dev/null) bytes, wanted $2" >&2
	return 1
}

teardown() {
	[ -f "$BATS_TEST_TMPDIR/pids" ] || return 0
	while read -r p; do kill "$p" 2>/dev/null || true; done <"$BATS_TEST_TMPDIR/pids"
	while read -r p; do
		for _ in $(seq 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$p" 2>/dev/null || true
	done <"$BATS_TEST_TMPDIR/pids"
}

# Three mix nodes and a sink; a 4-hop packet (m1 m2 m3 gw) of PAYLOAD with
# mean delay MEAN (ms) framed as v8 into frame.bin.
three_nodes() {
	P1=$(free_port) P2=$(free_port) P3=$(free_port) PG=$(free_port)
	for n in m1 m2 m3 gw; do mknode $n; done
	K1=$(sphinx_key m1) K2=$(sphinx_key m2) K3=$(sphinx_key m3) KG=$(sphinx_key gw) IG=$(identity_key gw)
	start_mix m1 "$P1" "$@"
	start_mix m2 "$P2" "$@"
	start_mix m3 "$P3" "$@"
}

make_frame() { # PAYLOAD MEAN [SIZE]
	printf '%s' "$1" | nym-sphinx-wrap \
		--hop "127.0.0.1:$P1:$K1" --hop "127.0.0.1:$P2:$K2" --hop "127.0.0.1:$P3:$K3" \
		--hop "127.0.0.1:$PG:$KG" --destination "$IG" --delay-mean "$2" --size "${3:-regular}" >packet.bin
	case "${3:-regular}" in
	regular) tag='\001' ;; ack) tag='\002' ;; extended32) tag='\003' ;;
	extended8) tag='\004' ;; extended16) tag='\005' ;;
	esac
	printf "\010$tag\000\000" >frame.bin
	cat packet.bin >>frame.bin
}

@test "a packet crosses three mix nodes and arrives with the right bytes" {
	three_nodes
	start_sink "$PG" got.bin
	make_frame "hello through the mixnet" 5
	send_to "$P1" frame.bin
	wait_size got.bin 2417
	[ "$(stat -c %s got.bin)" -eq 2417 ]
	# v8 header, regular size, Sphinx, rotation Unknown carried along
	run sh -c 'head -c 4 got.bin | od -An -tx1 | tr -d " \n"'
	assert_output "08010000"
	tail -c 2413 got.bin >last.bin
	run nym-sphinx-wrap --unwrap --key "$BATS_TEST_TMPDIR/gw/x25519_sphinx_primary" <last.bin
	assert_success
	assert_output --partial "hello through the mixnet"
	for n in m1 m2 m3; do wait_stat $n '.received == 1 and .forwarded == 1 and .sent == 1 and .dropped_total == 0'; done
	run sh -c "tail -1 '$BATS_TEST_TMPDIR/m1.stats' | jq -e '.proc_us >= 0 and .queue_depth == 0'"
	assert_success
}

@test "v7 frames are accepted, --legacy-framing forwards v7, extended and ack sizes pass" {
	three_nodes --legacy-framing
	start_sink "$PG" got.bin
	make_frame "small" 0 ack
	printf '\007\002\000' >f7.bin
	cat packet.bin >>f7.bin
	make_frame "big" 0 extended32
	send_to "$P1" f7.bin frame.bin
	wait_size got.bin $((3 + 386 + 3 + 33133))
	run sh -c 'od -An -tx1 -N3 got.bin | tr -d " \n"'
	assert_output --regexp '^07(02|03)00$'
	wait_stat m3 '.forwarded == 2'
}

@test "replays are dropped and counted, the original still goes through" {
	three_nodes
	start_sink "$PG" got.bin
	make_frame "once" 0
	send_to "$P1" frame.bin frame.bin
	send_to "$P1" frame.bin
	wait_stat m1 '.received == 3 and .dropped.replay == 2 and .forwarded == 1'
	wait_size got.bin 2417
	sleep 0.3
	[ "$(stat -c %s got.bin)" -eq 2417 ]
	wait_stat m2 '.received == 1 and .forwarded == 1'
}

@test "bad MACs, unknown packet types and sizes are dropped and counted" {
	three_nodes
	start_sink "$PG" got.bin
	make_frame "flip" 0
	# flip one bit inside the routing info: the MAC fails
	python3 -c 'import sys; b=bytearray(open("frame.bin","rb").read()); b[4+100]^=1; open("bad.bin","wb").write(b)'
	# an Outfox frame of a valid Outfox size, and a Sphinx frame, on one connection
	python3 -c 'open("outfox.bin","wb").write(bytes([8,6,2,0])+bytes(2377))'
	send_to "$P1" bad.bin outfox.bin frame.bin
	wait_stat m1 '.dropped.bad_mac == 1 and .dropped.bad_size == 1 and .forwarded == 1'
	wait_size got.bin 2417
}

@test "garbage, stalled and oversized input: one log line, that connection dropped, others served" {
	three_nodes --frame-timeout 300 --max-conns 50
	start_sink "$PG" got.bin
	make_frame "still served" 0
	# garbage: a version byte that is not 7 or 8
	head -c 5000 /dev/urandom | { printf '\001'; cat; } >garbage.bin
	send_to "$P1" garbage.bin || true
	# a slow client: one header and a few bytes, then silence
	python3 - "$P1" <<'EOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(bytes([8, 1, 0, 0]) + b"x" * 100)
open("slow.up", "w").close()
time.sleep(2)
EOF
	slow=$!
	# the flood below must not take the slow client's place (python starts
	# slowly under the sanitizers): wait until it is connected and has written
	for _ in $(seq 200); do [ -e slow.up ] && break; sleep 0.05; done
	[ -e slow.up ]
	# many connections at once, beyond --max-conns
	python3 - "$P1" <<'EOF'
import socket, sys
cs = []
for i in range(300):
    try:
        cs.append(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2))
    except OSError:
        pass
for c in cs:
    try: c.sendall(b"\x00")
    except OSError: pass
EOF
	# a good packet on a fresh connection is still served
	send_to "$P1" frame.bin
	wait_size got.bin 2417
	wait_stat m1 '.forwarded == 1'
	for _ in $(seq 60); do grep -q 'frame left unfinished' "$BATS_TEST_TMPDIR/m1.log" && break; sleep 0.05; done
	wait "$slow" || true
	run cat "$BATS_TEST_TMPDIR/m1.log"
	assert_output --partial "connection dropped: bad frame (unsupported version)"
	assert_output --partial "connection dropped: frame left unfinished"
	assert_output --partial "connection refused: too many connections"
	[ "$(grep -c 'bad frame' "$BATS_TEST_TMPDIR/m1.log")" -ge 2 ]
	kill -0 "$(head -1 "$BATS_TEST_TMPDIR/pids")"
	wait_stat m1 '.dropped.bad_frame >= 2 and .conns_dropped >= 3'
}

# N connections to 127.0.0.1:PORT from 127.0.0.2 that send nothing; touches
# flood.up once all are made, and after SECS prints "early E late L open O":
# closed by the node within 0.3 s, closed later, still open.
idle_flood() {
	python3 - "$@" <<'EOF'
import socket, sys, time, select
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
t0 = time.time(); cs = []
for i in range(n):
    s = socket.socket(); s.bind(("127.0.0.2", 0))
    s.connect(("127.0.0.1", port)); cs.append(s)
open("flood.up", "w").close()
closed = {}
while time.time() < t0 + secs and len(closed) < n:
    r, _, _ = select.select([c for c in cs if c not in closed], [], [], 0.05)
    for c in r:
        try: d = c.recv(1)
        except OSError: d = b""
        if not d: closed[c] = time.time() - t0
early = sum(1 for t in closed.values() if t < 0.3)
print("early %d late %d open %d" % (early, len(closed) - early, n - len(closed)))
EOF
}

@test "--idle-timeout: silent connections are dropped, then a packet crosses; --topology nodes keep slots" {
	three_nodes --max-conns 40 --idle-timeout 800
	start_sink "$PG" got.bin 30
	make_frame "after the flood" 0
	# 60 silent strangers: 40 take every slot, 20 are refused at once; the 40
	# are dropped after the timeout
	run idle_flood "$P1" 60 4
	assert_output "early 20 late 40 open 0"
	grep -q 'connection dropped: idle' "$BATS_TEST_TMPDIR/m1.log"
	wait_stat m1 '.conns == 0'
	send_to "$P1" frame.bin
	wait_size got.bin 2417
	# a node with a --topology (every node on 127.0.0.1): strangers fill its
	# slots, a neighbour still gets in and its packet goes on
	cat >topo.json <<EOF
{"layers":{"1":[{"node_id":1,"identity_key":"$(identity_key m1)","sphinx_key":"$(sphinx_key m1)","mix_host":"127.0.0.1:$P1","layer":1}],
 "2":[{"node_id":2,"identity_key":"$(identity_key m2)","sphinx_key":"$(sphinx_key m2)","mix_host":"127.0.0.1:$P2","layer":2}],
 "3":[{"node_id":3,"identity_key":"$(identity_key m3)","sphinx_key":"$(sphinx_key m3)","mix_host":"127.0.0.1:$P3","layer":3}]},
 "gateways":[{"node_id":4,"identity_key":"$(identity_key gw)","sphinx_key":"$(sphinx_key gw)","mix_host":"127.0.0.1:$PG","layer":"gateway","ws_url":"ws://127.0.0.1:9","roles":["entry","exit"]}]}
EOF
	mknode m4
	P4=$(free_port)
	start_mix m4 "$P4" --topology topo.json --max-conns 40 --idle-timeout 30000
	rm -f flood.up
	idle_flood "$P4" 60 6 >flood.out &
	echo $! >>"$BATS_TEST_TMPDIR/pids"
	for _ in $(seq 100); do [ -e flood.up ] && break; sleep 0.05; done
	[ -e flood.up ]
	wait_stat m4 '.conns == 40'
	printf 'x' | nym-sphinx-wrap --hop "127.0.0.1:$P4:$(sphinx_key m4)" --hop "127.0.0.1:$PG:$KG" \
		--destination "$IG" --delay-mean 0 >p.bin
	printf '\010\001\000\000' | cat - p.bin >f.bin
	send_to "$P4" f.bin
	wait_stat m4 '.sent == 1 and .conns_dropped == 20'
}

@test "delays are held, and capped by --max-delay" {
	three_nodes --max-delay 100
	start_sink "$PG" got.bin
	# a mean of 100 s per hop: without the cap this would take minutes
	make_frame "capped" 100000
	start=$(date +%s%N)
	send_to "$P1" frame.bin
	wait_size got.bin 2417
	ms=$((($(date +%s%N) - start) / 1000000))
	echo "took $ms ms" >&3 2>/dev/null || true
	[ "$ms" -ge 250 ]  # three hops held ~100 ms each
	[ "$ms" -lt 3000 ]
}

@test "an unreachable next hop: packets wait, then go when it appears" {
	three_nodes
	make_frame "patience" 0
	send_to "$P1" frame.bin
	wait_stat m3 '.forwarded == 1 and .peer_queued == 1'
	start_sink "$PG" got.bin
	wait_size got.bin 2417
	wait_stat m3 '.sent == 1 and .peer_queued == 0'
	grep -q "next hop unreachable" "$BATS_TEST_TMPDIR/m3.log"
}

@test "--topology: next hops outside the topology are dropped" {
	three_nodes
	PX=$(free_port)
	# a topology that lists m1..m3 but not the sink
	cat >topo.json <<EOF
{"layers":{"1":[{"node_id":1,"identity_key":"$(identity_key m1)","sphinx_key":"$(sphinx_key m1)","mix_host":"127.0.0.1:$P1","layer":1}],
 "2":[{"node_id":2,"identity_key":"$(identity_key m2)","sphinx_key":"$(sphinx_key m2)","mix_host":"127.0.0.1:$P2","layer":2}],
 "3":[{"node_id":3,"identity_key":"$(identity_key m3)","sphinx_key":"$(sphinx_key m3)","mix_host":"127.0.0.1:$P3","layer":3}]},
 "gateways":[{"node_id":4,"identity_key":"$(identity_key gw)","sphinx_key":"$(sphinx_key gw)","mix_host":"127.0.0.1:$PX","layer":"gateway","ws_url":"ws://127.0.0.1:9","roles":["entry","exit"]}]}
EOF
	mknode m4
	P4=$(free_port)
	start_mix m4 "$P4" --topology topo.json
	printf 'x' | nym-sphinx-wrap --hop "127.0.0.1:$P4:$(sphinx_key m4)" --hop "127.0.0.1:$PG:$(sphinx_key gw)" \
		--destination "$(identity_key gw)" --delay-mean 0 >p.bin
	printf '\010\001\000\000' | cat - p.bin >f.bin
	send_to "$P4" f.bin
	wait_stat m4 '.dropped.bad_next_hop == 1 and .sent == 0'
}

@test "usage: keys required, bad options exit 2, --help and --version" {
	run nym-mixnode
	[ "$status" -eq 2 ]
	assert_output --partial "--keys DIR or --id NAME"
	run nym-mixnode --keys x --listen nowhere
	[ "$status" -eq 1 ] # an address that cannot be bound, as one this host lacks
	run nym-mixnode --keys x --workers lots
	[ "$status" -eq 2 ]
	run nym-mixnode --keys "$BATS_TEST_TMPDIR/none" --listen 127.0.0.1:0
	[ "$status" -eq 1 ]
	assert_output --regexp "^nym-mixnode: "
	run nym-mixnode --help
	assert_success
	assert_output --partial "Usage: nym-mixnode"
	run nym-mixnode --version
	assert_success
	assert_output --partial "nymkit"
}

@test "--id finds keys under NYM_HOME_DIR; SIGTERM prints final stats and exits 0" {
	nym-keygen --node --id mixy >/dev/null
	P=$(free_port)
	nym-mixnode --id mixy --listen "127.0.0.1:$P" --stats 60 >out.json 2>err.log &
	pid=$!
	wait_port "$P"
	kill -TERM "$pid"
	wait "$pid"
	run jq -e '.received == 0 and (.dropped | length) == 10' out.json
	assert_success
}

@test "key rotation: Odd/Even frames pick the key of that parity, Unknown tries primary then secondary" {
	P1=$(free_port) PG=$(free_port)
	# primary of rotation 3 (odd); the previous key (rotation 2, even) as secondary
	nym-keygen --node --rotation 3 --dir "$BATS_TEST_TMPDIR/rot" >/dev/null
	nym-keygen --node --rotation 2 --dir "$BATS_TEST_TMPDIR/old" >/dev/null
	cp "$BATS_TEST_TMPDIR/old/x25519_sphinx_primary" "$BATS_TEST_TMPDIR/rot/x25519_sphinx_secondary"
	mknode gw
	start_mix rot "$P1"
	start_sink "$PG" got.bin
	pkt() { # KEY-NODE ROTATION-BYTE OUT
		printf 'r' | nym-sphinx-wrap --hop "127.0.0.1:$P1:$(sphinx_key "$1")" \
			--hop "127.0.0.1:$PG:$(sphinx_key gw)" --destination "$(identity_key gw)" \
			--delay-mean 0 >p.bin
		{ printf "\\010\\001\\000\\$2"; cat p.bin; } >"$3"
	}
	pkt old 002 even-old.bin     # Even -> the secondary (even) key: processed
	pkt old 001 odd-old.bin      # Odd -> the primary (odd) key: MAC fails
	pkt old 000 unknown-old.bin  # Unknown -> primary fails, secondary works
	pkt rot 001 odd-new.bin      # Odd -> primary: processed
	pkt rot 002 even-new.bin     # Even -> secondary: MAC fails
	send_to "$P1" even-old.bin odd-old.bin unknown-old.bin odd-new.bin even-new.bin
	wait_stat rot '.received == 5 and .forwarded == 3 and .dropped.bad_mac == 2'
	wait_size got.bin $((3 * 2417))
	# the rotation byte travels on with the packet
	run python3 -c 'import sys; b=open("got.bin","rb").read(); print(sorted(b[i*2417+3] for i in range(3)))'
	assert_output "[0, 1, 2]"
	# a node with no key of the frame's parity: expired key
	P2=$(free_port)
	nym-keygen --node --rotation 3 --dir "$BATS_TEST_TMPDIR/solo" >/dev/null
	start_mix solo "$P2"
	send_to "$P2" even-old.bin
	wait_stat solo '.dropped.expired_key == 1'
}

@test "SIGHUP reloads the keys: a live rotation, the previous key kept as secondary" {
	P1=$(free_port) PG=$(free_port)
	nym-keygen --node --rotation 1 --dir "$BATS_TEST_TMPDIR/live" >/dev/null
	nym-keygen --node --rotation 2 --dir "$BATS_TEST_TMPDIR/next" >/dev/null
	mknode gw
	start_mix live "$P1"
	start_sink "$PG" got.bin
	pkt() { # KEY-NODE ROTATION-BYTE OUT
		printf 'h' | nym-sphinx-wrap --hop "127.0.0.1:$P1:$(sphinx_key "$1")" \
			--hop "127.0.0.1:$PG:$(sphinx_key gw)" --destination "$(identity_key gw)" \
			--delay-mean 0 >p.bin
		{ printf "\\010\\001\\000\\$2"; cat p.bin; } >"$3"
	}
	pkt next 002 new1.bin
	pkt next 002 new2.bin
	pkt live 001 old.bin
	send_to "$P1" new1.bin
	wait_stat live '.dropped.expired_key == 1'
	# rotate: the new key becomes primary, the old one secondary
	cp "$BATS_TEST_TMPDIR/live/x25519_sphinx_primary" "$BATS_TEST_TMPDIR/live/x25519_sphinx_secondary"
	cp "$BATS_TEST_TMPDIR/next/x25519_sphinx_primary" "$BATS_TEST_TMPDIR/live/x25519_sphinx_primary"
	kill -HUP "$(head -1 "$BATS_TEST_TMPDIR/pids")"
	for _ in $(seq 100); do grep -q 'keys reloaded' "$BATS_TEST_TMPDIR/live.log" && break; sleep 0.05; done
	run cat "$BATS_TEST_TMPDIR/live.log"
	assert_output --partial "keys reloaded: primary of rotation 2, and a secondary key"
	send_to "$P1" new2.bin old.bin
	wait_stat live '.forwarded == 2 and .dropped.expired_key == 1 and .dropped.bad_mac == 0'
	wait_size got.bin $((2 * 2417))
	# a broken key file on reload: the old keys stay, one line says why
	echo junk >"$BATS_TEST_TMPDIR/live/x25519_sphinx_secondary"
	kill -HUP "$(head -1 "$BATS_TEST_TMPDIR/pids")"
	for _ in $(seq 100); do grep -q 'keys not reloaded' "$BATS_TEST_TMPDIR/live.log" && break; sleep 0.05; done
	grep -q 'keys not reloaded' "$BATS_TEST_TMPDIR/live.log"
	kill -0 "$(head -1 "$BATS_TEST_TMPDIR/pids")"
}

@test "--listen: an address this host lacks, a bad or unresolvable one: exit 1, one line, nothing bound" {
	mknode m1
	for a in 10.255.255.1:$(free_port) 999.0.0.1:1789 nosuch.invalid:1789 127.0.0.1; do
		run timeout 5 nym-mixnode --keys "$BATS_TEST_TMPDIR/m1" --listen "$a"
		assert_failure 1
		assert_output --partial "$a"
		[ "${#lines[@]}" -eq 1 ]
	done
}
