#!/usr/bin/env bats
# nym-recv killed in the middle of a large message: the fragments it had are
# on disk (<client dir>/fragments), the restart completes the message from
# them plus what the gateway kept, and prints it once; one that can never
# complete is said on stderr.
load helpers
load mixnet

setup_file() {
	mixnet_up
}

teardown_file() {
	mixnet_down
}

setup() {
	mixnet_clients alice bob
}

teardown() {
	recv_stop alice
	if [ -n "${sender:-}" ]; then kill "$sender" 2>/dev/null || true; wait "$sender" 2>/dev/null || true; fi
}

frags() { stat -c %s "$HOME/.nym/clients/alice/data/fragments" 2>/dev/null || echo 0; }

# Start a 5 MiB message to alice at 500 packets/s (about 7 s), wait until
# alice has about a third of it, kill -9 her nym-recv.
send_and_kill() {
	head -c 5242880 /dev/urandom > big
	recv_start alice --json
	nym-send --id bob --to "$(address alice)" --file big --rate 500 --timeout 120 --json \
		> send.json 2> send.err 3>&- &
	sender=$!
	# mid-transfer: 1.5 MiB of fragments on disk (or 2.5 s, for a nym-recv that keeps none)
	for _ in $(seq 50); do [ "$(frags)" -gt 1500000 ] && break; sleep 0.05; done
	[ "$(frags)" -gt 1500000 ] || sleep 2.5
	kill -9 "$(cat alice.pid)"
	recv_stop alice
	[ ! -s alice.out ] || fail "the message was printed before the kill"
}

@test "nym-recv killed -9 in the middle of a 5 MiB message and started again: printed once, byte-exact" {
	send_and_kill
	sleep 1
	recv_start alice --json
	wait "$sender" || fail "nym-send failed: $(cat send.err)"
	sender=
	jq -e '.ok and .acknowledged == .packets' send.json
	for _ in $(seq 300); do [ -s alice.out ] && break; sleep 0.1; done
	sleep 2 # a second copy would come now
	recv_stop alice
	[ "$(wc -l < alice.out)" -eq 1 ] || fail "$(wc -l < alice.out) messages printed; stderr: $(cat alice.err)"
	[ "$(json_sha alice.out 1)" = "$(sha256sum < big | cut -d' ' -f1)" ]
	# once more, started again: nothing new (no second delivery from the kept state)
	recv_start alice --json --timeout 2
	recv_wait alice 10
	[ "$status" -eq 0 ]
	[ "$(wc -l < alice.out)" -eq 0 ]
	# the file shrank back once the message was whole
	[ "$(frags)" -lt 1000000 ]
}

@test "an incomplete message that can never complete is reported lost on stderr after NYM_FRAGMENT_LIFETIME" {
	send_and_kill
	# the sender gives up: the rest never comes
	kill "$sender"
	wait "$sender" || true
	sender=
	sleep 1
	# the gateway may still hold some of it: that is pushed and kept, then nothing comes
	NYM_FRAGMENT_LIFETIME=3 recv_start alice --json
	for _ in $(seq 200); do grep -q "lost an incomplete message" alice.err && break; sleep 0.1; done
	grep -q "lost an incomplete message: [0-9]* fragment set(s) expired" alice.err ||
		fail "no loss reported; stderr: $(cat alice.err)"
	[ ! -s alice.out ]
}
