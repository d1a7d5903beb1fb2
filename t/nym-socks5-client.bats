#!/usr/bin/env bats
# nym-socks5-client: curl through the SOCKS proxy, the local mixnet (zero mix
# delays) and a network requester to a local web server (t/bin/httpd.py):
# bodies byte-exact, parallel connections, uploads, refusals, a requester
# that dies, hostile local applications (doc/spec/socks5.md §7, §8).
load helpers
load mixnet

HTTPD="$BATS_TEST_DIRNAME/bin/httpd.py"

# A background process of the file: NAME COMMAND... (output in F/NAME.out, .err).
bg() {
	local name=$1; shift
	# 3>&-: bats waits for every holder of its fd 3
	"$@" > "$F/$name.out" 2> "$F/$name.err" 3>&- &
	echo $! > "$F/$name.pid"
}

# Stop a background process by its pid file, bounded.
bg_stop() {
	local p
	p=$(cat "$F/$1.pid" 2>/dev/null) || return 0
	kill "$p" 2>/dev/null || true
	for _ in $(seq 100); do running "$p" || break; sleep 0.05; done
	kill -9 "$p" 2>/dev/null || true
	rm -f "$F/$1.pid"
}

# Wait (20 s) until FILE has a line matching RE.
wait_for() {
	for _ in $(seq 400); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
	echo "no '$2' in $1:" >&2
	cat "$1" >&2
	return 1
}

# A network requester NAME of our own (the localnet's is an open proxy): init, run ARGS...
# in the background; its address in F/NAME.addr.
requester_start() {
	local name=$1; shift
	nym-network-requester init --id "$name" --gateway "$NYM_GATEWAY" --quiet > "$F/$name.addr"
	bg "$name" nym-network-requester run --id "$name" "$@"
	wait_for "$F/$name.err" 'connected as'
}

# A SOCKS client NAME for the requester at ADDRESS on PORT: init, then run ARGS... in the
# background (stderr in F/NAME.err), up when it says where it listens.
socks_start() {
	local name=$1 provider=$2 port=$3; shift 3
	nym-socks5-client init --id "$name" --provider "$provider" --gateway "$NYM_GATEWAY" \
		--port "$port" --quiet > "$F/$name.addr"
	# Under make asan, a small quarantine: freed memory AddressSanitizer holds back
	# (256 MiB by default) would drown the memory bound the upload test checks.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16" \
		bg "$name" nym-socks5-client run --id "$name" --no-cover "$@"
	wait_for "$F/$name.err" 'SOCKS proxy on'
}

setup_file() {
	export F="$BATS_FILE_TMPDIR"
	mixnet_up --delay-mean 0
	export HOME="$F/home" NYM_HOME_DIR="$F/home"
	mkdir -p "$HOME" "$F/www"
	mixnet_env
	export NYM_API="$MIXNET_API"
	head -c 4194304 /dev/urandom > "$F/www/big"
	head -c 262144 /dev/urandom > "$F/www/quarter"
	head -c 1048576 /dev/urandom > "$F/upload"
	WEB=$(free_port)
	echo "$WEB" > "$F/web.port"
	bg httpd python3 "$HTTPD" "$WEB" "$F/www"
	wait_for "$F/httpd.out" http://
	bg httpd6 python3 "$HTTPD" "$WEB" "$F/www" ::1
	wait_for "$F/httpd6.out" http://
	# the localnet's requester (open proxy, local destinations allowed) serves s1; req2,
	# with an exit policy that refuses one port, serves s2
	[ -n "${NYM_NETWORK_REQUESTER:-}" ] || { echo "nym-localnet started no requester" >&2; return 1; }
	SOCKS=$(free_port)
	echo "$SOCKS" > "$F/socks.port"
	socks_start s1 "$NYM_NETWORK_REQUESTER" "$SOCKS" --verbose
	BLOCKED=$(free_port)
	echo "$BLOCKED" > "$F/blocked.port"
	printf 'ExitPolicy reject 127.0.0.1:%s\nExitPolicy accept *:*\n' "$BLOCKED" > "$F/policy"
	requester_start req2 --exit-policy "$F/policy" --allow-local-ips
	SOCKS2=$(free_port)
	echo "$SOCKS2" > "$F/socks2.port"
	socks_start s2 "$(cat "$F/req2.addr")" "$SOCKS2" --health-timeout 2
}

teardown_file() {
	for p in s1 s2 s3 req2 httpd httpd6; do bg_stop "$p"; done
	mixnet_down
}

setup() {
	F="$BATS_FILE_TMPDIR"
	export HOME="$F/home" NYM_HOME_DIR="$F/home"
	mixnet_env
	export NYM_API="$MIXNET_API"
	cd "$BATS_TEST_TMPDIR"
	WEB=$(cat "$F/web.port")
	SOCKS=$(cat "$F/socks.port")
	SOCKS2=$(cat "$F/socks2.port")
	BLOCKED=$(cat "$F/blocked.port")
}

@test "init: the official layout (config.toml [core.socks5]), the address printed; usage errors" {
	A=$(cat "$F/s1.addr")
	run nym-keygen --check "$A"
	assert_success
	cfg="$HOME/.nym/socks5-clients/s1/config/config.toml"
	grep -qx "provider_mix_address = '$NYM_NETWORK_REQUESTER'" "$cfg"
	grep -qx "bind_address = '127.0.0.1:$SOCKS'" "$cfg"
	grep -qx 'send_anonymously = false' "$cfg"
	[ -f "$HOME/.nym/socks5-clients/s1/data/gateway_shared_key.pem" ]
	run -2 nym-socks5-client init --id x
	assert_output --partial "needs --provider"
	run -1 nym-socks5-client init --id x --provider nonsense
	assert_output --partial "not a Nym address"
	run -1 nym-socks5-client run --id nobody
	assert_output --partial "nym-socks5-client init --id nobody"
	run -2 nym-socks5-client run --id s1 --use-reply-surbs true
	run -0 nym-socks5-client --help
	assert_output --partial "--use-anonymous-replies"
}

@test "curl --socks5-hostname, --socks5, --socks4a: a 4 MiB body, byte-exact" {
	for how in --socks5-hostname --socks5 --socks4a; do
		host=127.0.0.1
		[ "$how" = --socks5 ] || host=localhost
		start=$(date +%s%N)
		run -0 timeout 120 curl -sS --max-time 100 "$how" "127.0.0.1:$SOCKS" -o got "http://$host:$WEB/big"
		ms=$((($(date +%s%N) - start) / 1000000))
		echo "# $how: 4 MiB in $ms ms" >&3
		cmp got "$F/www/big" || fail "$how: the body differs"
	done
}

@test "an IPv6 destination ([::1], SOCKS5 address type 04, sent as the official client writes it)" {
	run -0 timeout 120 curl -sS --max-time 100 --socks5 "127.0.0.1:$SOCKS" -o got "http://[::1]:$WEB/quarter"
	cmp got "$F/www/quarter" || fail "the body differs"
	grep -q "0:0:0:0:0:0:0:1:$WEB: connecting" "$F/s1.err" || fail "$(cat "$F/s1.err")"
}

@test "16 parallel downloads, each byte-exact" {
	for i in $(seq 16); do
		timeout 120 curl -sS --max-time 100 --socks5-hostname "127.0.0.1:$SOCKS" -o "got$i" \
			"http://localhost:$WEB/quarter" 2> "err$i" &
		echo $! >> pids
	done
	for p in $(cat pids); do wait "$p" || fail "a download failed: $(cat err*)"; done
	for i in $(seq 16); do cmp "got$i" "$F/www/quarter" || fail "download $i differs"; done
}

@test "a POST upload of 1 MiB arrives whole" {
	want="1048576 $(sha256sum < "$F/upload" | cut -d' ' -f1)"
	run -0 timeout 120 curl -sS --max-time 100 --socks5-hostname "127.0.0.1:$SOCKS" -H 'Expect:' \
		--data-binary @"$F/upload" "http://localhost:$WEB/upload"
	assert_output "$want"
}

@test "a fast upload waits for the mixnet: the proxy's memory stays bounded" {
	# an application that pushes 256 MiB as fast as the proxy takes them, for 6 s
	python3 - "$SOCKS" "$WEB" <<-'PY' || fail "the upload"
	import socket, struct, sys, time
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
	s.sendall(b"\x05\x01\x00"); assert s.recv(2) == b"\x05\x00"
	s.sendall(b"\x05\x01\x00\x01\x7f\x00\x00\x01" + struct.pack(">H", int(sys.argv[2])))
	assert s.recv(10)[:2] == b"\x05\x00"
	s.sendall(b"POST /upload HTTP/1.0\r\nContent-Length: 268435456\r\n\r\n")
	s.settimeout(0.2)
	chunk, sent, end = b"\0" * 65536, 0, time.time() + 6
	while time.time() < end:
	    try:
	        sent += s.send(chunk)
	    except socket.timeout:
	        pass
	print(f"# pushed {sent >> 20} MiB in 6 s", file=sys.stderr)
	s.close()
	PY
	hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$(cat "$F/s1.pid")/status")
	echo "# nym-socks5-client peak memory: $((hwm / 1024)) MiB" >&3
	# 48 MiB (measured: 14 MiB, and 88 MiB with the back-pressure taken out); an ASan
	# build (shadow memory, a 16 MiB quarantine) gets 200
	limit=48
	if nm "$(command -v nym-socks5-client)" 2>/dev/null | grep -q __asan_init; then limit=200; fi
	[ "$hwm" -lt $((limit * 1024)) ] || fail "peak memory $((hwm / 1024)) MiB (limit $limit)"
	running "$(cat "$F/s1.pid")"
}

@test "a destination the exit policy refuses: curl fails within seconds, stderr says why" {
	start=$(date +%s)
	run ! timeout 60 curl -sS --socks5-hostname "127.0.0.1:$SOCKS2" "http://127.0.0.1:$BLOCKED/"
	took=$(($(date +%s) - start))
	echo "# refused after $took s" >&3
	[ "$took" -le 10 ] || fail "took $took s"
	grep -q "127.0.0.1:$BLOCKED: closed: refused by the network requester: Domain \"127.0.0.1:$BLOCKED\" failed filter check" \
		"$F/s2.err" || fail "$(cat "$F/s2.err")"
	# a destination where nothing listens: closed at once too
	dead=$(free_port)
	start=$(date +%s)
	run ! timeout 60 curl -sS --socks5-hostname "127.0.0.1:$SOCKS" "http://127.0.0.1:$dead/"
	took=$(($(date +%s) - start))
	[ "$took" -le 10 ] || fail "took $took s"
	grep -q "could not connect to 127.0.0.1:$dead" "$F/s1.err" || fail "$(cat "$F/s1.err")"
}

@test "--use-anonymous-replies: the requester answers through reply SURBs; 256 KiB byte-exact" {
	PORT3=$(free_port)
	socks_start s3 "$NYM_NETWORK_REQUESTER" "$PORT3" --use-anonymous-replies
	grep -q '^send_anonymously = false' "$HOME/.nym/socks5-clients/s3/config/config.toml"
	run -0 timeout 120 curl -sS --max-time 100 --socks5-hostname "127.0.0.1:$PORT3" -o got \
		"http://localhost:$WEB/quarter"
	cmp got "$F/www/quarter" || fail "the body differs"
	bg_stop s3
}

@test "hostile local applications (garbage, huge lengths, half a request) are dropped; others served" {
	python3 - "$SOCKS" <<-'PY' || fail "hostile clients"
	import socket, sys
	port = int(sys.argv[1])
	def conn():
	    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(10); return s
	s = conn(); s.sendall(b"GET / HTTP/1.1\r\n\r\n"); assert s.recv(10) == b""          # not SOCKS: closed
	s = conn(); s.sendall(b"\x05\x01\x02"); assert s.recv(10) == b"\x05\xff"            # no method 00
	s = conn(); s.sendall(b"\x04\x01\x00\x50\x01\x02\x03\x04" + b"A" * 100000)          # endless user id
	assert s.recv(10)[:2] == b"\x00\x5b"
	s = conn(); s.sendall(b"\x05\x01\x00\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50")      # BIND
	assert s.recv(2) == b"\x05\x00" and s.recv(10)[:2] == b"\x05\x07"
	half = [conn() for _ in range(50)]
	for h in half: h.sendall(b"\x05\x01\x00\x05\x01\x00\x03\xff")                        # half a request
	PY
	run -0 timeout 60 curl -sS --max-time 50 --socks5-hostname "127.0.0.1:$SOCKS" -o got "http://localhost:$WEB/quarter"
	cmp got "$F/www/quarter"
	running "$(cat "$F/s1.pid")"
}

@test "the requester killed mid-download: curl fails, nothing hangs" {
	timeout 60 curl -sS --limit-rate 200k --socks5-hostname "127.0.0.1:$SOCKS2" -o got \
		"http://localhost:$WEB/big" 2> curl.err &
	curl=$!
	for _ in $(seq 400); do [ -s got ] && break; sleep 0.05; done
	[ -s got ] || fail "no data came"
	kill "$(cat "$F/req2.pid")"
	start=$(date +%s)
	if wait "$curl"; then fail "curl succeeded"; fi
	took=$(($(date +%s) - start))
	echo "# curl ended $took s after the kill: $(cat curl.err)" >&3
	[ "$took" -le 20 ] || fail "took $took s"
	grep -q "the network requester does not answer" "$F/s2.err" || fail "$(cat "$F/s2.err")"
	running "$(cat "$F/s2.pid")"
}
