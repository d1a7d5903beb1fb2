#!/usr/bin/env bats
# The official @nymproject/mix-fetch 1.4.1 (unmodified, under Node.js: mixfetch.mjs, as
# doc/spec/socks5.md §13.3) fetches from a local web server through nymkit's gateway and mix
# nodes and nymkit's network requester: every body byte-exact, both ways. (It crashes on a
# ConnectionError, §13.5: no test here sends it one.)
load ../helpers
load interop

BATS_TEST_TIMEOUT=120

setup_file() {
	interop_npm
	localnet_up
	export NYM_HOME_DIR="$BATS_FILE_TMPDIR/home" F="$BATS_FILE_TMPDIR"
	mkdir -p "$NYM_HOME_DIR" "$F/www"
	head -c 262144 /dev/urandom >"$F/www/quarter"
	head -c 4194304 /dev/urandom >"$F/www/big"
	echo "hello from the far side" >"$F/www/hello.txt"
	WEB=$(free_port)
	echo "$WEB" >"$F/web.port"
	python3 "$INTEROP_DIR/../bin/httpd.py" "$WEB" "$F/www" >"$F/httpd.out" 2>"$F/httpd.err" 3>&- &
	echo $! >"$F/httpd.pid"
	# nymkit's requester: the one nym-localnet started (open proxy, local destinations allowed)
	sed -n 's/^NYM_NETWORK_REQUESTER=//p' "$INTEROP_NET/env" >"$F/requester.out"
	for _ in $(seq 200); do
		grep -q @ "$F/requester.out" 2>/dev/null && grep -q http "$F/httpd.out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "the requester or the web server did not start" >&2
	cat "$INTEROP_NET/requester.log" "$F/httpd.err" >&2
	return 1
}

teardown_file() {
	local p
	for p in httpd; do
		kill "$(cat "$BATS_FILE_TMPDIR/$p.pid")" 2>/dev/null || true
	done
	localnet_down
}

setup() {
	F=$BATS_FILE_TMPDIR
	WEB=$(cat "$F/web.port")
	NR=$(cat "$F/requester.out")
	cd "$BATS_TEST_TMPDIR"
}

# mixfetch ARGS...: the official mix-fetch, bounded; JSON lines in out.json
mixfetch() {
	(cd "$INTEROP_DIR" && timeout 100 node mixfetch.mjs --api "$INTEROP_API" --requester "$NR" \
		--timeout-ms 60000 "$@") >out.json 2>err.txt 3>&-
}

@test "mix-fetch GETs through nymkit's requester: a small page, 256 KiB and 4 MiB, byte-exact" {
	mixfetch --url "http://127.0.0.1:$WEB/hello.txt" --url "http://127.0.0.1:$WEB/quarter" \
		--url "http://127.0.0.1:$WEB/big" || fail "mix-fetch failed: $(cat out.json; tail -5 err.txt)"
	grep -q '"event":"ready"' out.json || fail "$(cat out.json)"
	for f in hello.txt quarter big; do
		run jq -r --arg u "http://127.0.0.1:$WEB/$f" 'select(.event == "fetched" and .url == $u) | "\(.status) \(.length) \(.sha256)"' out.json
		assert_output "200 $(stat -c %s "$F/www/$f") $(sha256of "$F/www/$f")"
	done
	jq -r 'select(.event == "fetched") | "# \(.url | sub(".*/"; "")): \(.ms) ms"' out.json >&3
}

@test "mix-fetch POSTs 1 MiB through nymkit's requester: the server got every byte" {
	head -c 1048576 /dev/urandom >body
	mixfetch --post-file "$PWD/body" --url "http://127.0.0.1:$WEB/upload" ||
		fail "mix-fetch failed: $(cat out.json; tail -5 err.txt)"
	run jq -r 'select(.event == "fetched") | "\(.status) \(.text)"' out.json
	assert_output "200 1048576 $(sha256of body)"
}
