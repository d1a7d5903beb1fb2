# nymkit — small Unix tools that speak the Nym mixnet protocol.
#   make            build every tool (installs missing Debian packages first)
#   make check      the whole test suite, ending "N passed, N failed"
#   make asan       the same suite under AddressSanitizer + UBSan
#   make demo       a local mixnet, one message through it, a web page via SOCKS
#   make fuzz       libFuzzer targets, bounded runs (clang)
#   make bench      benchmarks, as ratios to the crypto floor of this machine
#   make wasm       the WebAssembly client in wasm/dist/ (an npm package; mk/wasm.sh)
#   make install    PREFIX=/usr/local DESTDIR=
VERSION = 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
# O: where objects and binaries go, out of the source tree (build/cmd/nym-send, ...);
# O=. builds beside the sources as before.
O ?= build

PKGS = libsodium libcrypto libcurl jansson libwebsockets libmicrohttpd sqlite3 libprotobuf-c
CC ?= cc
CFLAGS ?= -O2 -g
override CFLAGS += -std=c11 -Wall -Wextra -D_GNU_SOURCE -DNYM_VERSION='"$(VERSION)"' -Ilib -I$(O)/gen
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS = $(PKG_LIBS) -lpthread -lm

# lib/ is four layers, each a folder; a layer includes only those below it (make layers).
LAYERS = base crypto proto io
LIB_SRC = $(sort $(foreach l,$(LAYERS),$(wildcard lib/$(l)/*.c)))
# Protobuf messages (lib/<layer>/*.proto) compile with protoc-c into $(O)/gen/<layer>/,
# never into the tree; their code joins libnym.a and is included as "<layer>/x.pb-c.h".
PROTO_SRC = $(sort $(foreach l,$(LAYERS),$(wildcard lib/$(l)/*.proto)))
GEN_C = $(PROTO_SRC:lib/%.proto=$(O)/gen/%.pb-c.c)
GEN_H = $(GEN_C:.c=.h)
LIB_OBJ = $(LIB_SRC:%.c=$(O)/%.o) $(GEN_C:%.c=%.o)
LIB = $(O)/lib/libnym.a
TOOL_SRC = $(sort $(wildcard cmd/*.c))
TOOLS = $(TOOL_SRC:%.c=$(O)/%)
# Scripts in cmd/ (e.g. nym-localnet) are installed as they are.
TOOL_SCRIPTS = $(filter-out $(TOOL_SRC:.c=) %.c %.h %.wip,$(wildcard cmd/nym-*))
UNIT_SRC = $(sort $(wildcard t/unit/test_*.c))
UNITS = $(UNIT_SRC:%.c=$(O)/%)
# Helper programs the bats tests drive (e.g. a scriptable websocket peer).
TBIN_SRC = $(sort $(wildcard t/bin/*.c))
TBINS = $(TBIN_SRC:%.c=$(O)/%)
FUZZ_SRC = $(sort $(wildcard t/fuzz/*.c))
BENCH_SRC = $(sort $(wildcard bench/*.c))
HDRS = $(foreach l,$(LAYERS),$(wildcard lib/$(l)/*.h)) $(wildcard cmd/*.h) $(GEN_H)

# An out-of-tree build (build/, build/asan) gets a copy of the scripts beside its tools.
# (Its rule comes before "all": keep "all" the default goal.)
.DEFAULT_GOAL := all
ifneq ($(O),.)
SCRIPTS_OUT = $(TOOL_SCRIPTS:%=$(O)/%)
$(SCRIPTS_OUT): $(O)/cmd/%: cmd/%
	@mkdir -p $(@D)
	cp $< $@
endif

all: deps $(TOOLS) $(UNITS) $(TBINS) $(SCRIPTS_OUT)

# Missing Debian packages are installed first, once per make: every compile waits for it
# (order-only "| deps"), so "make -jN" of any target never compiles before installing.
# The goals that run tests also want the test tools.
DEPS_SET = $(if $(filter check asan demo fuzz bench deps-check,$(MAKECMDGOALS)),check,build)
deps:
	@sh mk/deps.sh $(DEPS_SET)

deps-check:
	@sh mk/deps.sh check

$(O)/lib/%.o: lib/%.c $(HDRS) | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(O)/gen/%.pb-c.c $(O)/gen/%.pb-c.h: lib/%.proto | deps
	@mkdir -p $(O)/gen
	protoc-c --proto_path=lib --c_out=$(O)/gen $<

$(O)/gen/%.o: $(O)/gen/%.c $(HDRS) | deps
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(O)/cmd/%: cmd/%.c $(LIB) $(HDRS) | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(O)/t/unit/%: t/unit/%.c t/unit/test.h $(LIB) $(HDRS) | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(O)/t/bin/%: t/bin/%.c $(LIB) $(HDRS) | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

check: deps
	@$(MAKE) --no-print-directory $(TOOLS) $(UNITS) $(TBINS)
	@sh t/run $(O)

SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
asan: deps
	@$(MAKE) --no-print-directory O=build/asan CFLAGS="-O1 -g $(SAN)" \
		build/asan/lib/libnym.a $(TOOLS:$(O)/%=build/asan/%) $(UNITS:$(O)/%=build/asan/%) \
		$(TBINS:$(O)/%=build/asan/%) $(TOOL_SCRIPTS:%=build/asan/%)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		sh t/run build/asan

# libFuzzer: each target runs FUZZ_RUNS iterations from its seed corpus.
FUZZ_RUNS ?= 100000
fuzz: deps $(GEN_C) $(GEN_H)
	@mkdir -p build/fuzz
	@set -e; for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
		clang -g -O1 -fsanitize=fuzzer,address,undefined -Ilib -I$(O)/gen $(PKG_CFLAGS) \
			-DNYM_VERSION='"$(VERSION)"' -D_GNU_SOURCE -o build/fuzz/$$n $$f $(LIB_SRC) $(GEN_C) $(LDLIBS); \
		mkdir -p build/fuzz/corpus-$$n; \
		[ -d t/fuzz/corpus/$$n ] && cp -n t/fuzz/corpus/$$n/* build/fuzz/corpus-$$n/ 2>/dev/null || true; \
		echo "fuzz: $$n ($(FUZZ_RUNS) runs)"; \
		build/fuzz/$$n -runs=$(FUZZ_RUNS) -max_len=40000 build/fuzz/corpus-$$n >build/fuzz/$$n.log 2>&1 || \
			{ tail -30 build/fuzz/$$n.log; exit 1; }; \
		tail -1 build/fuzz/$$n.log; done

bench: all
	@mkdir -p build/bench
	@set -e; for b in $(BENCH_SRC); do n=$$(basename $$b .c); \
		$(CC) $(CFLAGS) $(PKG_CFLAGS) -o build/bench/$$n $$b $(LIB) $(LDLIBS); done
	@sh bench/bench_wasm.sh $(O)
	@export PATH="$(abspath $(O))/cmd:$$PATH" NYM_BENCH_OFFICIAL_MBPS=$$(cat $(O)/bench/official.mbps 2>/dev/null); \
		for b in $(BENCH_SRC); do build/bench/$$(basename $$b .c) || exit 1; done

# The WebAssembly client: emscripten and the libraries' Debian sources, built once into
# ${XDG_CACHE_HOME:-~/.cache}/nymkit-wasm, then lib/base, lib/crypto, lib/proto and wasm/*.c.
wasm:
	@sh mk/wasm.sh

# Test lines that cannot fail, and includes that point up a layer (t/run runs both).
lint:
	@sh t/lint
layers:
	@sh mk/layers.sh

demo: all
	@sh mk/demo.sh $(abspath $(O))

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include/nym $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 755 $(TOOLS) $(TOOL_SCRIPTS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/
	for l in $(LAYERS); do install -d $(DESTDIR)$(PREFIX)/include/nym/$$l && \
		install -m 644 lib/$$l/*.h $(DESTDIR)$(PREFIX)/include/nym/$$l/ || exit 1; done
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	for f in completions/bash/*; do [ -f "$$f" ] && install -m 644 $$f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/; done; true
	for f in completions/zsh/*; do [ -f "$$f" ] && install -m 644 $$f $(DESTDIR)$(PREFIX)/share/zsh/site-functions/; done; true
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@PKGS@|$(PKGS)|' \
		mk/libnym.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libnym.pc

clean:
	rm -rf build $(O)/gen $(O)/lib/*/*.o $(O)/lib/libnym.a $(TOOLS) $(UNITS) $(TBINS) wasm/dist

.PHONY: all deps deps-check check asan fuzz bench demo install clean lint layers wasm
.SECONDARY:
