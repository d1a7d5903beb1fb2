#!/usr/bin/env bats
# nymkit's WebAssembly client (wasm/dist from `make wasm`, driven by t/interop/nymkit-wasm.mjs
# under Node) over a local mixnet of nymkit's nodes, against nymkit's own tools.
load helpers
load interop/interop
INTEROP_DIR=$(cd "$BATS_TEST_DIRNAME/interop" && pwd)

BATS_TEST_TIMEOUT=90

setup_file() {
	# the build is cached (dependencies outside the clone): seconds when warm. Tests get a
	# private $HOME: the cache stays that of the user running the suite.
	export XDG_CACHE_HOME=${XDG_CACHE_HOME:-$HOME/.cache}
	make -C "$BATS_TEST_DIRNAME/.." --no-print-directory wasm >"$BATS_FILE_TMPDIR/make-wasm.log" 2>&1 ||
		{ tail -30 "$BATS_FILE_TMPDIR/make-wasm.log" >&2; return 1; }
	# Debian 12's own Node 18, beside the default node (mk/wasm.sh node18)
	NODE18=$(sh "$BATS_TEST_DIRNAME/../mk/wasm.sh" node18) || return 1
	export NODE18
	interop_npm
	localnet_up
}

teardown_file() {
	localnet_down
}

# wasm_start NAME [nymkit-wasm.mjs options]: nymkit's wasm client for NAME, ready; sets WASM_ADDR.
wasm_start() {
	local name=$1 d=$BATS_TEST_TMPDIR/wasm-$1
	shift
	mkdir -p "$d"
	[ -p "$d/in" ] || mkfifo "$d/in"
	: >"$d/out"
	(cd "$INTEROP_DIR" && exec ${WASM_NODE:-node} nymkit-wasm.mjs --api "$INTEROP_API" --client-id "$name" \
		--duration 80 "$@") <"$d/in" >"$d/out" 2>"$d/err" 3>&- &
	WASM_PID=$!
	track $!
	sleep 85 >"$d/in" 3>&- &
	track $!
	wait_json "$d/out" 'select(.event == "ready" or .event == "error")' >/dev/null || return 1
	WASM_ADDR=$(jq -r 'select(.event == "ready") | .address' "$d/out")
	[ -n "$WASM_ADDR" ] || { echo "wasm client did not start:" >&2; cat "$d/out" "$d/err" >&2; return 1; }
}
wasm_cmd() { printf '%s\n' "$2" >"$BATS_TEST_TMPDIR/wasm-$1/in"; }
wasm_out() { echo "$BATS_TEST_TMPDIR/wasm-$1/out"; }

@test "make wasm: an npm package in wasm/dist, a .wasm under a quarter of the official 3 700 404 bytes" {
	local d=$BATS_TEST_DIRNAME/../wasm/dist
	for f in package.json nymkit.mjs nymkit-core.mjs nymkit.wasm nymkit.d.ts; do
		[ -s "$d/$f" ]
	done
	[ "$(jq -r .type "$d/package.json")" = module ]
	[ "$(stat -c %s "$d/nymkit.wasm")" -lt 925101 ]
	# a second build is all cached
	local t0=$SECONDS
	run make -C "$BATS_TEST_DIRNAME/.." --no-print-directory wasm
	assert_success
	[ $((SECONDS - t0)) -lt 60 ]
}

@test "wasm client → nym-recv: 200 KiB byte for byte" {
	interop_deadline 60
	recv_start bob
	wasm_start alice
	head -c 204800 /dev/urandom >big
	wasm_cmd alice "{\"cmd\":\"send\",\"file\":\"$BATS_TEST_TMPDIR/big\",\"to\":\"$RECV_ADDR\"}"
	wait_json "$(recv_out bob)" 'select(.size == 204800)' >got.json
	jq -r .data got.json | base64 -d >got
	cmp big got
}

@test "nym-send → wasm client: received exactly" {
	interop_deadline 40
	wasm_start carol
	nym-keygen --id dan --gateway "$INTEROP_GW" >/dev/null
	head -c 5000 /dev/urandom >msg
	run timeout 25 nym-send --id dan --api "$INTEROP_API" --to "$WASM_ADDR" --file msg --timeout 20 --quiet
	assert_success
	wait_json "$(wasm_out carol)" 'select(.event == "received" and .len == 5000)' >got.json
	[ "$(jq -r .hex got.json)" = "$(hexof msg)" ]
	[ "$(jq -r .sender_tag got.json)" = null ]
}

@test "wasm client anonymous → nym-recv sees a sender tag, never the address; the reply through the SURBs comes back" {
	interop_deadline 50
	recv_start erin
	wasm_start frank
	head -c 1500 /dev/urandom >question
	wasm_cmd frank "{\"cmd\":\"send_anonymous\",\"hex\":\"$(hexof question)\",\"to\":\"$RECV_ADDR\",\"surbs\":5}"
	wait_json "$(recv_out erin)" 'select(.size == 1500)' >got.json
	jq -r .data got.json | base64 -d >got
	cmp question got
	local tag
	tag=$(jq -r .sender_tag got.json)
	[ -n "$tag" ]
	[ "$tag" != null ]
	run ! grep -q "${WASM_ADDR%%.*}" "$(recv_out erin)"
	head -c 3000 /dev/urandom >answer
	run timeout 25 nym-send --id erin --api "$INTEROP_API" --reply "$tag" --file answer --timeout 20 --quiet
	assert_success
	wait_json "$(wasm_out frank)" 'select(.event == "received" and .len == 3000)' >reply.json
	[ "$(jq -r .hex reply.json)" = "$(hexof answer)" ]
}

@test "wasm client: a restart with the same clientId keeps the address; a nym-keygen key set works" {
	interop_deadline 50
	wasm_start gina
	local first=$WASM_ADDR
	wasm_cmd gina '{"cmd":"quit"}'
	wait_json "$(wasm_out gina)" 'select(.event == "exit")' >/dev/null
	local i
	for i in $(seq 100); do running "$WASM_PID" || break; sleep 0.05; done
	run ! running "$WASM_PID"
	wasm_start gina
	[ "$WASM_ADDR" = "$first" ]
	[ -f "$HOME/.nym/clients/gina/data/private_identity.pem" ]
	# a key set made by nym-keygen: the wasm client takes its address
	nym-keygen --id hal --gateway "$INTEROP_GW" >/dev/null
	wasm_start hal
	[ "$WASM_ADDR" = "$(nym-keygen --id hal --show --json | jq -r .address)" ]
}

@test "interop: nymkit's wasm client ⇄ the official wasm client 1.4.1, plain messages both ways" {
	interop_deadline 60
	official_start olga
	wasm_start paul
	head -c 4000 /dev/urandom >to-official
	wasm_cmd paul "{\"cmd\":\"send\",\"hex\":\"$(hexof to-official)\",\"to\":\"$OFFICIAL_ADDR\"}"
	wait_json "$(official_out olga)" 'select(.event == "received" and .len == 4000)' >got.json
	[ "$(jq -r .sha256 got.json)" = "$(sha256of to-official)" ]
	[ "$(jq -r .sender_tag got.json)" = null ]
	head -c 3000 /dev/urandom >to-wasm
	official_cmd olga "{\"cmd\":\"send\",\"hex\":\"$(hexof to-wasm)\",\"to\":\"$WASM_ADDR\"}"
	wait_json "$(wasm_out paul)" 'select(.event == "received" and .len == 3000)' >got2.json
	[ "$(jq -r .hex got2.json)" = "$(hexof to-wasm)" ]
}

@test "interop: anonymous both ways between nymkit's wasm client and the official one, each replying through the other's SURBs" {
	interop_deadline 70
	official_start quinn
	wasm_start rita
	# wasm → official, anonymous; the official client replies to the sender tag
	head -c 900 /dev/urandom >q1
	wasm_cmd rita "{\"cmd\":\"send_anonymous\",\"hex\":\"$(hexof q1)\",\"to\":\"$OFFICIAL_ADDR\",\"surbs\":20}"
	wait_json "$(official_out quinn)" 'select(.event == "received" and .len == 900)' >got.json
	[ "$(jq -r .hex got.json)" = "$(hexof q1)" ]
	local tag
	tag=$(jq -r .sender_tag got.json)
	[ -n "$tag" ]
	[ "$tag" != null ]
	head -c 1200 /dev/urandom >a1
	official_cmd quinn "{\"cmd\":\"reply\",\"hex\":\"$(hexof a1)\",\"tag\":\"$tag\"}"
	wait_json "$(wasm_out rita)" 'select(.event == "received" and .len == 1200)' >r1.json
	[ "$(jq -r .hex r1.json)" = "$(hexof a1)" ]
	# official → wasm, anonymous; nymkit's wasm client replies to the tag it was given
	head -c 800 /dev/urandom >q2
	official_cmd quinn "{\"cmd\":\"send_anonymous\",\"hex\":\"$(hexof q2)\",\"to\":\"$WASM_ADDR\",\"surbs\":5}"
	wait_json "$(wasm_out rita)" 'select(.event == "received" and .len == 800)' >got2.json
	[ "$(jq -r .hex got2.json)" = "$(hexof q2)" ]
	tag=$(jq -r .sender_tag got2.json)
	[ -n "$tag" ]
	[ "$tag" != null ]
	run ! grep -q "${OFFICIAL_ADDR%%.*}" "$(wasm_out rita)"
	head -c 1000 /dev/urandom >a2
	wasm_cmd rita "{\"cmd\":\"reply\",\"hex\":\"$(hexof a2)\",\"tag\":\"$tag\"}"
	wait_json "$(official_out quinn)" 'select(.event == "received" and .len == 1000)' >r2.json
	[ "$(jq -r .hex r2.json)" = "$(hexof a2)" ]
}

@test "under Debian's Node 18: 200 KiB to nym-recv, nym-send to it, anonymous with a reply, restart keeps the address" {
	interop_deadline 80
	run "$NODE18" --version
	assert_output --regexp '^v18\.'
	local WASM_NODE=$NODE18
	recv_start sam
	wasm_start tina
	local first=$WASM_ADDR
	head -c 204800 /dev/urandom >big
	wasm_cmd tina "{\"cmd\":\"send\",\"file\":\"$BATS_TEST_TMPDIR/big\",\"to\":\"$RECV_ADDR\"}"
	wait_json "$(recv_out sam)" 'select(.size == 204800)' >got.json
	jq -r .data got.json | base64 -d >got
	cmp big got
	nym-keygen --id uma --gateway "$INTEROP_GW" >/dev/null
	head -c 5000 /dev/urandom >msg
	run timeout 25 nym-send --id uma --api "$INTEROP_API" --to "$WASM_ADDR" --file msg --timeout 20 --quiet
	assert_success
	wait_json "$(wasm_out tina)" 'select(.event == "received" and .len == 5000)' >got2.json
	[ "$(jq -r .hex got2.json)" = "$(hexof msg)" ]
	head -c 1500 /dev/urandom >question
	wasm_cmd tina "{\"cmd\":\"send_anonymous\",\"hex\":\"$(hexof question)\",\"to\":\"$RECV_ADDR\",\"surbs\":5}"
	wait_json "$(recv_out sam)" 'select(.size == 1500)' >got3.json
	local tag
	tag=$(jq -r .sender_tag got3.json)
	[ "$tag" != null ]
	run ! grep -q "${WASM_ADDR%%.*}" "$(recv_out sam)"
	head -c 3000 /dev/urandom >answer
	run timeout 25 nym-send --id sam --api "$INTEROP_API" --reply "$tag" --file answer --timeout 20 --quiet
	assert_success
	wait_json "$(wasm_out tina)" 'select(.event == "received" and .len == 3000)' >reply.json
	[ "$(jq -r .hex reply.json)" = "$(hexof answer)" ]
	wasm_cmd tina '{"cmd":"quit"}'
	wait_json "$(wasm_out tina)" 'select(.event == "exit")' >/dev/null
	local i
	for i in $(seq 100); do running "$WASM_PID" || break; sleep 0.05; done
	wasm_start tina
	[ "$WASM_ADDR" = "$first" ]
}

@test "a real browser: headless Chromium runs the client in a Worker from a loopback page, sends to nym-recv, gets the reply" {
	interop_deadline 70
	recv_start vera
	local port cport root=$BATS_TEST_DIRNAME/..
	port=$(free_port)
	python3 "$root/t/browser/serve.py" "$port" "$root/wasm/dist" "$root/t/browser" 3>&- &
	track $!
	cport=$(free_port)
	chromium --headless=new --no-sandbox --disable-gpu --no-first-run --user-data-dir="$BATS_TEST_TMPDIR/chrome" \
		--remote-debugging-address=127.0.0.1 --remote-debugging-port="$cport" \
		"http://127.0.0.1:$port/index.html?api=$INTEROP_API&to=$RECV_ADDR&text=hello-from-chromium" \
		>chrome.log 2>&1 3>&- &
	local chrome=$!
	track $chrome
	wait_json "$(recv_out vera)" 'select(.text == "hello-from-chromium")' >got.json
	local tag
	tag=$(jq -r .sender_tag got.json)
	[ "$tag" != null ]
	printf answer-to-chromium >answer
	run timeout 25 nym-send --id vera --api "$INTEROP_API" --reply "$tag" --file answer --timeout 20 --quiet
	assert_success
	# read from the page itself, over the DevTools protocol
	run node "$INTEROP_DIR/cdp-read.mjs" "$cport" 'document.body.dataset.result' "$(interop_left)"
	assert_success
	[ "$(jq -r .event <<<"$output")" = received ]
	[ "$(jq -r .text <<<"$output")" = answer-to-chromium ]
	kill "$chrome"
	local i
	for i in $(seq 100); do pgrep -f "$BATS_TEST_TMPDIR/chrome" >/dev/null || break; sleep 0.05; done
	run ! pgrep -f "$BATS_TEST_TMPDIR/chrome"
}

@test "interop: the official client, short of SURBs for its reply, asks nymkit's wasm client for more (SurbRequest); the reply arrives" {
	interop_deadline 60
	official_start vic
	wasm_start wes
	wasm_cmd wes "{\"cmd\":\"send_anonymous\",\"text\":\"ask\",\"to\":\"$OFFICIAL_ADDR\",\"surbs\":2}"
	wait_json "$(official_out vic)" 'select(.event == "received" and .len == 3)' >got.json
	local tag
	tag=$(jq -r .sender_tag got.json)
	[ "$tag" != null ]
	head -c 6000 /dev/urandom >answer
	official_cmd vic "{\"cmd\":\"reply\",\"hex\":\"$(hexof answer)\",\"tag\":\"$tag\"}"
	wait_json "$(wasm_out wes)" 'select(.event == "received" and .len == 6000)' >r.json
	[ "$(jq -r .hex r.json)" = "$(hexof answer)" ]
}

@test "encode_payload / decode_payload: the same bytes as the official 1.4.1 helpers, both ways" {
	run node --input-type=module -e '
		const { loadOfficialClient } = await import(process.argv[2]);
		const mine = await import(process.argv[1]);
		const { nym } = await loadOfficialClient();
		const p = new Uint8Array([0, 1, 2, 250, 255]);
		const hex = (u) => Buffer.from(u).toString("hex");
		const a = hex(nym.encode_payload("application/octet-stream", p)), b = hex(mine.encode_payload("application/octet-stream", p));
		const h = nym.encode_payload_with_headers("text/plain", p, "X: y");
		const d = mine.decode_payload(h), o = nym.decode_payload(mine.encode_payload_with_headers("text/plain", p, "X: y"));
		process.stdout.write(JSON.stringify({ same: a === b, mime: d.mimeType, headers: d.headers, payload: hex(d.payload),
			omime: o.mimeType, opayload: hex(Uint8Array.from(o.payload)) }) + "\n");
	' "$BATS_TEST_DIRNAME/../wasm/dist/nymkit.mjs" "$INTEROP_DIR/lib/env.mjs"
	assert_success
	local j
	j=$(tail -n 1 <<<"$output")
	[ "$(jq -r .same <<<"$j")" = true ]
	[ "$(jq -r .mime <<<"$j")" = text/plain ]
	[ "$(jq -r .headers <<<"$j")" = "X: y" ]
	[ "$(jq -r .payload <<<"$j")" = 000102faff ]
	[ "$(jq -r .omime <<<"$j")" = text/plain ]
	[ "$(jq -r .opayload <<<"$j")" = 000102faff ]
}
