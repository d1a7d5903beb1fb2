#!/usr/bin/env bats
# nym-topology against a canned nym-api (t/fixtures/api-server.py, serving the
# answers the official wasm client accepted) and against its own serve mode.
# Everything on 127.0.0.1; never the internet.
load helpers

FIX="$BATS_TEST_DIRNAME/fixtures"
ADDR=6QZVLqGmTKJgdZiZYznz49SSswKeLkA1ytfPqQfWnwhR.tywsvhEZfxCdEGQBzbKXotRGzKWggGdZeqfJCgVxtFk@9sKSCDHm1jX9XC1zEgjxaqqms6GVe4GNymYHA7HUcDn6
PIDS=()

teardown() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -z "${HUNG_API_PID:-}" ] || kill "$HUNG_API_PID" 2>/dev/null || true
}

# wait_url FILE: the first line a server prints (its URL), waiting at most 5 s
wait_url() {
	for _ in $(seq 50); do
		[ -s "$1" ] && { head -1 "$1"; return 0; }
		sleep 0.1
	done
	echo "server did not start" >&2
	return 1
}

# start_api [DIR]: the canned nym-api on DIR (default: a copy of the fixtures); sets API
start_api() {
	local d=${1:-$BATS_TEST_TMPDIR/api}
	[ -d "$d" ] || cp -r "$FIX/api" "$d"
	python3 "$FIX/api-server.py" "$d" --lifetime 60 >"$BATS_TEST_TMPDIR/api.url" 3>&- &
	PIDS+=($!)
	API=$(wait_url "$BATS_TEST_TMPDIR/api.url")
}

# mutate FILE JQ: edit one answer of the canned API in place
mutate() {
	local f=$BATS_TEST_TMPDIR/api/$1
	jq "$2" "$f" >"$f.new" && mv "$f.new" "$f"
}

# start_serve FILE [ARGS...]: nym-topology serve on a free port; sets SERVE
start_serve() {
	local f=$1
	shift
	nym-topology serve --file "$f" --listen 127.0.0.1:0 "$@" >"$BATS_TEST_TMPDIR/serve.url" 2>"$BATS_TEST_TMPDIR/serve.err" 3>&- &
	SERVE_PID=$!
	PIDS+=($SERVE_PID)
	SERVE=$(wait_url "$BATS_TEST_TMPDIR/serve.url")
}

# http METHOD URL: "STATUS BODY" over one plain HTTP/1.1 request
http() {
	python3 - "$1" "$2" <<'EOF'
import http.client, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[2])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
c.request(sys.argv[1], u.path + ('?' + u.query if u.query else ''))
r = c.getresponse()
print(r.status, r.read().decode())
EOF
}

topology() { # a saved document of the fixtures
	start_api
	nym-topology --api "$API" >topo.json
}

@test "--help and --version" {
	run nym-topology --help
	assert_success
	assert_output --partial "Usage: nym-topology"
	assert_output --partial "custom-mixnet"
	run nym-topology --version
	assert_success
	assert_output --regexp "^nym-topology \(nymkit\) [0-9]"
}

@test "usage errors exit 2" {
	run nym-topology --bogus
	assert_failure 2
	run nym-topology --layer 4
	assert_failure 2
	assert_output --partial "--layer"
	run nym-topology --api http://127.0.0.1:1/ --file x
	assert_failure 2
	run nym-topology --format yaml
	assert_failure 2
	run nym-topology --gateways --mixnodes
	assert_failure 2
	run nym-topology frobnicate
	assert_failure 2
	run nym-topology serve
	assert_failure 2
	assert_output --partial "--file"
}

@test "the recorded official answers become one JSON document on a pipe" {
	start_api
	run nym-topology --api "$API"
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	echo "$output" >t.json
	[ "$(jq -r .source t.json)" = "$API" ]
	[ "$(jq -c '[.layers["1"][].node_id, .layers["2"][].node_id, .layers["3"][].node_id]' t.json)" = "[1,2,3]" ]
	[ "$(jq -r '.gateways[0].ws_url' t.json)" = "ws://127.0.0.1:9000" ]
	[ "$(jq -r '.gateways[0].identity_key' t.json)" = "9sKSCDHm1jX9XC1zEgjxaqqms6GVe4GNymYHA7HUcDn6" ]
	[ "$(jq -r '.gateways[0].layer' t.json)" = "gateway" ]
	[ "$(jq -r '.layers["1"][0].sphinx_key' t.json)" = "GHEgHYSqBxPacAQsHjfjcCb6Q39kUWmM6N5ehQPdSJQN" ]
	[ "$(jq -r '.layers["1"][0].mix_host' t.json)" = "127.0.0.1:17891" ]
	[ "$(jq -r '.layers["2"][0].layer' t.json)" = "2" ]
	[ "$(jq -r '.key_rotation.current_rotation_id' t.json)" = "0" ]
	[ "$(jq -r '.key_rotation.validity_epochs' t.json)" = "24" ]
	[ "$(jq -r '.epoch.absolute_epoch_id' t.json)" = "1" ]
	[ "$(jq -r '.fetched_at' t.json)" != "null" ]
}

@test "\$NYM_API is the default API" {
	start_api
	NYM_API=$API run nym-topology --json
	assert_success
	[ "$(echo "$output" | jq -r .source)" = "$API" ]
}

@test "--layer, --gateways, --mixnodes: one node per line" {
	topology
	run nym-topology --file topo.json --layer 2
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	[ "$(echo "$output" | jq .node_id)" = 2 ]
	run nym-topology --file topo.json --gateways
	assert_success
	[ "$(echo "$output" | jq -c '[.node_id, .layer, .ws_url]')" = '[4,"gateway","ws://127.0.0.1:9000"]' ]
	run nym-topology --file topo.json --mixnodes
	assert_success
	[ "$(echo "$output" | jq -s -c 'map(.node_id)')" = "[1,2,3]" ]
}

@test "a saved document reads back to the same document" {
	topology
	run nym-topology --file topo.json --json
	assert_success
	diff <(jq -S . topo.json) <(echo "$output" | jq -S .)
	run nym-topology --file - --json <topo.json
	assert_success
	diff <(jq -S 'del(.source)' topo.json) <(echo "$output" | jq -S 'del(.source)')
}

@test "a terminal gets a table, --json gets JSON" {
	topology
	run script -qec "nym-topology --file topo.json" /dev/null
	assert_success
	assert_output --partial "LAYER"
	assert_output --partial "ws://127.0.0.1:9000"
	assert_output --partial "3 mix nodes, 1 gateways"
	run script -qec "nym-topology --file topo.json --json" /dev/null
	assert_success
	echo "$output" | tr -d '\r' | jq -e .layers >/dev/null
}

@test "--format custom-mixnet: the official clients' file, keys as byte arrays, and back" {
	topology
	run nym-topology --file topo.json --format custom-mixnet
	assert_success
	echo "$output" >cm.json
	[ "$(jq '.node_details["1"].identity_key | length' cm.json)" = 32 ]
	[ "$(jq '.node_details["1"].sphinx_key[0]' cm.json)" = 227 ]
	[ "$(jq -c '.rewarded_set.layer3' cm.json)" = "[3]" ]
	[ "$(jq -c '.node_details["4"].entry' cm.json)" = '{"ip_addresses":["127.0.0.1"],"clients_ws_port":9000,"hostname":null,"clients_wss_port":null}' ]
	[ "$(jq -c '.node_details["4"].supported_roles' cm.json)" = '{"mixnode":false,"mixnet_entry":true,"mixnet_exit":true}' ]
	[ "$(jq -r '.metadata.key_rotation_id' cm.json)" = 0 ]
	run nym-topology --file cm.json --json
	assert_success
	diff <(jq -S '[.layers, .gateways]' topo.json) <(echo "$output" | jq -S '[.layers, .gateways]')
}

@test "route: one node per layer, then a gateway" {
	topology
	run nym-topology route --topology topo.json
	assert_success
	[ "$(echo "$output" | jq -c '[.hops[].layer]')" = '[1,2,3,"gateway"]' ]
	[ "$(echo "$output" | jq -c '.destination')" = null ]
	[ "$(echo "$output" | jq -r '.hops[0].mix_host')" = "127.0.0.1:17891" ]
	run nym-topology route --topology topo.json --to "$ADDR"
	assert_success
	[ "$(echo "$output" | jq -r .destination)" = "$ADDR" ]
	[ "$(echo "$output" | jq -r '.hops[3].identity_key')" = "9sKSCDHm1jX9XC1zEgjxaqqms6GVe4GNymYHA7HUcDn6" ]
}

@test "route: unknown gateway or bad address fails with one line" {
	topology
	run nym-topology route --topology topo.json --to "${ADDR%@*}@6QZVLqGmTKJgdZiZYznz49SSswKeLkA1ytfPqQfWnwhR"
	assert_failure 1
	assert_output "nym-topology: gateway 6QZVLqGmTKJgdZiZYznz49SSswKeLkA1ytfPqQfWnwhR is not in the topology"
	run nym-topology route --topology topo.json --to nonsense
	assert_failure 1
	assert_output --partial "is not a Nym address"
}

@test "route from the API directly" {
	start_api
	run nym-topology route --api "$API"
	assert_success
	[ "$(echo "$output" | jq '.hops | length')" = 4 ]
}

@test "serve: the official routes, paged, read back by nym-topology itself" {
	topology
	start_serve topo.json --per-page 1
	[[ "$SERVE" =~ ^http://127\.0\.0\.1:[0-9]+/$ ]]
	run nym-topology --api "$SERVE"
	assert_success
	diff <(jq -S '[.layers, .gateways, .key_rotation, .epoch]' topo.json) \
		<(echo "$output" | jq -S '[.layers, .gateways, .key_rotation, .epoch]')
	run http GET "${SERVE}v2/unstable/nym-nodes/skimmed/mixnodes/active?page=2"
	assert_success
	body=${output#200 }
	[ "$(echo "$body" | jq -c '.nodes.pagination')" = '{"total":3,"page":2,"size":1}' ]
	[ "$(echo "$body" | jq -c '.nodes.data[0].role')" = '{"Mixnode":{"layer":3}}' ]
	[ "$(echo "$body" | jq -r '.nodes.data[0].performance')" = 1 ]
}

@test "serve: the start-up requests of the official wasm client, /api/ prefix, errors" {
	topology
	start_serve topo.json
	run http GET "${SERVE}v2/unstable/nym-nodes/skimmed/entry-gateways?page=0&output=bincode"
	assert_output --regexp '^200 '
	body=${output#200 }
	[ "$(echo "$body" | jq -c '.nodes.data[0].supported_roles.mixnode')" = false ]
	[ "$(echo "$body" | jq -c '.nodes.data[0].entry')" = '{"hostname":null,"ws_port":9000,"wss_port":null}' ]
	[ "$(echo "$body" | jq -r '.nodes.data[0].role')" = EntryGateway ]
	run http GET "${SERVE}v1/epoch/key-rotation-info"
	assert_output --regexp '^200 '
	[ "$(echo "${output#200 }" | jq .progress.current_key_rotation_id)" = 0 ]
	run http GET "${SERVE}v1/nym-nodes/rewarded-set"
	[ "$(echo "${output#200 }" | jq -c .layer1)" = "[1]" ]
	run http GET "${SERVE}api/v1/nym-nodes/rewarded-set/"
	assert_output --regexp '^200 '
	run http GET "${SERVE}v1/epoch/current"
	[ "$(echo "${output#200 }" | jq .total_elapsed_epochs)" = 1 ]
	run http GET "${SERVE}v1/nope"
	assert_output --regexp '^404 '
	run http POST "${SERVE}v1/nym-nodes/rewarded-set"
	assert_output --regexp '^405 '
	run http HEAD "${SERVE}v1/nym-nodes/rewarded-set"
	assert_output "200 "
}

@test "serve: many connections, a silent client and an oversized request do not stall it" {
	topology
	start_serve topo.json
	port=${SERVE##*:}
	port=${port%/}
	run python3 - "$port" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(300)]
for s in idle[:100]:
    s.sendall(b"GET /v1/nym-nodes/rewarded-set HTTP/1.1\r\nHost: x\r\n")  # never finished
big = socket.create_connection(("127.0.0.1", port))
big.sendall(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n")
print(big.recv(100).split(b"\r\n")[0].decode())
t = time.time()
ok = 0
for _ in range(50):
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    c.sendall(b"GET /v1/nym-nodes/rewarded-set HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        d = c.recv(65536)
        if not d: break
        data += d
    ok += data.startswith(b"HTTP/1.1 200 OK")
# two pipelined requests on one connection
p = socket.create_connection(("127.0.0.1", port), timeout=5)
req = b"GET /v1/epoch/current HTTP/1.1\r\nHost: x\r\n\r\n"
p.sendall(req + req)
time.sleep(0.3)
print(ok, round(time.time() - t, 1) < 5, p.recv(65536).count(b"HTTP/1.1 200 OK"))
EOF
	assert_success
	assert_line --index 0 "HTTP/1.1 431 Request Header Fields Too Large"
	assert_line --index 1 "50 True 2"
}

@test "serve: stdout holds only the URL; SIGTERM ends it cleanly" {
	topology
	start_serve topo.json
	run http GET "${SERVE}v1/nym-nodes/rewarded-set"
	kill -TERM "$SERVE_PID"
	for _ in $(seq 50); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
	run kill -0 "$SERVE_PID"
	assert_failure
	wait "$SERVE_PID" || fail "serve exited $?"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/serve.url")" -eq 1 ]
	[ ! -s "$BATS_TEST_TMPDIR/serve.err" ]
}

@test "serve: a bad --listen, a busy port, a bad file" {
	topology
	run nym-topology serve --file topo.json --listen localhost:80
	assert_failure 1
	start_serve topo.json
	run nym-topology serve --file topo.json --listen "$(echo "$SERVE" | sed 's|^http://||; s|/$||')"
	assert_failure 1
	assert_output --partial "Address already in use"
	echo '{"layers":{"1":[],"2":[],"3":[]},"gateways":[]}' >empty.json
	run nym-topology serve --file empty.json --listen 127.0.0.1:0
	assert_failure 1
	assert_output "nym-topology: empty.json: layer 1 is empty: no usable mix node on it"
}

# ---- bad answers: one line on stderr, exit 1, nothing on stdout ----

bad() { # bad "expected message part" [nym-topology args...]
	local want=$1
	shift
	run --separate-stderr nym-topology --api "$API" --retries 0 "$@"
	assert_failure 1
	[ -z "$output" ] || fail "stdout not empty: $output"
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || fail "not one line: $stderr"
	[[ "$stderr" == "nym-topology: "*"$want"* ]] || fail "stderr: $stderr (want: $want)"
}

@test "unreachable API" {
	port=$(free_port)
	API=http://127.0.0.1:$port/
	bad "GET http://127.0.0.1:$port/v1/nym-nodes/rewarded-set: "
	assert_regex "$stderr" "[Cc]onnect"
}

@test "HTTP 404 and 500 name the URL and the status" {
	start_api
	rm "$BATS_TEST_TMPDIR/api/v1_nym-nodes_rewarded-set.json"
	bad "GET ${API}v1/nym-nodes/rewarded-set: HTTP 404"
	cp "$FIX/api/v1_nym-nodes_rewarded-set.json" "$BATS_TEST_TMPDIR/api/"
	echo 500 >"$BATS_TEST_TMPDIR/api/v2_unstable_nym-nodes_skimmed_mixnodes_active.status"
	bad "GET ${API}v2/unstable/nym-nodes/skimmed/mixnodes/active?page=0: HTTP 500"
}

@test "a failure is retried with backoff" {
	start_api
	touch "$BATS_TEST_TMPDIR/api/v1_nym-nodes_rewarded-set.fail_once"
	bad "HTTP 503"
	touch "$BATS_TEST_TMPDIR/api/v1_nym-nodes_rewarded-set.fail_once"
	run nym-topology --api "$API" --retries 1
	assert_success
}

@test "a slow server hits --timeout" {
	start_api
	echo 10 >"$BATS_TEST_TMPDIR/api/v1_epoch_key-rotation-info.delay"
	SECONDS=0
	bad "timed out" --timeout 1
	[ "$SECONDS" -lt 5 ]
}

@test "truncated and invalid JSON" {
	start_api
	head -c 300 "$FIX/api/v2_unstable_nym-nodes_skimmed_mixnodes_active.json" \
		>"$BATS_TEST_TMPDIR/api/v2_unstable_nym-nodes_skimmed_mixnodes_active.raw"
	bad "${API}v2/unstable/nym-nodes/skimmed/mixnodes/active?page=0: invalid JSON at line 17"
	echo '<html>oops</html>' >"$BATS_TEST_TMPDIR/api/v2_unstable_nym-nodes_skimmed_mixnodes_active.raw"
	bad "invalid JSON"
}

@test "missing fields" {
	start_api
	mutate v2_unstable_nym-nodes_skimmed_mixnodes_active.json 'del(.nodes.data[1].mix_port)'
	bad "node 2: missing field \"mix_port\""
}

@test "wrong key lengths" {
	start_api
	mutate v2_unstable_nym-nodes_skimmed_entry-gateways.json '.nodes.data[0].ed25519_identity_pubkey = "9sKSCDHm1jX9XC1zEgjx"'
	bad "node 4: \"ed25519_identity_pubkey\" decodes to 15 bytes, not a 32-byte key"
}

@test "an empty layer" {
	start_api
	mutate v1_nym-nodes_rewarded-set.json '.layer3 = []'
	bad "layer 3 is empty"
}

@test "duplicate node ids" {
	start_api
	mutate v2_unstable_nym-nodes_skimmed_mixnodes_active.json '.nodes.data += [.nodes.data[0]] | .nodes.pagination.total = 4'
	bad "duplicate node id 1"
}

@test "pages: all fetched, and a short answer is refused" {
	start_api
	f=$BATS_TEST_TMPDIR/api/v2_unstable_nym-nodes_skimmed_mixnodes_active
	jq '.nodes.data = [.nodes.data[0]] | .nodes.pagination.size = 1' "$f.json" >"${f}_page0.json"
	jq '.nodes.data = [.nodes.data[1]] | .nodes.pagination.page = 1 | .nodes.pagination.size = 1' "$f.json" >"${f}_page1.json"
	jq '.nodes.data = [.nodes.data[2]] | .nodes.pagination.page = 2 | .nodes.pagination.size = 1' "$f.json" >"${f}_page2.json"
	run nym-topology --api "$API"
	assert_success
	[ "$(echo "$output" | jq -c '[.layers[][].node_id]')" = "[1,2,3]" ]
	jq '.nodes.data = []' "$f.json" >"${f}_page2.json"
	bad "got 2 nodes but pagination.total says 3"
}

@test "--min-performance filters like the official client" {
	start_api
	mutate v2_unstable_nym-nodes_skimmed_mixnodes_active.json '.nodes.data[0].performance = "0.6"'
	run nym-topology --api "$API"
	assert_success
	[ "$(echo "$output" | jq '.layers["1"][0].performance')" = 60 ]
	bad "layer 1 is empty: no usable mix node on it after the performance filter" --min-performance 61
	mutate v2_unstable_nym-nodes_skimmed_mixnodes_active.json '.nodes.data[0].performance = "0.49"'
	bad "layer 1 is empty"
}

@test "serve --listen: an address this host lacks, a bad or unresolvable one: exit 1, one line, nothing bound" {
	topology
	for a in 10.255.255.1:$(free_port) 999.0.0.1:8080 nosuch.invalid:8080 0.0.0.0x:8080; do
		run timeout 5 nym-topology serve --file topo.json --listen "$a"
		assert_failure 1
		assert_output --partial "$a"
		[ "${#lines[@]}" -eq 1 ]
	done
}

@test "a hung nym-api (accepts, never answers): --timeout 2 ends the whole fetch, exit 1 in one line" {
	hung_api_start
	t0=$(now_ms)
	run nym-topology --api "$HUNG_API" --timeout 2 --retries 3
	t=$(( $(now_ms) - t0 ))
	assert_failure 1
	[ "$t" -lt 3500 ] || fail "took $t ms"
	[ "${#lines[@]}" -eq 1 ] || fail "more than one line: $output"
	assert_output --partial "GET $HUNG_API"
	assert_output --partial "timed out"
}
