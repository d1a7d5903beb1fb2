#!/usr/bin/env bats
# nym-network-requester: init (keys, registration, the official layout) and
# run over a local mixnet, driven by a SOCKS client side written from
# doc/spec/socks5.md alone (t/bin/nrclient.py, through nym-client's websocket
# API) against a local web server (Python's http.server).
load helpers
load mixnet

PY=/usr/bin/python3
NRC="$BATS_TEST_DIRNAME/bin/nrclient.py"

# nym-network-requester run --id $1 ARGS... with the file's home; waits until connected.
nr_start() {
	local id=$1; shift
	NYM_HOME_DIR="$NRHOME" HOME="$NRHOME" nym-network-requester run --id "$id" "$@" \
		> "$BATS_FILE_TMPDIR/$id.out" 2> "$BATS_FILE_TMPDIR/$id.err" 3>&- &
	echo $! > "$BATS_FILE_TMPDIR/$id.pid"
	for _ in $(seq 400); do
		grep -q "connected as\|registered" "$BATS_FILE_TMPDIR/$id.err" 2>/dev/null && return 0
		running "$(cat "$BATS_FILE_TMPDIR/$id.pid")" || break
		sleep 0.05
	done
	cat "$BATS_FILE_TMPDIR/$id.err" >&2
	return 1
}

nr_init() {
	NYM_HOME_DIR="$NRHOME" HOME="$NRHOME" nym-network-requester init --id "$1" --gateway "$NYM_GATEWAY" \
		--quiet > "$BATS_FILE_TMPDIR/$1.addr"
}

stop_pid() {
	local p
	p=$(cat "$1" 2>/dev/null) || return 0
	kill "$p" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
	kill -9 "$p" 2>/dev/null || true
	rm -f "$1"
}

setup_file() {
	mixnet_up
	mixnet_env
	export NRHOME="$BATS_FILE_TMPDIR/nrhome"
	mkdir -p "$NRHOME" "$BATS_FILE_TMPDIR/www"
	# the web server and its files
	head -c 300000 /dev/urandom > "$BATS_FILE_TMPDIR/www/300k.bin"
	head -c 20000 /dev/urandom > "$BATS_FILE_TMPDIR/www/20k.bin"
	HTTP_PORT=$(free_port)
	echo "$HTTP_PORT" > "$BATS_FILE_TMPDIR/http.port"
	( cd "$BATS_FILE_TMPDIR/www" && exec "$PY" -m http.server "$HTTP_PORT" --bind 127.0.0.1 ) \
		> "$BATS_FILE_TMPDIR/http.log" 2>&1 3>&- &
	echo $! > "$BATS_FILE_TMPDIR/http.pid"
	# an open proxy, and one whose exit policy refuses the web server's port
	nr_init open
	nr_start open --open-proxy --allow-local-ips
	nr_init strict
	printf '# the web server refused, the rest allowed\nExitPolicy reject 127.0.0.1/32:%s\nExitPolicy accept *:*\n' \
		"$HTTP_PORT" > "$BATS_FILE_TMPDIR/policy.txt"
	nr_start strict --exit-policy "$BATS_FILE_TMPDIR/policy.txt" --allow-local-ips
	# the application's nym-client
	WS_PORT=$(free_port)
	echo "$WS_PORT" > "$BATS_FILE_TMPDIR/ws.port"
	NYM_HOME_DIR="$NRHOME" HOME="$NRHOME" nym-client init --id app --gateway "$NYM_GATEWAY" --port "$WS_PORT" --quiet >/dev/null
	NYM_HOME_DIR="$NRHOME" HOME="$NRHOME" nym-client run --id app --port "$WS_PORT" \
		> "$BATS_FILE_TMPDIR/app.out" 2> "$BATS_FILE_TMPDIR/app.err" 3>&- &
	echo $! > "$BATS_FILE_TMPDIR/app.pid"
	for _ in $(seq 400); do
		grep -q "connected as\|registered" "$BATS_FILE_TMPDIR/app.err" 2>/dev/null && break
		sleep 0.05
	done
	# the web server answers
	for _ in $(seq 100); do
		"$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$HTTP_PORT" 2>/dev/null && break
		sleep 0.05
	done
}

teardown_file() {
	stop_pid "$BATS_FILE_TMPDIR/app.pid"
	stop_pid "$BATS_FILE_TMPDIR/open.pid"
	stop_pid "$BATS_FILE_TMPDIR/strict.pid"
	stop_pid "$BATS_FILE_TMPDIR/local.pid"
	stop_pid "$BATS_FILE_TMPDIR/fetched.pid"
	stop_pid "$BATS_FILE_TMPDIR/http.pid"
	mixnet_down
}

setup() {
	mixnet_clients
	HTTP_PORT=$(cat "$BATS_FILE_TMPDIR/http.port")
	WS="ws://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/ws.port")"
	OPEN=$(cat "$BATS_FILE_TMPDIR/open.addr")
	STRICT=$(cat "$BATS_FILE_TMPDIR/strict.addr")
}

teardown() {
	stop_pid "$BATS_TEST_TMPDIR/slow.pid"
}

# nrc NR COMMAND ARGS...: the test client, at most 60 s
nrc() { timeout 60 "$PY" "$NRC" "$WS" "$@"; }

# GET /$1 through NR $2 (options $3...) into got.bin; the body must be the file's bytes.
get_exact() {
	local file=$1 nr=$2; shift 2
	printf 'GET /%s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$file" |
		nrc "$nr" fetch "127.0.0.1:$HTTP_PORT" "$@" > "got-$file.$$" || return 1
	grep -qa '^HTTP/1.0 200' "got-$file.$$" || { head -c 300 "got-$file.$$" >&2; return 1; }
	local n
	n=$(stat -c %s "$BATS_FILE_TMPDIR/www/$file")
	tail -c "$n" "got-$file.$$" | cmp - "$BATS_FILE_TMPDIR/www/$file"
}

@test "--help, --version, usage errors exit 2, run before init says how" {
	run nym-network-requester --help
	assert_success
	assert_output --partial "init --id NAME"
	run nym-network-requester --version
	assert_success
	run nym-network-requester
	assert_failure 2
	run nym-network-requester fly
	assert_failure 2
	assert_output --partial "unknown command 'fly'"
	run nym-network-requester init --id x --open-proxy
	assert_failure 2
	run nym-network-requester run --id x --gateway "$NYM_GATEWAY"
	assert_failure 2
	run nym-network-requester run --id nobody --open-proxy
	assert_failure 1
	assert_output --partial "nym-network-requester init --id nobody"
	run nym-network-requester run --id nobody --exit-policy /nonexistent
	assert_failure 1
	assert_output --partial "nym-network-requester: --exit-policy: cannot open /nonexistent"
	printf 'ExitPolicy accept *:*\nExitPolicy permit 1.2.3.4:80\n' > bad.txt
	run nym-network-requester run --id nobody --exit-policy bad.txt
	assert_failure 1
	assert_output --partial "line 2: the action is not accept, reject, accept6 or reject6"
}

@test "init: keys in the official layout, registered, config.toml, the address printed; again keeps them" {
	unset NYM_TOPOLOGY
	run nym-network-requester init --id nr1 --gateway "$NYM_GATEWAY" --nym-apis "$MIXNET_API" --quiet
	assert_success
	addr=$output
	d="$HOME/.nym/service-providers/network-requester/nr1"
	[ -f "$d/data/private_identity.pem" ] || fail "no identity key"
	[ "$(stat -c %a "$d/data/private_identity.pem")" = 600 ] || fail "key not 0600"
	[ -f "$d/data/gateway_shared_key.pem" ] || fail "not registered"
	grep -qx '\[network_requester\]' "$d/config/config.toml" || fail "no [network_requester]"
	grep -qx "nym_api_urls = \[\"$MIXNET_API\"\]" "$d/config/config.toml" || fail "no nym_api_urls"
	[[ "$addr" == *"@$NYM_GATEWAY" ]] || fail "address $addr not at the gateway"
	run nym-keygen --check "$addr"
	assert_success
	run nym-network-requester init --id nr1 --quiet   # the network from config.toml
	assert_success
	assert_output "$addr"
}

@test "Connect and Send to a local web server: 300 KB come back exactly (plain, versioned)" {
	get_exact 300k.bin "$OPEN"
	grep -q '"GET /300k.bin HTTP/1.0" 200' "$BATS_FILE_TMPDIR/http.log" || fail "the web server saw no request"
}

@test "anonymous requests: answers through the sender's reply SURBs, more asked for when short" {
	# 300 KB need ~170 SURBs; the Connect brings 20, each Send 3
	get_exact 300k.bin "$OPEN" --anon
}

@test "legacy requests (the Rust SDK's form) get legacy answers, plain and anonymous" {
	get_exact 20k.bin "$OPEN" --legacy
	get_exact 20k.bin "$OPEN" --legacy --anon
}

@test "16 connections at once, each exact" {
	want="300000 $(sha256sum < "$BATS_FILE_TMPDIR/www/300k.bin" | cut -d' ' -f1)"
	run nrc "$OPEN" many 16 "127.0.0.1:$HTTP_PORT" /300k.bin
	assert_success
	[ "${#lines[@]}" -eq 16 ] || fail "${#lines[@]} answers"
	for l in "${lines[@]}"; do [ "$l" = "$want" ] || fail "got $l"; done
}

@test "control requests: health, binary info, supported versions (§3)" {
	run nrc "$OPEN" control health
	assert_success
	assert_output ""
	run nrc "$OPEN" control info
	assert_success
	assert_output --partial '{"binary_name":"nym-network-requester","build_information":{"binary_name":"nym-network-requester",'
	run nrc "$OPEN" control versions
	assert_success
	assert_output '{"interface_version":"{\"type\":\"Versioned\",\"version\":3}","provider_version":"{\"type\":\"Versioned\",\"version\":3}"}'
}

@test "queries: open proxy, description, exit policy (§6)" {
	run nrc "$OPEN" query openproxy
	assert_success
	assert_output 030103030001
	run nrc "$OPEN" query description
	assert_success
	assert_output "0301030301194465736372697074696f6e2028706c616365686f6c64657229"
	run nrc "$OPEN" query exitpolicy
	assert_success
	assert_output 03010303020100010100012a01fbffff
	run nrc "$STRICT" query openproxy
	assert_success
	assert_output 030103030000
	# reject 127.0.0.1/32:PORT, accept *:*
	p=$(printf '%04x' "$HTTP_PORT")
	run nrc "$STRICT" query exitpolicy
	assert_success
	assert_output "03010303020100010201""0c3132372e302e302e312f3332""fb${p}fb${p}""00012a01fbffff"
}

@test "a destination the exit policy refuses: ConnectionError 'Domain \"...\" failed filter check'" {
	run nrc "$STRICT" refused "127.0.0.1:$HTTP_PORT"
	assert_success
	assert_output "Domain \"127.0.0.1:$HTTP_PORT\" failed filter check"
	# the same requester serves what its policy allows
	get_exact 20k.bin "$OPEN"
	grep -q "refused 127.0.0.1:$HTTP_PORT" "$BATS_FILE_TMPDIR/strict.err" || fail "no word on stderr"
}

@test "loopback refused without --allow-local-ips, even as an open proxy" {
	NYM_HOME_DIR="$NRHOME" HOME="$NRHOME" nym-network-requester init --id local --gateway "$NYM_GATEWAY" \
		--quiet > "$BATS_FILE_TMPDIR/local.addr"
	nr_start local --open-proxy
	run nrc "$(cat "$BATS_FILE_TMPDIR/local.addr")" refused "127.0.0.1:$HTTP_PORT"
	assert_success
	assert_output "Domain \"127.0.0.1:$HTTP_PORT\" failed filter check"
	run nrc "$(cat "$BATS_FILE_TMPDIR/local.addr")" refused "[::1]:$HTTP_PORT"
	assert_success
	stop_pid "$BATS_FILE_TMPDIR/local.pid"
}

@test "a closed port: NetworkData seq 0, closed, empty — and nothing else" {
	port=$(free_port)
	run nrc "$OPEN" fetch "127.0.0.1:$port" < /dev/null
	assert_success
	assert_output ""
}

@test "garbage, huge lengths and far-future sequence numbers are dropped; the next connection works" {
	printf 'GET /20k.bin HTTP/1.0\r\n\r\n' | nrc "$OPEN" fetch "127.0.0.1:$HTTP_PORT" --garbage > got.bin
	tail -c 20000 got.bin | cmp - "$BATS_FILE_TMPDIR/www/20k.bin"
	grep -q "dropped a request that does not parse" "$BATS_FILE_TMPDIR/open.err" || fail "no word of the garbage"
	running "$(cat "$BATS_FILE_TMPDIR/open.pid")" || fail "the requester died"
	get_exact 20k.bin "$OPEN" --anon --garbage
}

@test "a destination that accepts and never answers does not stall another connection" {
	slow=$(free_port)
	"$PY" -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(8); time.sleep(60)' \
		"$slow" 3>&- &
	echo $! > slow.pid
	sleep 0.3
	run nrc "$OPEN" stall "127.0.0.1:$slow" "127.0.0.1:$HTTP_PORT" /300k.bin
	assert_success
	assert_output 300000
}

@test "a name is resolved at the requester (localhost:PORT); one that does not resolve is refused" {
	printf 'GET /20k.bin HTTP/1.0\r\n\r\n' | nrc "$OPEN" fetch "localhost:$HTTP_PORT" > got.bin
	tail -c 20000 got.bin | cmp - "$BATS_FILE_TMPDIR/www/20k.bin"
	run nrc "$OPEN" refused "no-such-host.invalid:80"
	assert_success
	assert_output 'Domain "no-such-host.invalid:80" failed filter check'
}

@test "--exit-policy URL: fetched once at start, its URL in the ExitPolicy answer" {
	printf 'ExitPolicy reject *:25\nExitPolicy accept *:*\n' > "$BATS_FILE_TMPDIR/www/policy.txt"
	url="http://127.0.0.1:$HTTP_PORT/policy.txt"
	NYM_HOME_DIR="$NRHOME" HOME="$NRHOME" nym-network-requester init --id fetched --gateway "$NYM_GATEWAY" \
		--quiet > "$BATS_FILE_TMPDIR/fetched.addr"
	nr_start fetched --exit-policy "$url" --allow-local-ips
	run nrc "$(cat "$BATS_FILE_TMPDIR/fetched.addr")" query exitpolicy
	stop_pid "$BATS_FILE_TMPDIR/fetched.pid"
	assert_success
	u=$(printf '%s' "$url" | od -An -tx1 | tr -d ' \n')
	assert_output "0301030302""01""$(printf '%02x' ${#url})$u""0102""01""012a""1919""00""012a""01fbffff"
	run nym-network-requester run --id nobody --exit-policy "http://127.0.0.1:$HTTP_PORT/missing.txt"
	assert_failure 1
	assert_output --partial "cannot fetch the exit policy"
}
