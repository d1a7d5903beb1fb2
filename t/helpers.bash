# t/helpers.bash — shared set-up for the bats tests of the tools.
# Each test gets a private $HOME and NYM_HOME_DIR, so keys never leak
# between tests or into the user's home.
bats_load_library bats-support
bats_load_library bats-assert
# `run ! cmd` (a command that must fail) needs bats 1.5; a bare `! cmd` asserts nothing.
bats_require_minimum_version 1.5.0

: "${NYM_BIN:=$BATS_TEST_DIRNAME/../build/cmd}"  # make builds the tools there
: "${NYM_VECTORS:=$BATS_TEST_DIRNAME/vectors}"
PATH="$NYM_BIN:$PATH"

setup() {
	export HOME="$BATS_TEST_TMPDIR/home"
	export NYM_HOME_DIR="$HOME"
	unset NYM_ID NYM_API
	mkdir -p "$HOME"
	cd "$BATS_TEST_TMPDIR"
}

# A process is running: signalable and not a zombie. (A stopped node, reparented to an init
# that is slow to reap, stays a zombie for a while: kill -0 still succeeds on it.)
running() { kill -0 "$1" 2>/dev/null && ! grep -qs '^State:[[:space:]]*Z' "/proc/$1/status"; }

# free_port_range [N]: a base port B with B..B+N-1 (default 6) free on 127.0.0.1, below the
# kernel's ephemeral range: outgoing connections take their source ports there, and one could
# take ours between this check and the bind (seen on a busy machine).
free_port_range() {
	python3 - "${1:-6}" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
lo = 32768
try:
    lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    pass
for _ in range(200):
    base = random.randint(10000, max(10001, lo - n - 1))
    socks = []
    try:
        for p in range(base, base + n):
            s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
    except OSError:
        continue
    finally:
        for s in socks: s.close()
    if len(socks) == n:
        print(base); break
PY
}

# A free TCP port on 127.0.0.1 (best effort), out of the ephemeral range as above.
free_port() {
	free_port_range 1
}

# A nym-api that accepts connections and never answers (t/bin/hungapi.py) on a free
# port: its URL in $HUNG_API, its pid in $HUNG_API_PID (kill it in teardown). With
# UPSTREAM HANGFILE it passes requests on to UPSTREAM until HANGFILE exists.
hung_api_start() {
	local port
	port=$(free_port)
	python3 "$BATS_TEST_DIRNAME/bin/hungapi.py" "$port" "$@" > "$BATS_TEST_TMPDIR/hungapi.out" 3>&- &
	HUNG_API_PID=$!
	HUNG_API="http://127.0.0.1:$port/"
	for _ in $(seq 100); do
		grep -q ready "$BATS_TEST_TMPDIR/hungapi.out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "hungapi.py did not start" >&2
	return 1
}

# Milliseconds since the epoch (for "within N s" checks).
now_ms() { date +%s%3N; }
