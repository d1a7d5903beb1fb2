#!/usr/bin/env bats
# t/lint: the checks that cannot fail are found (planted here). t/run lints the suite itself.
load helpers

LINT=$BATS_TEST_DIRNAME/lint

# plant FILE LINE...: write a file to lint. "NOT" stands for ! and "AND" for && (written
# plainly here, they would be findings in this file itself).
plant() {
	local f=$BATS_TEST_TMPDIR/$1; shift
	printf '%s\n' "$@" | sed -e 's/NOT/!/g' -e 's/AND/\&\&/g' > "$f"
	echo "$f"
}

@test "a bare ! before the last line is found; run ! and a last-line ! are not" {
	f=$(plant bang.bats '@test "x" {' '	NOT grep -q a f' '	true' '}')
	run "$LINT" "$f"
	assert_failure
	assert_output --partial "bang.bats:2: a bare ! asserts nothing"
	f=$(plant loop.bats '@test "x" {' '	for p in 1 2; do NOT kill -0 "$p"; done' '	true' '}')
	run "$LINT" "$f"
	assert_failure
	assert_output --partial "loop.bats:2: a bare !"
	f=$(plant ok.bats '@test "x" {' '	run NOT grep -q a f' '	if NOT true; then false; fi' \
		'	[ NOT -e f ]' '	NOT grep -q a f' '}')
	run "$LINT" "$f"
	assert_success
}

@test "[ ] && [ ] before the last line is found; || fail, loops that break, and if are not" {
	f=$(plant and.bats '@test "x" {' '	[ -n "$t" ] AND [ "$t" != null ]' '	true' '}')
	run "$LINT" "$f"
	assert_failure
	assert_output --partial "and.bats:2: the left side of && asserts nothing"
	f=$(plant cont.bats '@test "x" {' '	grep -q a f AND' '		grep -q b f' '	true' '}')
	run "$LINT" "$f"
	assert_failure
	assert_output --partial "cont.bats:2:"
	f=$(plant ok.bats '@test "x" {' '	[ -n "$t" ] AND [ "$t" != null ] || fail "no tag"' \
		'	for _ in 1 2; do [ -s f ] AND break; sleep 0; done' '	if [ a ] AND [ b ]; then :; fi' \
		'	[ -s f ] AND rm f' '	[ -n "$t" ] AND [ "$t" != null ]' '}')
	run "$LINT" "$f"
	assert_success
}

@test "CHECK(1, ...) in a C unit test is found" {
	f=$(plant t.c 'int main(void) {' '	CHECK(1, "always");' '	CHECK(x == 1, "fine");' '}')
	run "$LINT" "$f"
	assert_failure
	assert_output --partial "t.c:2: CHECK(1, ...) is always ok"
	refute_output --partial "t.c:3"
}
