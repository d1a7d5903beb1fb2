#!/bin/sh
# mk/demo.sh — `make demo`: a local mixnet on this machine, two clients, one
# message through it, then a web page fetched with curl through nym-socks5-client,
# told step by step. Everything lives in a temporary
# directory and is stopped and removed at the end, on failure too.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
bin="${1:-$top/build}/cmd"  # the build directory (make demo passes its O)
PATH="$bin:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/nymkit-demo.XXXXXX")
net="$work/net"
export NYM_HOME_DIR="$work/home"
recv_pid= web_pid= socks_pid=

if [ -t 1 ]; then b='\033[1m' n='\033[0m'; else b= n=; fi
say() { printf "\n${b}%s${n}\n" "$*"; }
run() { printf '  $ %s\n' "$*"; "$@"; }

cleanup() {
	status=$?
	for p in $recv_pid $socks_pid $web_pid; do kill "$p" 2>/dev/null || true; done
	nym-localnet down --dir "$net" >/dev/null 2>&1 || true
	rm -rf "$work"
	if [ "$status" -ne 0 ]; then
		echo "demo: something failed (exit $status); the mixnet was stopped and $work removed." >&2
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A base port with nine free ports above it (the mixnet takes N..N+5; the demo's web
# server N+7, its SOCKS proxy N+8).
base=$(python3 -c '
import random, socket
for _ in range(200):
    b = random.randint(20000, 60000); ok = []
    try:
        for p in range(b, b + 9):
            s = socket.socket(); s.bind(("127.0.0.1", p)); ok.append(s)
    except OSError:
        continue
    finally:
        for s in ok: s.close()
    if len(ok) == 9: print(b); break')

say "1. Start a mixnet on this machine: a directory server (nym-api), three mix nodes (one per layer) and a gateway, all on 127.0.0.1."
run nym-localnet up --dir "$net" --base-port "$base"
set -a; . "$net/env"; set +a
export NYM_TOPOLOGY="$net/topology.json"

say "2. Make two clients, alice and bob: each gets an identity key, an encryption key and an ack key. Their address names the gateway they use."
run nym-keygen --id alice --gateway "$NYM_GATEWAY"
run nym-keygen --id bob --gateway "$NYM_GATEWAY"
alice=$(nym-keygen --id alice --show --json | jq -r .address)

say "3. Alice starts nym-recv: it registers her at the gateway (a key exchange; the shared key is kept beside her keys) and waits for messages."
printf '  $ nym-recv --id alice --count 1 &\n'
nym-recv --id alice --count 1 > "$work/alice.out" 2> "$work/alice.err" &
recv_pid=$!
i=0
until grep -q "registered\|connected" "$work/alice.err" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$recv_pid" 2>/dev/null; then
		cat "$work/alice.err" >&2
		exit 1
	fi
	sleep 0.05
done
sed 's/^/  /' "$work/alice.err"

say "4. Bob sends alice a message. nym-send splits it into packets, encrypts each for alice, wraps it in four Sphinx layers (three mix nodes and alice's gateway) and waits until the gateway's acknowledgements come back through the mixnet."
printf '  $ echo "Hello Alice, this came through three mix nodes." | nym-send --id bob --to %s\n' "$alice"
echo "Hello Alice, this came through three mix nodes." | nym-send --id bob --to "$alice" --json > "$work/send.json"
jq -r '"  acknowledged: \(.acknowledged) of \(.packets) packet(s) in \(.seconds) s"' "$work/send.json"

say "5. Alice's nym-recv printed the message as soon as its last packet arrived:"
wait "$recv_pid"
recv_pid=
sed 's/^/  | /' "$work/alice.out"

say "6. The mixnet's network requester (started by nym-localnet up) opens TCP connections on the far side. Make a SOCKS client for it, and a web server on this machine to fetch from."
if [ -z "${NYM_NETWORK_REQUESTER:-}" ]; then
	echo "  (no nym-network-requester in this build: no SOCKS part)"
else
	mkdir -p "$work/www"
	echo "Hello from a web server, fetched through the mixnet." > "$work/www/hello.txt"
	web=$((base + 7)) socks=$((base + 8))
	python3 -m http.server "$web" --bind 127.0.0.1 --directory "$work/www" >/dev/null 2>&1 &
	web_pid=$!
	i=0
	until curl -s -o /dev/null "http://127.0.0.1:$web/hello.txt"; do
		i=$((i + 1))
		[ "$i" -le 200 ] || { echo "the web server did not start" >&2; exit 1; }
		sleep 0.05
	done
	run nym-socks5-client init --id browser --provider "$NYM_NETWORK_REQUESTER" --port "$socks" --quiet
	printf '  $ nym-socks5-client run --id browser &\n'
	nym-socks5-client run --id browser > "$work/socks.out" 2> "$work/socks.err" &
	socks_pid=$!
	i=0
	until grep -q "SOCKS proxy on" "$work/socks.err" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt 200 ] || ! kill -0 "$socks_pid" 2>/dev/null; then
			cat "$work/socks.err" >&2
			exit 1
		fi
		sleep 0.05
	done

	say "7. curl asks the SOCKS proxy for the page; the request and the answer cross the mixnet both ways (the host name is resolved by the requester, not here)."
	printf '  $ curl --socks5-hostname 127.0.0.1:%s http://localhost:%s/hello.txt\n' "$socks" "$web"
	curl -sS --max-time 60 --socks5-hostname "127.0.0.1:$socks" "http://localhost:$web/hello.txt" \
		> "$work/page" || { sed 's/^/  /' "$work/socks.err" >&2; exit 1; }
	sed 's/^/  | /' "$work/page"
	cmp -s "$work/page" "$work/www/hello.txt" || { echo "  the page differs" >&2; exit 1; }
fi

say "8. Stop the mixnet and remove everything the demo made."
run nym-localnet down --dir "$net"
echo
echo "Done. Try it yourself: nym-localnet up; nym-keygen --id you; nym-recv --id you; ... (see README)."
