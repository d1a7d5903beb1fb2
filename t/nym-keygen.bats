#!/usr/bin/env bats
# nym-keygen: client and node keys in the official layout, addresses, bad input.
load helpers

GW=FunttztLa1uAni6igDwbVfYBXUePRxzXwsjLC8FsYg7W # the vectors' gateway identity
ADDR=CytBseW6yFXUMzz4SGAKdNLGR7q3sJLLYxyBGvutNEQV.4QXYyEVc5fUDjmmi8PrHN9tdUFV4PCvSJE1278cHyvoe@4sBbL1ngf1vtNqykydQKTFh26sQCw888GpUqvPvyNB4f
ID=CytBseW6yFXUMzz4SGAKdNLGR7q3sJLLYxyBGvutNEQV
ENC=4QXYyEVc5fUDjmmi8PrHN9tdUFV4PCvSJE1278cHyvoe
D="\$HOME/.nym/clients/alice/data"

cdir() { echo "$HOME/.nym/clients/$1/data"; }
mode() { stat -c %a "$1"; }

# --- normal use -------------------------------------------------------------

@test "creates client keys in the official layout and prints the address" {
	run nym-keygen --id alice --gateway "$GW"
	assert_success
	assert_output --regexp "^[1-9A-HJ-NP-Za-km-z]{32,44}\.[1-9A-HJ-NP-Za-km-z]{32,44}@$GW$"
	d=$(cdir alice)
	for f in private_identity.pem public_identity.pem private_encryption.pem \
		public_encryption.pem ack_key.pem gateway_identity.pem; do
		[ -f "$d/$f" ]
		[ "$(mode "$d/$f")" = 600 ]
	done
	[ "$(mode "$d")" = 700 ]
	[ "$(mode "$HOME/.nym")" = 700 ]
	run ls -A "$d"
	refute_output --partial .tmp
	head -1 "$d/private_identity.pem" | grep -q $'^-----BEGIN ED25519 PRIVATE KEY-----\r$'
	head -1 "$d/ack_key.pem" | grep -q $'^-----BEGIN AES-128-CTR ACKNOWLEDGEMENTS KEY-----\r$'
	head -1 "$d/private_encryption.pem" | grep -q $'^-----BEGIN X25519 PRIVATE KEY-----\r$'
}

@test "the issue's check: --show --json | jq -r .address is a valid address" {
	run nym-keygen --id alice --gateway "$GW"
	assert_success
	created=$output
	addr=$(nym-keygen --id alice --show --json | jq -r .address)
	[ "$addr" = "$created" ]
	run nym-keygen --check "$addr"
	assert_success
	assert_output ""
}

@test "--json has address, identity_key, encryption_key, gateway in base58" {
	nym-keygen --id alice --gateway "$GW" >/dev/null
	run nym-keygen --id alice --show --json
	assert_success
	[ "$(echo "$output" | wc -l)" -eq 1 ]
	id=$(echo "$output" | jq -r .identity_key)
	enc=$(echo "$output" | jq -r .encryption_key)
	[ "$(echo "$output" | jq -r .gateway)" = "$GW" ]
	[ "$(echo "$output" | jq -r .address)" = "$id.$enc@$GW" ]
	run nym-keygen --check "$id.$enc@$GW" --json
	[ "$(echo "$output" | jq -r .valid)" = true ]
}

@test "public key files match the private keys (checked with OpenSSL)" {
	nym-keygen --id alice --gateway "$GW" >/dev/null
	d=$(cdir alice)
	body() { sed -n 2p "$1" | tr -d '\r' | base64 -d | xxd -p -c 64; }
	# raw 32-byte private key -> PKCS#8 DER -> OpenSSL derives the public key
	derive() { echo "$1$2" | xxd -r -p | openssl pkey -inform DER -pubout -outform DER | tail -c 32 | xxd -p -c 64; }
	[ "$(derive 302e020100300506032b657004220420 "$(body "$d/private_identity.pem")")" = "$(body "$d/public_identity.pem")" ]
	[ "$(derive 302e020100300506032b656e04220420 "$(body "$d/private_encryption.pem")")" = "$(body "$d/public_encryption.pem")" ]
	[ "$(sed -n 2p "$d/ack_key.pem" | tr -d '\r' | base64 -d | wc -c)" -eq 16 ]
	run nym-keygen --id alice --show
	assert_success
	assert_line "gateway $GW"
	assert_line "identity_key $(nym-keygen --id alice --show --json | jq -r .identity_key)"
}

@test "default id is 'default', or \$NYM_ID" {
	nym-keygen --gateway "$GW" >/dev/null
	[ -f "$(cdir default)/private_identity.pem" ]
	NYM_ID=carol nym-keygen --gateway "$GW" >/dev/null
	[ -f "$(cdir carol)/private_identity.pem" ]
}

@test "NYM_HOME_DIR wins over HOME" {
	mkdir -p "$BATS_TEST_TMPDIR/nymhome"
	NYM_HOME_DIR="$BATS_TEST_TMPDIR/nymhome" nym-keygen --id x --gateway "$GW" >/dev/null
	[ -f "$BATS_TEST_TMPDIR/nymhome/.nym/clients/x/data/ack_key.pem" ]
	unset NYM_HOME_DIR
	nym-keygen --id y --gateway "$GW" >/dev/null
	[ -f "$HOME/.nym/clients/y/data/ack_key.pem" ]
}

@test "--dir writes to that directory" {
	run nym-keygen --dir keys/a --gateway "$GW"
	assert_success
	[ -f keys/a/private_identity.pem ]
	run nym-keygen --dir keys/a --show --json
	assert_success
	[ "$(echo "$output" | jq -r .gateway)" = "$GW" ]
}

@test "without a gateway: stderr says the address is incomplete, stdout has what is known" {
	run --separate-stderr nym-keygen --id bob
	assert_success
	assert_output --regexp "^[1-9A-HJ-NP-Za-km-z]{32,44}\.[1-9A-HJ-NP-Za-km-z]{32,44}@$"
	[[ "$stderr" == *"no gateway yet"* ]]
	run --separate-stderr nym-keygen --id bob --show
	assert_success
	assert_line "gateway -"
	[[ "$stderr" == *"address is incomplete"* ]]
	run --separate-stderr nym-keygen --id bob --show --json
	[ "$(echo "$output" | jq -r .address)" = null ]
	[ "$(echo "$output" | jq -r .gateway)" = null ]
	# the incomplete form is not mistaken for an address
	run nym-keygen --check "$(nym-keygen --id bob 2>/dev/null --show | sed -n 's/^address //p')"
	assert_failure 1
	assert_output --partial "gateway key is empty"
}

@test "refuses to overwrite keys without --force; --force replaces them" {
	a1=$(nym-keygen --id alice --gateway "$GW")
	run nym-keygen --id alice --gateway "$GW"
	assert_failure 1
	assert_output --partial "keys already exist"
	assert_output --partial "--force"
	[ "$(nym-keygen --id alice --show --json | jq -r .address)" = "$a1" ]
	run nym-keygen --id alice --gateway "$GW" --force
	assert_success
	[ "$output" != "$a1" ]
	[ "$(nym-keygen --id alice --show --json | jq -r .address)" = "$output" ]
}

@test "--force without --gateway drops the old keys' gateway" {
	nym-keygen --id alice --gateway "$GW" >/dev/null
	nym-keygen --id alice --force 2>/dev/null
	[ ! -e "$(cdir alice)/gateway_identity.pem" ]
	run --separate-stderr nym-keygen --id alice --show --json
	[ "$(echo "$output" | jq -r .gateway)" = null ]
}

@test "--node creates node keys as nym-node stores them and prints the public parts" {
	run nym-keygen --node --id mix1
	assert_success
	assert_line --regexp "^identity_key [1-9A-HJ-NP-Za-km-z]{32,44}$"
	assert_line --regexp "^sphinx_key [1-9A-HJ-NP-Za-km-z]{32,44}$"
	assert_line "rotation_id 0"
	d="$HOME/.nym/nym-nodes/mix1/data"
	for f in ed25519_identity ed25519_identity.pub x25519_sphinx_primary; do
		[ "$(mode "$d/$f")" = 600 ]
	done
	head -1 "$d/x25519_sphinx_primary" | grep -q $'^-----BEGIN X25519 SPHINX PRIVATE KEY-----\r$'
	[ "$(sed -n 2p "$d/x25519_sphinx_primary" | tr -d '\r' | base64 -d | wc -c)" -eq 36 ]
	show=$(nym-keygen --node --id mix1 --show)
	[ "$show" = "$output" ]
	run nym-keygen --node --id mix1 --show --json
	[ "$(echo "$output" | jq -r .identity_key)" = "$(echo "$show" | sed -n 's/^identity_key //p')" ]
	[ "$(echo "$output" | jq -r .sphinx_key)" = "$(echo "$show" | sed -n 's/^sphinx_key //p')" ]
}

@test "--node --rotation stores the rotation id; default node id" {
	run nym-keygen --node --rotation 7 --json
	assert_success
	[ "$(echo "$output" | jq -r .rotation_id)" = 7 ]
	head -c 200 "$HOME/.nym/nym-nodes/default-nym-node/data/x25519_sphinx_primary" >/dev/null
	run nym-keygen --node --show
	assert_line "rotation_id 7"
	run nym-keygen --node
	assert_failure 1
	assert_output --partial "keys already exist"
}

@test "node keys round-trip the vectors' key material (network.json)" {
	# Write a node directory from network.json's secrets, as nym-node would.
	d=nodedir
	mkdir -p $d
	seed=$(jq -r '.nodes[0].identity_secret_seed' "$NYM_VECTORS/network.json")
	pubhex=$(jq -r '.nodes[0].identity_public' "$NYM_VECTORS/network.json")
	sx=$(jq -r '.nodes[0].sphinx_secret' "$NYM_VECTORS/network.json")
	pem() { printf -- '-----BEGIN %s-----\r\n%s\r\n-----END %s-----\r\n' "$1" "$(echo "$2" | xxd -r -p | base64 -w0)" "$1"; }
	pem "ED25519 PRIVATE KEY" "$seed" > $d/ed25519_identity
	pem "ED25519 PUBLIC KEY" "$pubhex" > $d/ed25519_identity.pub
	pem "X25519 SPHINX PRIVATE KEY" "00000000$sx" > $d/x25519_sphinx_primary
	chmod 600 $d/*
	run nym-keygen --node --dir $d --show --json
	assert_success
	[ "$(echo "$output" | jq -r .identity_key)" = "$(jq -r '.nodes[0].identity_key_b58' "$NYM_VECTORS/network.json")" ]
	[ "$(echo "$output" | jq -r .sphinx_key)" = "$(jq -r '.nodes[0].sphinx_key_b58' "$NYM_VECTORS/network.json")" ]
}

@test "client keys round-trip the vectors' key material (recipient.json)" {
	v="$NYM_VECTORS/recipient.json"
	d=cdir
	mkdir -p $d
	pem() { printf -- '-----BEGIN %s-----\r\n%s\r\n-----END %s-----\r\n' "$1" "$(echo "$2" | xxd -r -p | base64 -w0)" "$1"; }
	pem "ED25519 PRIVATE KEY" "$(jq -r .identity_secret_seed "$v")" > $d/private_identity.pem
	pem "ED25519 PUBLIC KEY" "$(jq -r .identity_public "$v")" > $d/public_identity.pem
	pem "X25519 PRIVATE KEY" "$(jq -r .encryption_secret "$v")" > $d/private_encryption.pem
	pem "X25519 PUBLIC KEY" "$(jq -r .encryption_public "$v")" > $d/public_encryption.pem
	pem "AES-128-CTR ACKNOWLEDGEMENTS KEY" "$(jq -r .ack_key "$v")" > $d/ack_key.pem
	pem "ED25519 PUBLIC KEY" "$(echo "$GW" | python3 -c '
import sys
a="123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
n=0
for c in sys.stdin.read().strip(): n=n*58+a.index(c)
print(n.to_bytes(32,"big").hex())')" > $d/gateway_identity.pem
	chmod 600 $d/*
	run nym-keygen --dir $d --show --json
	assert_success
	[ "$(echo "$output" | jq -r .address)" = "$(jq -r .address "$v")" ]
}

@test "--check accepts every address in the vectors (written by the official client)" {
	n=0
	for a in $(grep -oh '"[1-9A-HJ-NP-Za-km-z]\{30,50\}\.[1-9A-HJ-NP-Za-km-z]\{30,50\}@[1-9A-HJ-NP-Za-km-z]\{30,50\}"' \
			"$NYM_VECTORS"/*.json | tr -d '"' | sort -u); do
		run nym-keygen --check "$a"
		assert_success
		n=$((n + 1))
	done
	[ $n -ge 8 ]
	run nym-keygen --check "$(jq -r .address "$NYM_VECTORS/recipient.json")"
	assert_success
}

@test "--check --json reports the parts" {
	run nym-keygen --check "$ADDR" --json
	assert_success
	[ "$(echo "$output" | jq -r .identity_key)" = "$ID" ]
	[ "$(echo "$output" | jq -r .encryption_key)" = "$ENC" ]
	run --separate-stderr nym-keygen --check "$ID.$ENC" --json
	assert_failure 1
	[ "$(echo "$output" | jq -r .valid)" = false ]
	[ "$(echo "$output" | jq -r .error)" = "no '@' before the gateway key (want IDENTITY.ENCRYPTION@GATEWAY)" ]
	[[ "$stderr" == "nym-keygen: invalid address: no '@'"* ]]
}

# --- bad addresses ------------------------------------------------------------

bad_addr() { # address, expected reason
	run --separate-stderr nym-keygen --check "$1"
	[ "$status" -eq 1 ] || { echo "status $status for $1"; return 1; }
	[ "$(echo "$stderr" | wc -l)" -eq 1 ] || { echo "not one line: $stderr"; return 1; }
	[[ "$stderr" == "nym-keygen: invalid address: "*"$2"* ]] || { echo "got: $stderr"; return 1; }
}

@test "--check: missing or extra separators" {
	bad_addr "$ID.$ENC$GW" "no '@'"
	bad_addr "$ID.$ENC@@$GW" "more than one '@'"
	bad_addr "$ID.$ENC@$GW@$GW" "more than one '@'"
	bad_addr "$ID$ENC@$GW" "no '.'"
	bad_addr "$ID..$ENC@$GW" "more than one '.'"
	bad_addr ".$ENC@$GW" "identity key is empty"
	bad_addr "$ID.@$GW" "encryption key is empty"
	bad_addr "$ID.$ENC@" "gateway key is empty"
	bad_addr "" "empty address"
}

@test "--check: bad base58, wrong lengths, invalid points" {
	bad_addr "${ID}0.$ENC@$GW" "identity key: '0' at character 45 is not base58"
	bad_addr "$ID.${ENC}I@$GW" "encryption key: 'I' at character"
	bad_addr "$ID.$ENC@${GW}O" "gateway key: 'O' at character"
	bad_addr "$ID.$ENC@$GW " "gateway key: 0x20 at character"
	bad_addr "abc.$ENC@$GW" "identity key decodes to 3 bytes, not 32"
	bad_addr "$ID.${ENC}zzzz@$GW" "encryption key decodes to more than 32 bytes"
	bad_addr "$ID.$ENC@1$GW" "gateway key decodes to 33 bytes, not 32"
	# y = 2 is not on the curve: (y^2-1)/(d*y^2+1) is not a square mod p
	np=$(python3 -c '
a="123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
n=int.from_bytes(bytes([2])+bytes(31),"big"); s=""
while n: n,r=divmod(n,58); s=a[r]+s
print(s)')
	bad_addr "$ID.$ENC@$np" "gateway key is not a valid Ed25519 public key"
	bad_addr "$np.$ENC@$GW" "identity key is not a valid Ed25519 public key"
	# the encryption key may be any 32 bytes
	run nym-keygen --check "$ID.$np@$GW"
	assert_success
}

# --- bad key files --------------------------------------------------------------

setup_alice() {
	nym-keygen --id alice --gateway "$GW" >/dev/null
	d=$(cdir alice)
}

one_line_fail() { # expected message part
	[ "$status" -eq 1 ] || { echo "status $status"; return 1; }
	[ "$(echo "$output" | wc -l)" -eq 1 ] || { echo "not one line: $output"; return 1; }
	[[ "$output" == "nym-keygen: "*"$1"* ]] || { echo "got: $output"; return 1; }
}

@test "truncated key file" {
	setup_alice
	head -c 60 "$d/private_identity.pem" > t && cat t > "$d/private_identity.pem"
	run nym-keygen --id alice --show
	one_line_fail "private_identity.pem: malformed PEM: truncated or damaged"
}

@test "garbled key file" {
	setup_alice
	sed -i '2s/^..../!!!!/' "$d/private_encryption.pem"
	run nym-keygen --id alice --show
	one_line_fail "private_encryption.pem: PEM body is not valid base64"
	printf 'hello\n' > "$d/private_encryption.pem"
	run nym-keygen --id alice --show
	one_line_fail "private_encryption.pem: not a PEM key file"
	head -c 3000 /dev/urandom > "$d/private_encryption.pem"
	run nym-keygen --id alice --show
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | wc -l)" -eq 1 ]
}

@test "wrong PEM label" {
	setup_alice
	sed -i 's/X25519 PRIVATE KEY/X25519 PUBLIC KEY/' "$d/private_encryption.pem"
	run nym-keygen --id alice --show
	one_line_fail "private_encryption.pem: wrong PEM label 'X25519 PUBLIC KEY' (expected 'X25519 PRIVATE KEY')"
	sed -i 's/X25519 PUBLIC KEY/X25519 PRIVATE KEY/' "$d/private_encryption.pem"
	cp "$d/public_identity.pem" "$d/ack_key.pem"
	run nym-keygen --id alice --show
	one_line_fail "ack_key.pem: wrong PEM label 'ED25519 PUBLIC KEY' (expected 'AES-128-CTR ACKNOWLEDGEMENTS KEY')"
}

@test "wrong key length" {
	setup_alice
	printf -- '-----BEGIN AES-128-CTR ACKNOWLEDGEMENTS KEY-----\r\nAAECAwQFBgcICQoLDA0ODxA=\r\n-----END AES-128-CTR ACKNOWLEDGEMENTS KEY-----\r\n' > "$d/ack_key.pem"
	run nym-keygen --id alice --show
	one_line_fail "ack_key.pem: wrong key length (expected 16 bytes)"
	nym-keygen --node --id n >/dev/null
	nd="$HOME/.nym/nym-nodes/n/data"
	sed "s/X25519 PRIVATE KEY/X25519 SPHINX PRIVATE KEY/" "$d/private_encryption.pem" > "$nd/x25519_sphinx_primary"
	run nym-keygen --node --id n --show
	one_line_fail "x25519_sphinx_primary: wrong key length (expected 36 bytes)"
}

@test "public key that does not match its private key" {
	setup_alice
	nym-keygen --id other >/dev/null 2>&1
	cp "$(cdir other)/public_encryption.pem" "$d/public_encryption.pem"
	run nym-keygen --id alice --show
	one_line_fail "public_encryption.pem: does not match its private key"
}

@test "wrong permissions on a private key file" {
	setup_alice
	chmod 644 "$d/private_identity.pem"
	run nym-keygen --id alice --show
	one_line_fail "private_identity.pem: private key is accessible by group or others (chmod 600 it)"
	chmod 600 "$d/private_identity.pem"
	chmod 640 "$d/ack_key.pem"
	run nym-keygen --id alice --show
	one_line_fail "ack_key.pem: private key is accessible by group or others"
	chmod 600 "$d/ack_key.pem"
	chmod 644 "$d/public_identity.pem"
	run nym-keygen --id alice --show
	assert_success
}

@test "missing key file and missing directory" {
	setup_alice
	rm "$d/ack_key.pem"
	run nym-keygen --id alice --show
	one_line_fail "ack_key.pem: cannot read: No such file or directory"
	run nym-keygen --id nobody --show
	one_line_fail "nobody/data/"
	run nym-keygen --node --id nobody --show
	one_line_fail "cannot read: No such file or directory"
}

@test "a key file that is a FIFO, a directory or a device: refused at once, not waited on" {
	setup_alice
	rm "$d/private_identity.pem"
	mkfifo -m 600 "$d/private_identity.pem"
	run timeout 10 nym-keygen --id alice --show
	one_line_fail "private_identity.pem: not a regular file"
	run --separate-stderr timeout 10 nym-sphinx-wrap --decrypt --id alice < /dev/null
	assert_failure 1
	assert_equal "$stderr" "nym-sphinx-wrap: cannot load the keys of client 'alice' (private_identity.pem): not a regular file"
	rm "$d/private_identity.pem"
	mkdir "$d/private_identity.pem"
	run timeout 10 nym-keygen --id alice --show
	one_line_fail "private_identity.pem: not a regular file"
	rmdir "$d/private_identity.pem"
	ln -s /dev/zero "$d/private_identity.pem"
	run timeout 10 nym-keygen --id alice --show
	one_line_fail "private_identity.pem: not a regular file"
	# nym-sphinx-wrap --key: the same
	mkfifo -m 600 node.pem
	head -c 2413 /dev/zero > packet
	run --separate-stderr timeout 10 nym-sphinx-wrap --unwrap --key node.pem < packet
	assert_failure 1
	assert_equal "$stderr" "nym-sphinx-wrap: node.pem: not a regular file"
}

@test "bad gateway identity file" {
	setup_alice
	printf 'junk' > "$d/gateway_identity.pem"
	run nym-keygen --id alice --show
	one_line_fail "gateway_identity.pem: not a PEM key file"
}

@test "unwritable directory (a regular file in the path; works as root too)" {
	touch notadir
	run nym-keygen --dir notadir/keys --gateway "$GW"
	one_line_fail "cannot write: Not a directory"
	run nym-keygen --node --dir notadir/sub/keys
	one_line_fail "cannot write: Not a directory"
	export HOME="$BATS_TEST_TMPDIR/notadir" NYM_HOME_DIR="$BATS_TEST_TMPDIR/notadir"
	run nym-keygen --id alice
	one_line_fail "Not a directory"
	run ls -A "$BATS_TEST_TMPDIR"
	refute_output --partial .tmp.
}

@test "bad --gateway values" {
	run nym-keygen --id a --gateway "${GW}0"
	one_line_fail "--gateway: '0' at character 45 is not base58"
	run nym-keygen --id a --gateway abc
	one_line_fail "--gateway: key decodes to 3 bytes, not 32"
	run nym-keygen --id a --gateway "$ADDR"
	one_line_fail "--gateway: give the gateway's identity key, not an address"
	run nym-keygen --id a --gateway ""
	one_line_fail "--gateway: empty"
	[ ! -e "$(cdir a)" ]
}

@test "bad --id" {
	run nym-keygen --id ../evil
	one_line_fail "--id: '../evil' is not a usable name"
	run nym-keygen --id ..
	one_line_fail "is not a usable name"
}

@test "usage errors exit 2" {
	run nym-keygen --bogus
	assert_failure 2
	run nym-keygen --id a --dir b
	assert_failure 2
	assert_output --partial "alternatives"
	run nym-keygen --node --gateway "$GW"
	assert_failure 2
	run nym-keygen --show --force
	assert_failure 2
	run nym-keygen --check "$ADDR" --id x
	assert_failure 2
	run nym-keygen --rotation 3
	assert_failure 2
	run nym-keygen --node --rotation -1
	assert_failure 2
	run nym-keygen --node --rotation 4294967296
	assert_failure 2
	run nym-keygen extra
	assert_failure 2
	run nym-keygen --check
	assert_failure 2
}

@test "no home directory" {
	unset HOME NYM_HOME_DIR
	run nym-keygen --id a
	one_line_fail "neither NYM_HOME_DIR nor HOME is set"
}

@test "--help and --version" {
	run nym-keygen --help
	assert_success
	assert_output --partial "Usage: nym-keygen"
	run nym-keygen --version
	assert_success
	assert_output --regexp "^nym-keygen \(nymkit\) [0-9]"
}

# --- a full disk ----------------------------------------------------------------

teardown() {
	if [ -e "$BATS_TEST_TMPDIR/mounted" ]; then umount "$BATS_TEST_TMPDIR/fs"; fi
}

@test "a full disk: no partial key set is left (client with gateway, node), and it works once there is room" {
	[ "$(id -u)" -eq 0 ] || skip "mounting a tmpfs needs root"
	mkdir fs
	mount -t tmpfs -o size=64k tmpfs fs
	touch mounted
	# tmpfs charges a 4 KiB page a file: room for some of the key files, not all
	for free in 1 2 3 5; do
		rm -rf fs/*
		head -c $(((16 - free) * 4096)) /dev/zero > fs/fill 2> /dev/null || true
		run nym-keygen --dir fs/keys --gateway "$GW"
		one_line_fail "cannot write: No space left on device"
		run ls -A fs
		assert_output "fill"
		if [ "$free" -lt 3 ]; then # a node's three files
			run nym-keygen --node --dir fs/node
			one_line_fail "cannot write: No space left on device"
			run ls -A fs
			assert_output "fill"
		fi
		# an existing directory stays, empty
		mkdir fs/keys
		run nym-keygen --dir fs/keys --gateway "$GW"
		one_line_fail "cannot write: No space left on device"
		run ls -A fs/keys
		assert_output ""
	done
	rm fs/fill
	nym-keygen --dir fs/keys --gateway "$GW" > /dev/null
	[ "$(ls fs/keys | wc -l)" -eq 6 ]
	nym-keygen --show --dir fs/keys > /dev/null
}
