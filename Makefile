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
# What the code needs, whatever CFLAGS the caller picks.
XCFLAGS	:= -std=c11 -Wall -Wextra -fPIC -D_GNU_SOURCE -MMD -MP -Ipreload -Itools
# Warnings are errors in CI (and wherever WERROR=1).
ifneq ($(CI)$(WERROR),)
XCFLAGS	+= -Werror
endif

B	?= build
VERSION	:= 0.1.0
XCFLAGS	+= -DERLFWD_VERSION='"$(VERSION)"'

-include config.mak

# The modules the preload shares with the tools.
SHARED_SRC	:= preload/frame.c preload/config.c preload/sentinel.c preload/socks5.c
PRELOAD_SRC	:= $(SHARED_SRC) preload/libc.c preload/log.c preload/runtime.c \
		   preload/redirect.c preload/resolve.c preload/hooks.c
SERVER_SRC	:= $(SHARED_SRC) tools/epmd.c tools/io.c tools/relay.c tools/logfmt.c \
		   tools/server.c tools/erlfwd-server.c

ERLFWD_SRC	:= $(SHARED_SRC) tools/io.c tools/tio.c tools/md5.c tools/dist.c \
		   tools/info.c tools/probe.c tools/nodename.c tools/target.c \
		   tools/cookie.c tools/home.c tools/launch.c tools/cli.c \
		   tools/cmd_run.c tools/cmd_names.c tools/cmd_remsh.c \
		   tools/cmd_doctor.c tools/erlfwd.c

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
$(call obj,tools/launch.c): XCFLAGS += -DERLFWD_LIBDIR='"$(LIBDIR)"'

$(CLI): $(call obj,$(ERLFWD_SRC))
	$(CC) $(XCFLAGS) $(CFLAGS) -o $@ $^ $(LDFLAGS)

# --- tests -------------------------------------------------------------------

CHECK_CFLAGS	:= $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS	:= $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)
UNIT_NAMES	:= frame config sentinel epmd resolve relay socks5 dist nodename \
		   cookie launch
UNIT_BINS	:= $(patsubst %,$(B)/tests/check_%,$(UNIT_NAMES))
UNIT_OBJS	:= $(call obj,$(SHARED_SRC) tools/epmd.c preload/resolve.c \
		   tools/relay.c tools/io.c tools/md5.c tools/dist.c \
		   tools/nodename.c tools/target.c tools/cookie.c tools/home.c \
		   tools/launch.c)

$(B)/tests/check_%: tests/unit/check_%.c $(UNIT_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(XCFLAGS) $(CFLAGS) $(CHECK_CFLAGS) -o $@ $^ \
	    $(LDFLAGS) $(CHECK_LIBS)

deps-test:
	@scripts/deps.sh test

deps-demo:
	@scripts/deps.sh demo

unit: $(UNIT_BINS)
	@tests/unit/run.sh $(UNIT_BINS)

e2e: all
	@tests/e2e/run.sh

# `make check`: the README's test command.
check: deps-test
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory sanitize
	@$(MAKE) --no-print-directory e2e

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
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/
	install -m 644 tools/erlfwd.1 $(DESTDIR)$(MANDIR)/man1/erlfwd.1
	install -m 644 tools/erlfwd-server.8 $(DESTDIR)$(MANDIR)/man8/erlfwd-server.8

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/erlfwd-server $(DESTDIR)$(LIBDIR)/liberlfwd.so
	rm -f $(DESTDIR)$(BINDIR)/erlfwd $(DESTDIR)$(MANDIR)/man1/erlfwd.1 \
	    $(DESTDIR)$(MANDIR)/man8/erlfwd-server.8

clean:
	rm -rf $(B)

.PHONY: all check unit e2e sanitize demo deps-test deps-demo install \
	uninstall clean
.SECONDARY:

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# --- bench -------------------------------------------------------------------
# `make bench`: erlfwd against its baselines, measured in the same run (see
# tests/bench/run.sh).  Not part of `check`: it takes minutes and needs root.

BENCH_NAMES	:= echod connrtt conns hookcost
BENCH_BINS	:= $(patsubst %,$(B)/bench/%,$(BENCH_NAMES))

$(B)/bench/%: $(B)/obj/tests/bench/%.o $(B)/obj/tests/bench/bench.o
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(CFLAGS) -o $@ $^ $(LDFLAGS)

deps-bench:
	@scripts/deps.sh bench

bench-bins: $(BENCH_BINS)

bench: deps-bench
	@$(MAKE) --no-print-directory $(LIB) $(SERVER) bench-bins
	@E2E_BUILD=$(abspath $(B)) BENCH_OUT=$(abspath $(B))/bench tests/bench/run.sh

.PHONY: bench bench-bins deps-bench
