# t/helpers.bash — shared set-up for the bats tests of the tools.
# Each test gets a private $HOME and NYM_HOME_DIR, so keys never leak
# between tests or into the user's home.
bats_load_library bats-support
bats_load_library bats-assert
# `run ! cmd` (a command that must fail) needs bats 1.5; a bare `! cmd` asserts nothing.
bats_require_minimum_version 1.5.0

: "${NYM_BIN:=$BATS_TEST_DIRNAME/../cmd}"
: "${NYM_VECTORS:=$BATS_TEST_DIRNAME/vectors}"
PATH="$NYM_BIN:$PATH"

setup() {
	export HOME="$BATS_TEST_TMPDIR/home"
	export NYM_HOME_DIR="$HOME"
	unset NYM_ID NYM_API
	mkdir -p "$HOME"
	cd "$BATS_TEST_TMPDIR"
}

# A free TCP port on 127.0.0.1 (best effort).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
