#!/usr/bin/env bats
# nym-sphinx-wrap: the official client's packets peeled hop by hop with node
# keys written from the vectors, round trips, SURBs, inspection, bad input.
load helpers
bats_require_minimum_version 1.5.0

FIX="$BATS_TEST_DIRNAME/fixtures/sphinx-wrap"
A1="$NYM_VECTORS/case-a1-plain-1byte.json"
# recipient R's identity (the destination of the vectors' messages)
R=HZGyNHcKzWRxao8un8hdQQpStewHiw3GCY4ognk9eTpF

# node<ID>.pem for every node of a vector file: PEM "X25519 PRIVATE KEY",
# the 32 raw secret bytes, mode 0600 — as a node stores its sphinx key.
node_keys() {
	jq -r '.network.nodes[] | "\(.node_id) \(.sphinx_secret)"' "$1" |
		while read -r id sk; do
			{
				echo "-----BEGIN X25519 PRIVATE KEY-----"
				echo "$sk" | xxd -r -p | base64
				echo "-----END X25519 PRIVATE KEY-----"
			} > "node$id.pem"
			chmod 600 "node$id.pem"
		done
}

# --hop options for the vectors' network (L1, L2, L3, gateway).
hops() {
	jq -r '.network.nodes | sort_by(.node_id)[] | "--hop \(.host):\(.sphinx_key_b58)"' "$1" | tr '\n' ' '
}

hexof() { xxd -p "$1" | tr -d '\n'; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# Peel the packet record at jq path $2 of vector file $1 one unwrap at a
# time, checking every hop's output, next hop and delay, and the final
# payload ($3: jq expression for the expected payload hex, given the record).
peel() {
	local f="$NYM_VECTORS/$1" rec="$2" want="$3" n i id hops
	node_keys "$f"
	hops="$rec.hops"
	[ "$(jq "$rec | has(\"sphinx\")" "$f")" = true ] && hops="$rec.sphinx.hops"
	jq -r "$rec.packet" "$f" | xxd -r -p > p0
	n=$(jq "$hops | length" "$f")
	[ "$n" -ge 1 ]
	for ((i = 0; i < n; i++)); do
		id=$(jq "$hops[$i].node_id" "$f")
		nym-sphinx-wrap --unwrap --key "node$id.pem" < "p$i" > "p$((i + 1))" 2> "err$i"
		[ "$(wc -l < "err$i")" -eq 1 ]
		if [ "$(jq "$hops[$i].routing_flag" "$f")" = 1 ]; then
			[ "$(sha "p$((i + 1))")" = "$(jq -r "$hops[$i].output_sha256" "$f")" ]
			grep -q "forward hop, version $(jq "$hops[$i].version" "$f"): next hop $(jq -r "$hops[$i].next_address" "$f"), delay $(jq "$hops[$i].delay_ns" "$f") ns" "err$i"
		else
			grep -q "final hop, version $(jq "$hops[$i].version" "$f"): destination " "err$i"
			if [ "$want" = sha ]; then
				# only a hash recorded: that of 0^16 || message || 01 (no room for zeros)
				[ "$({ head -c 16 /dev/zero; cat "p$((i + 1))"; printf '\x01'; } | sha256sum | cut -d' ' -f1)" = \
				  "$(jq -r "$hops[$i].final_payload_sha256" "$f")" ]
			else
				[ "$(hexof "p$((i + 1))")" = "$(jq -r "$rec | $want" "$f")" ]
			fi
		fi
	done
}

# --- the official packets -----------------------------------------------------

@test "peels the official 1-byte message (case a1, v259) hop by hop" {
	peel case-a1-plain-1byte.json '.packets[0]' '.sphinx.hops[3].final_payload[32:4128]'
	grep -q "destination $R, identifier 00000000000000000000000000000000; wrote the 2048-byte payload" err3
}

@test "peels the official 100-byte message (case a2)" {
	peel case-a2-plain-100byte.json '.packets[0]' '.sphinx.hops[3].final_payload[32:4128]'
}

@test "peels every fragment of the official multi-fragment message (case b)" {
	for k in 0 1 2 3; do
		peel case-b-plain-5000byte-multifragment.json ".packets[$k]" '.sphinx.hops[3].final_payload[32:4128]'
	done
}

@test "peels the official loop cover packets at v258 (case d1) and v259 (case d2)" {
	for k in 0 1 2; do
		peel case-d1-loop-cover-default.json ".cover_packets[$k]" '.sphinx.hops[3].final_payload[32:4128]'
		grep -q "version 258" err0
	done
	peel case-d2-loop-cover-legacy-off.json '.cover_packets[0]' '.sphinx.hops[3].final_payload[32:4128]'
	grep -q "version 259" err0
}

@test "peels the official extended32 packet (case g, 33133 bytes)" {
	peel case-g-extended32-3000byte.json '.packets[0]' sha
	[ "$(stat -c %s p0)" = 33133 ]
	[ "$(stat -c %s p4)" = 32768 ]
}

@test "peels the SURB-acks inside official packets (386 bytes) to their ack bodies" {
	peel case-a1-plain-1byte.json '.packets[0].nym.surb_ack' '.ack_body'
	peel case-c-anonymous-3surbs.json '.packets[0].nym.surb_ack' '.ack_body'
	peel case-d1-loop-cover-default.json '.cover_packets[0].nym.surb_ack' '.ack_body'
}

@test "peels the official reply made from a model SURB (case f) and the model replies (case c)" {
	peel case-f-official-reply-through-model-surbs.json '.packets[0]' '.sphinx.hops[3].final_payload[32:4128]'
	peel case-c-anonymous-3surbs.json '.model_replies_through_surbs[1].packet' '.sphinx.hops[3].final_payload[32:4128]'
}

@test "peels the model v257 (legacy blinding) and v258 packets" {
	f=$NYM_VECTORS/model-legacy-v257-v258.json
	peel model-legacy-v257-v258.json '.vectors[0].packet' '.sphinx.hops[3].final_payload[32:100]'
	grep -q "version 257" err2
	peel model-legacy-v257-v258.json '.vectors[1].packet' '.sphinx.hops[3].final_payload[32:100]'
	[ "$(hexof p4)" = "$(jq -r '.vectors[1].message' "$f")" ]
}

@test "a pipe of unwraps peels an official packet" {
	node_keys "$A1"
	jq -r '.packets[0].packet' "$A1" | xxd -r -p |
		nym-sphinx-wrap -u -k node1.pem 2>/dev/null | nym-sphinx-wrap -u -k node2.pem 2>/dev/null |
		nym-sphinx-wrap -u -k node3.pem 2>/dev/null | nym-sphinx-wrap -u -k node4.pem > out 2>/dev/null
	[ "$(hexof out)" = "$(jq -r '.packets[0].sphinx.hops[3].final_payload[32:4128]' "$A1")" ]
}

@test "--key twice: a node's two rotation keys are tried in turn" {
	node_keys "$A1"
	jq -r '.packets[0].packet' "$A1" | xxd -r -p > p
	nym-sphinx-wrap -u -k node3.pem -k node1.pem < p > q 2> err
	grep -q "next hop 127.0.0.1:17892" err
	[ "$(sha q)" = "$(jq -r '.packets[0].sphinx.hops[0].output_sha256' "$A1")" ]
	run --separate-stderr nym-sphinx-wrap -u -k node3.pem -k node2.pem < p
	one_line_fail
}

@test "unwrap --json: one object per hop, piped into the next unwrap" {
	node_keys "$A1"
	jq -r '.packets[0].packet' "$A1" > p.hex
	nym-sphinx-wrap -u -k node1.pem --json < p.hex > j1
	run jq -r '"\(.hop) \(.version) \(.next_hop) \(.delay_ns) \(.replay_tag)"' j1
	assert_output "forward 259 127.0.0.1:17892 $(jq '.packets[0].sphinx.hops[0].delay_ns' "$A1") $(jq -r '.packets[0].sphinx.hops[0].replay_tag' "$A1")"
	[ "$(jq -r .packet j1)" = "$(jq -r '.packets[0].sphinx.hops[0].output_packet' "$A1")" ]
	nym-sphinx-wrap -u -k node2.pem --json < j1 | nym-sphinx-wrap -u -k node3.pem --json |
		nym-sphinx-wrap -u -k node4.pem --json > j4
	run jq -r '"\(.hop) \(.destination) \(.payload_len)"' j4
	assert_output "final $R 2048"
}

@test "inspect without a key shows the size class and header fields" {
	jq -r '.packets[0].packet' "$A1" | xxd -r -p > p
	run nym-sphinx-wrap --inspect < p
	assert_success
	[ "$(echo "$output" | jq -r '"\(.size) \(.size_class) \(.alpha) \(.payload_len)"')" = \
	  "2413 regular $(jq -r '.packets[0].sphinx.hops[0].alpha' "$A1") 2065" ]
	[ "$(echo "$output" | jq -r 'has("version")')" = false ]
}

@test "inspect with a key shows version, next hop, delay and replay tag" {
	node_keys "$A1"
	jq -r '.packets[0].packet' "$A1" | xxd -r -p > p
	run nym-sphinx-wrap --inspect --key node1.pem < p
	assert_success
	[ "$(echo "$output" | jq -r '"\(.mac_valid) \(.version) \(.hop) \(.next_hop) \(.delay_ns) \(.replay_tag)"')" = \
	  "true 259 forward 127.0.0.1:17892 3806878 $(jq -r '.packets[0].sphinx.hops[0].replay_tag' "$A1")" ]
	run --separate-stderr nym-sphinx-wrap --inspect --key node2.pem < p
	assert_failure 1
	[ "$(echo "$output" | jq -r .mac_valid)" = false ]
}

# --- round trips ----------------------------------------------------------------

@test "round trips: versions 257/258/259 x 1..5 hops x every size" {
	local pk=()
	for i in 1 2 3 4 5; do
		pk[$i]=$(nym-keygen --node --dir "n$i" --json | jq -r .sphinx_key)
	done
	for s in regular ack extended8 extended16 extended32; do
		head -c 21 /dev/urandom > msg
		for v in 257 258 259; do
			for n in 1 2 3 4 5; do
				args=()
				for ((i = 1; i <= n; i++)); do
					args+=(--hop "127.0.0.$i:$((1000 + i)):${pk[$i]}")
				done
				nym-sphinx-wrap "${args[@]}" -d "$R" --version "$v" --size "$s" --delay-mean 0.5 < msg > p1
				for ((i = 1; i <= n; i++)); do
					nym-sphinx-wrap -u -k "n$i/x25519_sphinx_primary" < "p$i" > "p$((i + 1))" 2> err
					if [ "$i" -lt "$n" ]; then grep -q "version $v: next hop 127.0.0.$((i + 1)):$((1001 + i))," err; fi
				done
				grep -q "final hop, version $v: destination $R" err
				cmp msg "p$((n + 1))"
			done
		done
	done
}

@test "--hex, --base64 and --route FILE" {
	node_keys "$A1"
	jq '{destination: .clients.recipient.address,
	     hops: [.network.nodes | sort_by(.node_id)[] | {mix_host: .host, sphinx_key: .sphinx_key_b58, node_id}]}' "$A1" > route.json
	echo "hello" | nym-sphinx-wrap --route route.json --hex > p.hex
	[ "$(tr -d '\n' < p.hex | wc -c)" = 4826 ]
	nym-sphinx-wrap -u -k node1.pem --base64 < p.hex 2>/dev/null > p.b64
	head -c 4 p.b64 | grep -q '^[A-Za-z0-9+/]'
	nym-sphinx-wrap -u -k node2.pem < p.b64 2>/dev/null | nym-sphinx-wrap -u -k node3.pem 2>/dev/null |
		nym-sphinx-wrap -u -k node4.pem > out 2>/dev/null
	[ "$(cat out)" = hello ]
}

@test "wrap --json names the first hop, the delays and the packet" {
	echo hi | nym-sphinx-wrap $(hops "$A1") -d "$R" --json --delay-mean 0 > j
	run jq -r '"\(.first_hop) \(.version) \(.hops) \(.delays_ns) \(.size) \(.packet | length)"' j
	assert_output "127.0.0.1:17891 259 4 [0,0,0] 2413 4826"
}

# --- SURBs ------------------------------------------------------------------------

@test "SURB: create, use, peel through the nodes, and unwrap as the creator" {
	node_keys "$A1"
	nym-sphinx-wrap --surb $(hops "$A1") -d "$R" --surb-keys keys.txt > surb
	[ "$(stat -c %s surb)" = 444 ]
	[ "$(stat -c %a keys.txt)" = 600 ]
	head -2 keys.txt | grep -q '^nym-surb-keys 1$'
	echo "a reply" | nym-sphinx-wrap --use-surb surb > r0 2> err
	grep -q "first hop 127.0.0.1:17891" err
	nym-sphinx-wrap --unwrap-reply --surb-keys keys.txt < r0 > out
	[ "$(cat out)" = "a reply" ]
	for i in 1 2 3 4; do
		nym-sphinx-wrap --unwrap-reply --surb-keys keys.txt < "r$((i - 1))" > out 2> err
		[ "$(cat out)" = "a reply" ]
		grep -q "at hop $((i - 1)) " err
		nym-sphinx-wrap -u -k "node$i.pem" < "r$((i - 1))" > "r$i" 2>/dev/null
	done
	[ "$(cat r4)" = "a reply" ]
}

@test "SURB at v258 is 1148 bytes and works the same" {
	node_keys "$A1"
	nym-sphinx-wrap --surb $(hops "$A1") -d "$R" --version 258 --surb-keys keys.txt --hex > surb.hex
	[ "$(tr -d '\n' < surb.hex | wc -c)" = 2296 ]
	echo "v258" | nym-sphinx-wrap --use-surb surb.hex --size ack > r
	[ "$(stat -c %s r)" = 386 ]
	nym-sphinx-wrap --unwrap-reply --surb-keys keys.txt < r > out
	[ "$(cat out)" = v258 ]
}

@test "using the official client's SURB (case c) gives the recorded reply byte for byte" {
	f=$NYM_VECTORS/case-c-anonymous-3surbs.json
	jq -r '.reply_surbs[0].bytes[32:]' "$f" > surb.hex    # drop Nym's 16-byte reply key
	jq -r '.model_replies_through_surbs[0].packet.sphinx.hops[3].final_payload[32:4128]' "$f" | xxd -r -p > msg
	nym-sphinx-wrap --use-surb surb.hex < msg > r 2>/dev/null
	[ "$(hexof r)" = "$(jq -r '.model_replies_through_surbs[0].packet.packet' "$f")" ]
}

# --- bad input: one clear line on stderr, exit 1 -------------------------------------

one_line_fail() {
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "${stderr_lines[0]}" == nym-sphinx-wrap:* ]]
}

@test "bad input: truncated and oversized packets" {
	node_keys "$A1"
	jq -r '.packets[0].packet' "$A1" | xxd -r -p > p
	head -c 2412 p > short
	run --separate-stderr nym-sphinx-wrap -u -k node1.pem < short
	one_line_fail
	assert_equal "$stderr" "nym-sphinx-wrap: packet is 2412 bytes, not a Nym Sphinx packet size (regular 2413, ack 386, extended8 8557, extended16 16749, extended32 33133)"
	{ cat p; printf x; } > long
	run --separate-stderr nym-sphinx-wrap -u -k node1.pem < long
	one_line_fail
	run --separate-stderr nym-sphinx-wrap -u -k node1.pem < /dev/null
	one_line_fail
	head -c 100 p > tiny
	run --separate-stderr nym-sphinx-wrap --inspect < tiny
	one_line_fail
}

@test "bad input: a flipped bit in alpha, MAC or routing info fails the MAC" {
	node_keys "$A1"
	jq -r '.packets[0].packet' "$A1" | xxd -r -p > p
	for off in 0 31 32 47 48 200 347; do
		cp p q
		printf "$(printf '\\x%02x' $(( $(od -An -tu1 -j "$off" -N1 p) ^ 4 )))" |
			dd of=q bs=1 seek="$off" conv=notrunc status=none
		! cmp -s p q
		run --separate-stderr nym-sphinx-wrap -u -k node1.pem < q
		one_line_fail
		assert_equal "$stderr" "nym-sphinx-wrap: MAC check failed: wrong key, or the packet was altered"
	done
}

@test "a raw packet is read raw even when it starts like text" {
	node_keys "$A1"
	jq -r '.packets[0].packet' "$A1" | xxd -r -p > p
	for c in '{' 'a' '0' ' '; do
		cp p q
		printf '%s' "$c" | dd of=q bs=1 seek=0 conv=notrunc status=none
		run --separate-stderr nym-sphinx-wrap -u -k node1.pem < q
		one_line_fail
		assert_equal "$stderr" "nym-sphinx-wrap: MAC check failed: wrong key, or the packet was altered"
	done
}

@test "bad input: a flipped payload bit is found at the final hop" {
	node_keys "$A1"
	jq -r '.packets[0].packet' "$A1" | xxd -r -p > p
	printf '\x55' | dd of=p bs=1 seek=1000 conv=notrunc status=none
	nym-sphinx-wrap -u -k node1.pem < p 2>/dev/null | nym-sphinx-wrap -u -k node2.pem 2>/dev/null |
		nym-sphinx-wrap -u -k node3.pem 2>/dev/null > q
	run --separate-stderr nym-sphinx-wrap -u -k node4.pem < q
	one_line_fail
	[[ "$stderr" == *"payload padding is wrong"* ]]
}

@test "bad input: the wrong key" {
	node_keys "$A1"
	jq -r '.packets[0].packet' "$A1" | xxd -r -p > p
	run --separate-stderr nym-sphinx-wrap -u -k node2.pem < p
	one_line_fail
	[[ "$stderr" == *"MAC check failed"* ]]
}

@test "bad input: an unknown routing flag" {
	cp "$FIX/flag3-node.pem" k.pem
	chmod 600 k.pem
	run --separate-stderr nym-sphinx-wrap -u -k k.pem < "$FIX/flag3-packet.hex"
	one_line_fail
	assert_equal "$stderr" "nym-sphinx-wrap: unknown routing flag: the packet is malformed"
}

@test "bad input: a payload too large for the size class" {
	head -c 2049 /dev/zero > big
	run --separate-stderr nym-sphinx-wrap $(hops "$A1") -d "$R" < big
	one_line_fail
	assert_equal "$stderr" "nym-sphinx-wrap: payload of 2049 bytes does not fit a regular packet (at most 2048 bytes)"
	head -c 22 /dev/zero > big
	run --separate-stderr nym-sphinx-wrap $(hops "$A1") -d "$R" --size ack < big
	one_line_fail
	head -c 2048 /dev/zero > ok
	nym-sphinx-wrap $(hops "$A1") -d "$R" < ok > /dev/null
}

@test "bad input: a route longer than 5 hops" {
	run --separate-stderr nym-sphinx-wrap $(hops "$A1") $(hops "$A1") -d "$R" < /dev/null
	one_line_fail
	assert_equal "$stderr" "nym-sphinx-wrap: route of more than 5 hops"
	jq '{hops: [.network.nodes[], .network.nodes[] | {mix_host: .host, sphinx_key: .sphinx_key_b58}]}' "$A1" > r.json
	run --separate-stderr nym-sphinx-wrap --route r.json -d "$R" < /dev/null
	one_line_fail
}

@test "bad input: bad hop, key, destination, key file, SURB and SURB keys" {
	run --separate-stderr nym-sphinx-wrap --hop 127.0.0.1:17891 -d "$R" < /dev/null
	one_line_fail
	run --separate-stderr nym-sphinx-wrap --hop 127.0.0.1:99999:2d8RrescKKZF4Ybhqk2Ak5L6md9iH3HmXGzAwCUXXPq8 -d "$R" < /dev/null
	one_line_fail
	run --separate-stderr nym-sphinx-wrap --hop 127.0.0.1:1789:notbase58! -d "$R" < /dev/null
	one_line_fail
	run --separate-stderr nym-sphinx-wrap $(hops "$A1") -d "nope@nope" < /dev/null
	one_line_fail
	jq -r '.packets[0].packet' "$A1" | xxd -r -p > p
	run --separate-stderr nym-sphinx-wrap -u -k missing.pem < p
	one_line_fail
	echo "not a key" > bad.pem
	chmod 600 bad.pem
	run --separate-stderr nym-sphinx-wrap -u -k bad.pem < p
	one_line_fail
	head -c 300 /dev/urandom > s
	run --separate-stderr nym-sphinx-wrap --use-surb s < /dev/null
	one_line_fail
	echo "garbage" > keys.txt
	run --separate-stderr nym-sphinx-wrap --unwrap-reply --surb-keys keys.txt < p
	one_line_fail
	nym-sphinx-wrap --surb $(hops "$A1") -d "$R" --surb-keys keys.txt > /dev/null
	run --separate-stderr nym-sphinx-wrap --unwrap-reply --surb-keys keys.txt < p
	one_line_fail
	[[ "$stderr" == *"not made from this SURB"* ]]
}

@test "usage errors exit 2; --help and --version exit 0" {
	run nym-sphinx-wrap -d "$R"
	assert_failure 2
	run nym-sphinx-wrap --unwrap
	assert_failure 2
	run nym-sphinx-wrap --version 300 --hop 1.2.3.4:1:x
	assert_failure 2
	run nym-sphinx-wrap --size huge
	assert_failure 2
	run nym-sphinx-wrap --unwrap --inspect -k x
	assert_failure 2
	run nym-sphinx-wrap --help
	assert_success
	assert_output --partial "Usage: nym-sphinx-wrap"
	run nym-sphinx-wrap --version
	assert_success
	assert_output --regexp "^nym-sphinx-wrap \(nymkit\) "
}
