#!/usr/bin/env bats
# nym-sphinx-wrap: the official client's packets peeled hop by hop with node
# keys written from the vectors, round trips, SURBs, inspection, bad input;
# Nym messages: every official message, reply, push, cover packet and ack of
# the vectors decrypted end to end with --decrypt, and --nym round trips
# through the vector network's nodes.
load helpers

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

# --- Nym messages: --nym, --decrypt, --inspect of payloads ----------------------------

# A client key directory NAME from the keys at jq path $3 of vector file $2
# (PEM files as nym-keygen writes them, mode 0600).
client_dir() {
	local d="$HOME/.nym/clients/$1/data"
	mkdir -p "$d"
	pemfile() {
		{
			echo "-----BEGIN $2-----"
			jq -r "$3" "$4" | xxd -r -p | base64
			echo "-----END $2-----"
		} > "$d/$1"
		chmod 600 "$d/$1"
	}
	pemfile private_identity.pem "ED25519 PRIVATE KEY" "$3.identity_secret_seed" "$2"
	pemfile public_identity.pem "ED25519 PUBLIC KEY" "$3.identity_public" "$2"
	pemfile private_encryption.pem "X25519 PRIVATE KEY" "$3.encryption_secret" "$2"
	pemfile public_encryption.pem "X25519 PUBLIC KEY" "$3.encryption_public" "$2"
	pemfile ack_key.pem "AES-128-CTR ACKNOWLEDGEMENTS KEY" "$3.ack_key" "$2"
}

# Every route of the vector network is L1 (node 1), L2, L3, gateway (node 4):
# peel stdin (raw, hex or a MixPacket) through the four nodes.
peel4() {
	nym-sphinx-wrap -u -k node1.pem 2>/dev/null | nym-sphinx-wrap -u -k node2.pem 2>/dev/null |
		nym-sphinx-wrap -u -k node3.pem 2>/dev/null | nym-sphinx-wrap -u -k node4.pem 2>/dev/null
}

# The vector network as a topology file, the recipient R (the vectors' keys)
# and a fresh sender S registered with the vector gateway.
vector_net() {
	node_keys "$A1"
	jq '{source: "vectors",
	     layers: ({"1": [.nodes[] | select(.layer == 1)], "2": [.nodes[] | select(.layer == 2)],
	               "3": [.nodes[] | select(.layer == 3)]} |
	              map_values(map({node_id, identity_key: .identity_key_b58, sphinx_key: .sphinx_key_b58,
	                              mix_host: .host, layer}))),
	     gateways: [.nodes[] | select(.role == "gateway") | {node_id, identity_key: .identity_key_b58,
	             sphinx_key: .sphinx_key_b58, mix_host: .host, layer: "gateway", ws_url: "ws://127.0.0.1:9000"}]}' \
		"$NYM_VECTORS/network.json" > topo.json
	client_dir R "$NYM_VECTORS/recipient.json" ''
	RADDR=$(jq -r .address "$NYM_VECTORS/recipient.json")
	GW=$(jq -r '.nodes[] | select(.role == "gateway") | .identity_key_b58' "$NYM_VECTORS/network.json")
	nym-keygen --id S --gateway "$GW" > /dev/null
}

# --nym the file $1 from S to R, every MixPacket peeled to its final payload:
# finals (back to back), and $NPKT packets.
send_and_peel() {
	local f
	nym-sphinx-wrap --nym --to "$RADDR" --topology topo.json --id S "${@:2}" < "$1" > pk 2> send.err
	NPKT=$(($(stat -c %s pk) / 2422))
	[ $((NPKT * 2422)) -eq "$(stat -c %s pk)" ]
	grep -q "^nym-sphinx-wrap: $NPKT packets\? " send.err
	rm -f mp.*
	split -b 2422 -a 4 -d pk mp.
	for f in mp.*; do peel4 < "$f"; done > finals
	[ "$(stat -c %s finals)" -eq $((NPKT * 2048)) ]
}

@test "decrypt: the official plain messages (a1, a2, b) peeled hop by hop give the data sent" {
	client_dir R "$NYM_VECTORS/recipient.json" ''
	for c in case-a1-plain-1byte case-a2-plain-100byte case-b-plain-5000byte-multifragment; do
		f=$NYM_VECTORS/$c.json
		node_keys "$f"
		n=$(jq '.packets | length' "$f")
		for ((k = 0; k < n; k++)); do jq -r ".packets[$k].packet" "$f" | peel4; done > finals
		[ "$(stat -c %s finals)" -eq $((n * 2048)) ]
		nym-sphinx-wrap --decrypt --id R < finals > out
		[ "$(hexof out)" = "$(jq -r .sent.data "$f")" ]
	done
	# the same payloads as --unwrap --json lines, last fragment first
	f=$NYM_VECTORS/case-b-plain-5000byte-multifragment.json
	for k in 3 1 0 2; do
		jq -r ".packets[$k].packet" "$f" | nym-sphinx-wrap -u -k node1.pem 2>/dev/null |
			nym-sphinx-wrap -u -k node2.pem 2>/dev/null | nym-sphinx-wrap -u -k node3.pem 2>/dev/null |
			nym-sphinx-wrap -u -k node4.pem --json
	done > finals.json
	[ "$(wc -l < finals.json)" = 4 ]
	nym-sphinx-wrap --decrypt --id R --json < finals.json > out.json
	[ "$(wc -l < out.json)" = 1 ]
	[ "$(jq -r '"\(.type) \(.content) \(.size) \(.sender_tag)"' out.json)" = "plain data 5000 null" ]
	[ "$(jq -r .data out.json | base64 -d | xxd -p | tr -d '\n')" = "$(jq -r .sent.data "$f")" ]
}

@test "decrypt: the official anonymous message with 3 SURBs (c) and the rotation runs (i)" {
	f=$NYM_VECTORS/case-c-anonymous-3surbs.json
	node_keys "$f"
	client_dir R "$f" .clients.recipient
	jq -r '.packets[0].packet' "$f" | peel4 | nym-sphinx-wrap --decrypt --id R --json > out.json
	[ "$(jq -r '"\(.type) \(.content) \(.sender_tag) \(.surbs) \(.surb_len) \(.surb_key_rotation)"' out.json)" = \
	  "repliable data $(jq -r .message.sender_tag_b58 "$f") 3 460 0" ]
	[ "$(jq -r .text out.json)" = "anonymous hello with 3 reply SURBs" ]
	# raw: the data on stdout, the tag on stderr
	jq -r '.packets[0].packet' "$f" | peel4 | nym-sphinx-wrap --decrypt --id R > out 2> err
	[ "$(hexof out)" = "$(jq -r .sent.data "$f")" ]
	grep -q "with 3 reply SURBs, sender tag $(jq -r .message.sender_tag_b58 "$f")" err
	f=$NYM_VECTORS/case-i-key-rotation-odd-even.json
	node_keys "$f"
	client_dir RI "$f" .recipient
	for k in 0 1; do
		jq -r ".runs[$k].packet.packet" "$f" | peel4 | nym-sphinx-wrap --decrypt --id RI --json > out.json
		[ "$(jq -r '"\(.sender_tag) \(.surbs) \(.surb_key_rotation) \(.text)"' out.json)" = \
		  "$(jq -r ".runs[$k].message | \"\(.sender_tag_b58) 1 \(.surbs_key_rotation)\"" "$f") rotation id $((7 + k))" ]
	done
}

@test "decrypt: replies through SURBs with --reply-keys (c: model replies, f: the official client's reply)" {
	f=$NYM_VECTORS/case-c-anonymous-3surbs.json
	node_keys "$f"
	client_dir S "$f" .clients.sender
	{ echo "nym-reply-keys 1"; jq -r '.reply_surbs[] | "key \(.reply_key)"' "$f"; } > rk.txt
	for k in 2 0 1; do
		jq -r ".model_replies_through_surbs[$k].packet.packet" "$f" | peel4
	done > finals
	cat finals finals > twice
	nym-sphinx-wrap --decrypt --id S --reply-keys rk.txt --json > out.json < twice
	[ "$(wc -l < out.json)" = 3 ]
	[ "$(jq -r '"\(.type) \(.via_reply)"' out.json | sort -u)" = "reply true" ]
	for k in 0 1 2; do
		[ "$(sed -n "$((k + 1))p" out.json | jq -r .data | base64 -d | xxd -p | tr -d '\n')" = \
		  "$(jq -r ".model_replies_through_surbs[$((k == 0 ? 2 : k - 1))].reply_data" "$f")" ]
	done
	# without the reply keys they are not for S's own key
	run --separate-stderr nym-sphinx-wrap --decrypt --id S < finals
	one_line_fail
	f=$NYM_VECTORS/case-f-official-reply-through-model-surbs.json
	node_keys "$f"
	client_dir M "$f" .clients.recipient
	{ echo "nym-reply-keys 1"; jq -r ".model_repliable.surbs[$(jq '.surb_used_per_packet[0]' "$f")] | \"key \(.reply_key)\"" "$f"; } > rk.txt
	jq -r '.packets[0].packet' "$f" | peel4 | nym-sphinx-wrap --decrypt --id M --reply-keys rk.txt > out
	[ "$(hexof out)" = "$(jq -r .reply_text "$f")" ]
}

@test "decrypt: gateway pushes (f: the model's repliable message, e: send-to-self and its ack)" {
	f=$NYM_VECTORS/case-f-official-reply-through-model-surbs.json
	client_dir W "$f" .clients.sender
	jq -r '.model_repliable.gateway_pushes[]' "$f" | tac | nym-sphinx-wrap --decrypt --id W --json > out.json
	[ "$(jq -r '"\(.type) \(.sender_tag) \(.surbs)"' out.json)" = "repliable $(jq -r .model_repliable.sender_tag_b58 "$f") 12" ]
	[ "$(jq -r .data out.json | base64 -d | xxd -p | tr -d '\n')" = "$(jq -r .model_repliable.text "$f")" ]
	f=$NYM_VECTORS/case-e-send-to-self.json
	node_keys "$f"
	client_dir E "$f" .clients.sender
	jq -r '.packets[0].packet' "$f" | peel4 | nym-sphinx-wrap --decrypt --id E > out
	[ "$(hexof out)" = "$(jq -r .sent.data "$f")" ]
	jq -r '.closed_loop.gateway_push, .closed_loop.ack_push' "$f" | nym-sphinx-wrap --decrypt --id E --json > out.json
	[ "$(jq -r '.text // .ack' out.json | head -1 | xxd -p | tr -d '\n')" = "$(jq -r .closed_loop.official_client_received "$f")0a" ]
	[ "$(sed -n 2p out.json | jq -r .ack)" = "$(jq -r '.packets[0].nym.fragment.identifier' "$f")" ]
}

@test "decrypt: official loop cover is recognised and dropped (d1 at 258, d2 at 259)" {
	for c in case-d1-loop-cover-default case-d2-loop-cover-legacy-off; do
		f=$NYM_VECTORS/$c.json
		node_keys "$f"
		client_dir "$c" "$f" .clients.sender
		n=$(jq '.cover_packets | length' "$f")
		for ((k = 0; k < n; k++)); do jq -r ".cover_packets[$k].packet" "$f" | peel4; done > finals
		nym-sphinx-wrap --decrypt --id "$c" < finals > out 2> err
		[ ! -s out ]
		[ "$(grep -c 'is loop cover (dropped)' err)" = "$n" ]
		# the real message sent among the cover
		jq -r '.real_packet_among_cover.packet.packet' "$f" | peel4 | nym-sphinx-wrap --decrypt --id "$c" > out
		[ "$(hexof out)" = "$(jq -r .real_packet_among_cover.message.data "$f")" ]
		jq -r '.cover_packets[0].packet' "$f" | peel4 > cover
		nym-sphinx-wrap --inspect --id "$c" < cover > j
		[ "$(jq -r '"\(.kind) \(.encryption) \(.cover)"' j)" = "final_payload regular true" ]
	done
}

@test "decrypt: the official extended32 packet (g) with --size extended32" {
	f=$NYM_VECTORS/case-g-extended32-3000byte.json
	node_keys "$f"
	client_dir R "$f" .clients.recipient
	jq -r '.packets[0].packet' "$f" | peel4 > final
	[ "$(stat -c %s final)" = 32768 ]
	nym-sphinx-wrap --decrypt --id R --size extended32 < final > out
	[ "$(hexof out)" = "$(jq -r .sent.data "$f")" ]
	# as a hex line the size needs no option
	hexof final | nym-sphinx-wrap --decrypt --id R > out
	[ "$(hexof out)" = "$(jq -r .sent.data "$f")" ]
}

@test "decrypt: SURB-acks of official packets open with the sender's ack key" {
	for c in case-a1-plain-1byte case-b-plain-5000byte-multifragment case-d1-loop-cover-default; do
		f=$NYM_VECTORS/$c.json
		node_keys "$f"
		client_dir "$c" "$f" .clients.sender
		rec=.packets[0]
		[ "$c" = case-d1-loop-cover-default ] && rec=.cover_packets[0]
		jq -r "$rec.nym.surb_ack.packet" "$f" | peel4 > ack
		[ "$(stat -c %s ack)" = 21 ]
		hexof ack | nym-sphinx-wrap --decrypt --id "$c" --json > out.json
		nym-sphinx-wrap --inspect --id "$c" < ack > j
		if [ "$c" = case-d1-loop-cover-default ]; then
			[ ! -s out.json ]
			[ "$(jq -r '"\(.kind) \(.fragment_id) \(.cover)"' j)" = "ack 0000000000 true" ]
		else
			[ "$(jq -r .ack out.json)" = "$(jq -r "$rec.nym.surb_ack.fragment_identifier" "$f")" ]
			[ "$(jq -r '"\(.kind) \(.fragment_id) \(.cover)"' j)" = "ack $(jq -r "$rec.nym.fragment.identifier" "$f") false" ]
		fi
	done
}

@test "inspect: fragment headers of official payloads, linked sets (h) included" {
	f=$NYM_VECTORS/case-h-linked-sets-409100byte.json
	node_keys "$f"
	client_dir R "$f" .clients.recipient
	for k in 0 1 2; do
		jq -r ".packets_full[$k].packet" "$f" | peel4 > final
		nym-sphinx-wrap --inspect < final > j0
		[ "$(jq -r '"\(.kind) \(.surb_ack.first_hop) \(.prefix) \(has("fragment"))"' j0)" = \
		  "final_payload 127.0.0.1:17891 $(jq -r ".packets_full[$k].nym.ephemeral_public_key" "$f") false" ]
		nym-sphinx-wrap --inspect --id R < final > j
		[ "$(jq -r '.fragment | "\(.header) \(.id) \(.set_id) \(.total) \(.position) \(.linked) \(.payload_len)"' j)" = \
		  "$(jq -r ".packets_full[$k].nym.fragment | \"\(.header) \(.identifier) \(.set_id) \(.total) \(.position) \(.linked) \(.payload_len)\"" "$f")" ]
	done
	[ "$(jq -r '.fragment | "\(.previous_set) \(.next_set)"' j)" = "2009957847 null" ]
	[ "$(jq -r '.message.type' j)" = null ]
	jq -r ".packets_full[0].packet" "$f" | peel4 | nym-sphinx-wrap --inspect --id R > j
	[ "$(jq -r '"\(.message.type) \(.fragment.next_set)"' j)" = "plain null" ]
	# a whole single-fragment message shows its type and content
	f=$NYM_VECTORS/case-c-anonymous-3surbs.json
	node_keys "$f"
	client_dir RC "$f" .clients.recipient
	jq -r '.packets[0].packet' "$f" | peel4 | nym-sphinx-wrap --inspect --id RC > j
	[ "$(jq -r '.message | "\(.type) \(.content) \(.sender_tag) \(.surbs)"' j)" = \
	  "repliable data $(jq -r .message.sender_tag_b58 "$f") 3" ]
}

@test "nym: round trips through the vector network: 0 B, 1 B, 1601, 1602, 2, 3 and 100 fragments" {
	vector_net
	for len in 0 1 1601 1602 1603 3000 4000 160000; do
		head -c "$len" /dev/urandom > m
		send_and_peel m
		case $len in
			0 | 1 | 1601 | 1602) [ "$NPKT" = 1 ] ;;
			1603 | 3000) [ "$NPKT" = 2 ] ;;
			4000) [ "$NPKT" = 3 ] ;;
			160000) [ "$NPKT" = 100 ] ;;
		esac
		nym-sphinx-wrap --decrypt --id R < finals > out
		cmp m out
	done
}

@test "nym: a message of two linked fragment sets (256 packets) comes back whole" {
	vector_net
	head -c 409100 /dev/urandom > m
	send_and_peel m
	[ "$NPKT" = 256 ]
	nym-sphinx-wrap --inspect --id R < <(tail -c 2048 finals) > j
	[ "$(jq -r '.fragment | "\(.total) \(.position) \(.linked) \(.next_set)"' j)" = "1 1 true null" ]
	[ "$(jq -r '.fragment.previous_set' j)" -gt 0 ]
	nym-sphinx-wrap --decrypt --id R < finals > out
	cmp m out
}

@test "nym: shuffled and duplicated payloads of two messages give each message once" {
	vector_net
	head -c 6000 /dev/urandom > m1
	head -c 5000 /dev/urandom > m2
	send_and_peel m1
	split -b 2048 -a 3 -d finals a.
	send_and_peel m2
	split -b 2048 -a 3 -d finals b.
	ls a.* b.* a.* b.000 | shuf | xargs cat > mixed
	[ "$(stat -c %s mixed)" -eq $((2048 * (4 + 4 + 4 + 1))) ]
	nym-sphinx-wrap --decrypt --id R --json < mixed > out.json
	[ "$(wc -l < out.json)" = 2 ]
	[ "$(jq -r .size out.json | sort -n | tr '\n' ' ')" = "5000 6000 " ]
	for k in 1 2; do
		jq -r "select(.size == $(stat -c %s m$k)) | .data" out.json | base64 -d > out
		cmp "m$k" out
	done
}

@test "nym: --json per packet, --hex lines, MixPackets inspected, acks back to the sender" {
	vector_net
	head -c 4000 /dev/urandom > m
	nym-sphinx-wrap --nym --to "$RADDR" --topology topo.json --id S --json < m > pk.json 2> err
	[ "$(wc -l < pk.json)" = 3 ]
	[ "$(jq -r '"\(.index)/\(.count) \(.position) \(.next_hop) \(.length) \(.key_rotation)"' pk.json | tr '\n' ,)" = \
	  "0/3 1 127.0.0.1:17891 2422 0,1/3 2 127.0.0.1:17891 2422 0,2/3 3 127.0.0.1:17891 2422 0," ]
	[ "$(jq -r .set_id pk.json | sort -u | wc -l)" = 1 ]
	head -1 pk.json > p1.json
	nym-sphinx-wrap --inspect < p1.json > j
	[ "$(jq -r '"\(.mix_packet.version) \(.mix_packet.next_hop) \(.mix_packet.length) \(.size)"' j)" = "2 127.0.0.1:17891 2422 2413" ]
	# the first payload's SURB-ack, peeled back to S, names the fragment
	peel4 < p1.json > final
	tail -c +20 final | head -c 386 | peel4 > ack
	hexof ack | nym-sphinx-wrap --decrypt --id S --json > a.json
	[ "$(jq -r .ack a.json)" = "$(jq -r .fragment_id p1.json)" ]
	# --hex: one MixPacket per line
	nym-sphinx-wrap --nym --to "$RADDR" --topology topo.json --id S --hex < m > pk.hex 2> /dev/null
	[ "$(wc -l < pk.hex)" = 3 ]
	while read -r l; do echo "$l" | peel4 | xxd -p | tr -d '\n'; echo; done < pk.hex > finals.hex
	nym-sphinx-wrap --decrypt --id R < finals.hex > out
	cmp m out
}

@test "nym: --surbs N makes an anonymous message; reply keys written to --reply-keys" {
	vector_net
	echo "reply to me" > m
	send_and_peel m --surbs 3 --reply-keys rk.txt
	[ "$(stat -c %a rk.txt)" = 600 ]
	[ "$(grep -c '^key [0-9a-f]\{32\}$' rk.txt)" = 3 ]
	grep -q "^recipient $RADDR$" rk.txt
	tag=$(sed -n 's/^sender-tag //p' rk.txt)
	grep -q "with 3 reply SURBs; sender tag $tag, reply keys in rk.txt" send.err
	nym-sphinx-wrap --decrypt --id R --json < finals > out.json
	[ "$(jq -r '"\(.type) \(.content) \(.sender_tag) \(.surbs) \(.surb_len) \(.text)"' out.json)" = \
	  "repliable data $tag 3 460 reply to me" ]
	# the same recipient gets the same tag (as nym-send reports it), and the
	# first fragment of a longer message shows it
	head -c 5000 /dev/urandom > m
	send_and_peel m --surbs 0
	grep -q "with 0 reply SURBs; sender tag $tag\$" send.err
	[ "$NPKT" = 4 ]
	head -c 2048 finals | nym-sphinx-wrap --inspect --id R > j
	[ "$(jq -r '"\(.fragment.position)/\(.fragment.total) \(.message.type) \(.message.sender_tag)"' j)" = "1/4 repliable $tag" ]
	nym-sphinx-wrap --decrypt --id R < finals > out 2> err
	cmp m out
	grep -q "with 0 reply SURBs, sender tag $tag" err
}

@test "nym: as many packets as the official client made (b, g, h), in the same sets" {
	vector_net
	for c in case-b-plain-5000byte-multifragment case-g-extended32-3000byte case-h-linked-sets-409100byte; do
		f=$NYM_VECTORS/$c.json
		size=regular
		[ "$c" = case-g-extended32-3000byte ] && size=extended32
		head -c "$(jq .sent.len "$f")" /dev/zero > m
		nym-sphinx-wrap --nym --to "$RADDR" --topology topo.json --id S --size "$size" --json < m > pk.json 2> /dev/null
		[ "$(wc -l < pk.json)" = "$(jq '(.packets // .packets_summary) | length' "$f")" ]
		[ "$(jq -r .length pk.json | sort -u)" = "$(( $(jq '(.packets // .packets_full)[0].packet_len' "$f") + 9 ))" ]
	done
	# case h: 255 fragments in the first set, then one in a set of its own
	[ "$(jq -r '"\(.position)/\(.count)"' pk.json | sed -n '1p;255p;256p' | tr '\n' ' ')" = "1/256 255/256 1/256 " ]
	[ "$(jq -r .set_id pk.json | uniq | wc -l)" = 2 ]
}

@test "nym: NYM_ID and NYM_TOPOLOGY stand in for --id and --topology; --delay-mean 0" {
	vector_net
	echo hi > m
	NYM_ID=S NYM_TOPOLOGY=topo.json nym-sphinx-wrap --nym --to "$RADDR" --delay-mean 0 --json < m > pk.json 2> err
	assert_equal "$(cat err)" "nym-sphinx-wrap: 1 packet (2422 bytes) for a 3-byte message"
	[ "$(jq -r '"\(.delay_ns) \(.timeout_ms)"' pk.json)" = "0 1500" ]
	peel4 < pk.json > final
	NYM_ID=R nym-sphinx-wrap --decrypt < final > out
	cmp m out
}

@test "nym: --size extended8 and --version 258" {
	vector_net
	head -c 10000 /dev/urandom > m
	nym-sphinx-wrap --nym --to "$RADDR" --topology topo.json --id S --size extended8 --version 258 --json < m > pk.json 2>/dev/null
	[ "$(jq -r .length pk.json | sort -u)" = 8566 ]
	n=$(wc -l < pk.json)
	[ "$n" = 2 ]
	while read -r l; do echo "$l" | peel4; done < pk.json > finals
	nym-sphinx-wrap --decrypt --id R --size extended8 < finals > out
	cmp m out
	echo "$(head -1 pk.json)" | nym-sphinx-wrap -u -k node1.pem 2>&1 >/dev/null | grep -q "version 258"
}

@test "bad input: impossible fragment header, wrong recipient key, truncated or stray payloads" {
	vector_net
	echo "one fragment" > m
	send_and_peel m
	# flip the position byte (1 -> 0) under AES-CTR: header offset 405 + 32 + 5
	cp finals bad
	b=$(od -An -tu1 -j 442 -N1 finals | tr -d ' ')
	printf "$(printf '\\x%02x' $((b ^ 1)))" | dd of=bad bs=1 seek=442 conv=notrunc status=none
	nym-sphinx-wrap --inspect --id R < finals | jq -e '.fragment.position == 1'
	run --separate-stderr nym-sphinx-wrap --decrypt --id R < bad
	one_line_fail
	assert_equal "$stderr" "nym-sphinx-wrap: payload 1 is no fragment for client 'R': encrypted to another key, or a corrupt or impossible fragment header"
	run --separate-stderr nym-sphinx-wrap --inspect --id R < bad
	one_line_fail
	[ "$(echo "$output" | jq -r .header | cut -c11-12)" = 00 ]
	# S's keys are not R's
	run --separate-stderr nym-sphinx-wrap --decrypt --id S < finals
	one_line_fail
	[[ "$stderr" == *"no fragment for client 'S'"* ]]
	# truncated: raw, and as a hex line
	head -c 2000 finals > short
	run --separate-stderr nym-sphinx-wrap --decrypt --id R < short
	one_line_fail
	assert_equal "$stderr" "nym-sphinx-wrap: payload 1 is truncated: 2000 of 2048 bytes (regular)"
	{ hexof finals; echo; hexof short; echo; } > two.hex
	run --separate-stderr nym-sphinx-wrap --decrypt --id R < two.hex
	one_line_fail
	[[ "$stderr" == "nym-sphinx-wrap: payload 2 is 2000 bytes, not a final-hop payload "* ]]
	# a message that never completes
	head -c 5000 /dev/urandom > m
	send_and_peel m
	head -c $((3 * 2048)) finals > three
	run --separate-stderr nym-sphinx-wrap --decrypt --id R < three
	one_line_fail
	[[ "$stderr" == *"input ended with a message incomplete"* ]]
	# a payload whose first bytes are no SURB-ack block
	{ printf '\x04\x00\x00'; head -c 2045 /dev/zero; } > noblock
	run --separate-stderr nym-sphinx-wrap --decrypt --id R < noblock
	one_line_fail
	run --separate-stderr nym-sphinx-wrap --decrypt --id R < /dev/null
	one_line_fail
	echo "zz not hex" > nothex
	run --separate-stderr nym-sphinx-wrap --decrypt --id R < nothex
	one_line_fail
}

@test "bad input: --nym without a gateway, unknown client, bad recipient, recipient off the network" {
	vector_net
	nym-keygen --id NOGW > /dev/null
	run --separate-stderr nym-sphinx-wrap --nym --to "$RADDR" --topology topo.json --id NOGW < /dev/null
	one_line_fail
	assert_equal "$stderr" "nym-sphinx-wrap: client 'NOGW' has no gateway (no gateway_identity.pem in its key directory), so its acks and SURBs have no way back: choose one with nym-keygen --id NOGW --gateway GATEWAY"
	run --separate-stderr nym-sphinx-wrap --nym --to "$RADDR" --topology topo.json --id nobody < /dev/null
	one_line_fail
	[[ "$stderr" == *"client 'nobody' has no keys"* ]]
	run --separate-stderr nym-sphinx-wrap --nym --to "x.y@z" --topology topo.json --id S < /dev/null
	one_line_fail
	jq 'del(.layers["1"][0])' topo.json > t2.json
	run --separate-stderr nym-sphinx-wrap --nym --to "$RADDR" --topology t2.json --id S < /dev/null
	one_line_fail
	assert_equal "$stderr" "nym-sphinx-wrap: t2.json: layer 1 is empty: no usable mix node on it"
	nym-keygen --id X --gateway EQidQPMcpfgqEp9QFm4LTF13gVk8ae7T76PvuZChTkcV > /dev/null
	run --separate-stderr nym-sphinx-wrap --nym --to "$RADDR" --topology topo.json --id X < /dev/null
	one_line_fail
	[[ "$stderr" == *"the sender's gateway EQidQPMcpfgqEp9QFm4LTF13gVk8ae7T76PvuZChTkcV is not a gateway of the network"* ]]
	nym-keygen --id Y --gateway "${RADDR%%.*}" > /dev/null
	run --separate-stderr nym-sphinx-wrap --nym --to "$RADDR" --topology topo.json --id Y < /dev/null
	one_line_fail
	[[ "$stderr" == *"the sender's gateway ${RADDR%%.*} is not in the network"* ]]
	run --separate-stderr nym-sphinx-wrap --nym --to "${RADDR%@*}@${RADDR%%.*}" --topology topo.json --id S < /dev/null
	one_line_fail
	[[ "$stderr" == *"the recipient's gateway ${RADDR%%.*} is not in the network"* ]]
	run --separate-stderr nym-sphinx-wrap --nym --to "$RADDR" --topology missing.json --id S < /dev/null
	one_line_fail
	run nym-sphinx-wrap --nym --topology topo.json
	assert_failure 2
	run nym-sphinx-wrap --nym --to "$RADDR"
	assert_failure 2
	run nym-sphinx-wrap --decrypt --surbs 2
	assert_failure 2
	run nym-sphinx-wrap --nym --to "$RADDR" --topology topo.json --size ack
	assert_failure 2
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
		run ! cmp -s p q
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

@test "bad input: --decrypt of endless input that can never be a payload stops, in bounded time and memory" {
	client_dir R "$NYM_VECTORS/recipient.json" ''
	# no newline ever (the line would grow without end), then one line too long;
	# max RSS in KiB from /usr/bin/time (not ulimit -v: an ASan build maps terabytes)
	local rss=""
	if [ -x /usr/bin/time ]; then rss="/usr/bin/time -f %M -o rss"; fi
	run --separate-stderr bash -c "head -c 2G /dev/zero | timeout 10 $rss nym-sphinx-wrap --decrypt --id R"
	one_line_fail
	assert_equal "$stderr" "nym-sphinx-wrap: payload 1: a NUL byte in a text line: the input is neither raw payloads nor text"
	if [ -n "$rss" ]; then [ "$(tail -n 1 rss)" -lt 200000 ]; rm rss; fi
	run --separate-stderr bash -c "yes a | tr -d '\n' | head -c 2G | timeout 10 $rss nym-sphinx-wrap --decrypt --id R"
	one_line_fail
	assert_equal "$stderr" "nym-sphinx-wrap: payload 1: a line longer than 128 KiB can be no payload"
	if [ -n "$rss" ]; then [ "$(tail -n 1 rss)" -lt 200000 ]; rm rss; fi
	# a line of the largest payload is still taken (as hex: 65536 digits)
	head -c 32768 /dev/zero | xxd -p | tr -d '\n' > big.hex
	echo >> big.hex
	run --separate-stderr nym-sphinx-wrap --decrypt --id R < big.hex
	one_line_fail
	[[ "$stderr" == *"payload 1 does not start with a SURB-ack block"* ]]
}
