# cdp: continuous data protection for files.  GNU make.

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
LIBDIR	?= $(PREFIX)/lib
MANDIR	?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
DESTDIR	?=

CC	?= cc
PKG_CONFIG ?= pkg-config
WARN	= -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
	  -Wwrite-strings -Wformat=2 -Wvla
ifeq ($(CI),true)
WARN	+= -Werror
endif
OPT	?= -O2 -g
CFLAGS	?= $(OPT)
CPPFLAGS += -D_GNU_SOURCE -Ilibcommon -Icmd
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -MMD -MP

PKGS_COMMON = popt libarchive zlib libdeflate libpcap libxxhash libcurl
pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pc_libs   = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

PROGS	= $(patsubst cmd/%.c,%,$(wildcard cmd/cdp-*.c))
LIB	= libcommon/libcommon.a
LIB_SRC	= $(wildcard libcommon/*.c)
LIB_OBJ	= $(LIB_SRC:.c=.o)
CLI_OBJ	= $(patsubst %.c,%.o,$(wildcard cmd/cdp_*.c))
UNIT_SRC = $(wildcard tests/unit/check_*.c)
UNIT_BIN = $(UNIT_SRC:.c=)
HELPER_SRC = $(wildcard tests/helpers/*.c)
HELPER_BIN = $(HELPER_SRC:.c=)
MAN1	= $(wildcard man/*.1)
MAN5	= $(wildcard man/*.5)
BASHCOMP = $(wildcard completions/bash/cdp-*)
ZSHCOMP	= $(wildcard completions/zsh/_cdp-*)

# Per-program libraries: each program links only what it uses.
# libcurl and libpcap are compiled against but not linked: libcommon/
# cdp_s3_curl.c and cdp_pcap_lib.c dlopen() them when an s3:// location or
# a pcap file is used, so that programs start without the thirty-odd
# libraries libcurl brings and the nine libpcap brings.
LIBS_COMMON = $(call pc_libs,$(filter-out libcurl libpcap,$(PKGS_COMMON))) -lpthread
LIBS_cdp-tap = $(call pc_libs,fuse3)
PRELOAD	= $(wildcard cmd/libcdp-preload.c)
PRELOAD_SO = $(PRELOAD:cmd/%.c=%.so)

.PHONY: all check unit units e2e install uninstall clean lint asan fuzz bench deps demo

all: $(LIB) $(PROGS) $(PRELOAD_SO) $(HELPER_BIN)

%.o: %.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(call pc_cflags,$(PKGS_COMMON) fuse3) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

cdp-%: cmd/cdp-%.o $(CLI_OBJ) $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(CLI_OBJ) $(LIB) $(LIBS_$@) $(LIBS_COMMON)

# cdp-tap's FUSE back end (--fuse) is its own file, linked only into it.
TAP_FUSE_OBJ = cmd/tap_fuse.o
cdp-tap: cmd/cdp-tap.o $(TAP_FUSE_OBJ) $(CLI_OBJ) $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(TAP_FUSE_OBJ) $(CLI_OBJ) $(LIB) $(LIBS_$@) $(LIBS_COMMON)

# cdp-recv's uploader to a bucket (an s3:// STORE), linked only into it.
RECV_UPLOAD_OBJ = cmd/recv_upload.o
cdp-recv: cmd/cdp-recv.o $(RECV_UPLOAD_OBJ) $(CLI_OBJ) $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(RECV_UPLOAD_OBJ) $(CLI_OBJ) $(LIB) $(LIBS_$@) $(LIBS_COMMON)

# The preload shim is built position-independent and without libcommon's
# heavier dependencies; it links only what it names.
# It is cmd/libcdp-preload.c, cmd/preload_*.c and the two libcommon modules
# it shares with cdp-tap (the ring protocol, path checks); only the hooks
# are exported.  It is never built with sanitizers: it is loaded into
# programs that are not (make asan).
PRELOAD_SRC = cmd/libcdp-preload.c $(wildcard cmd/preload_*.c) \
	libcommon/cdp_ring.c libcommon/cdp_path.c
libcdp-preload.so: $(PRELOAD_SRC) $(wildcard cmd/preload_*.h) libcommon/cdp_ring.h
	$(CC) $(CPPFLAGS) $(filter-out -MMD -MP -fsanitize=%,$(ALL_CFLAGS)) -fPIC -shared \
	    -fvisibility=hidden -o $@ $(PRELOAD_SRC) -ldl -lpthread

tests/unit/check_%: tests/unit/check_%.c $(LIB)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(call pc_cflags,check) -o $@ $< $(LIB) \
	    $(call pc_libs,check) $(LIBS_COMMON)

tests/helpers/%: tests/helpers/%.c $(LIB)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(LIB) $(LIBS_COMMON)

# check: unit tests, then the end-to-end tests, then lint.  Every part runs
# even if an earlier one failed; the status is non-zero if any failed.
check:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all units
	@rc=0; \
	for t in $(UNIT_BIN); do ./$$t || rc=1; done; \
	tests/e2e/run || rc=1; \
	$(MAKE) --no-print-directory lint || rc=1; \
	exit $$rc

units: $(UNIT_BIN)

unit: $(UNIT_BIN)
	@rc=0; for t in $(UNIT_BIN); do ./$$t || rc=1; done; exit $$rc

e2e: all
	tests/e2e/run

LINT_TMP = .lint-man
lint:
	@rm -rf $(LINT_TMP) && mkdir -p $(LINT_TMP)/man1 $(LINT_TMP)/man5
	@cp $(MAN1) $(LINT_TMP)/man1/ && cp $(MAN5) $(LINT_TMP)/man5/
	@makewhatis $(LINT_TMP)
	@# "outdated mandoc.db lacks X entry": X was found, in a tree with no
	@# mandoc.db (/usr/share/man on Debian); the reference is good.
	@out=$$(MANPATH=$(CURDIR)/$(LINT_TMP):/usr/share/man mandoc -Tlint -Wstyle $(MAN1) $(MAN5) 2>&1 | \
	    grep -v '^mandoc: outdated mandoc.db lacks '); \
	rm -rf $(LINT_TMP); \
	if [ -n "$$out" ]; then echo "$$out"; echo "lint: mandoc found problems"; exit 1; fi
	@shellcheck -s bash $(BASHCOMP) tests/e2e/run tests/e2e/*_lib.sh \
	    tests/e2e/lib.sh scripts/*.sh
	@shellcheck -s bash -e SC1091 bench/*.sh
	@echo "lint: man pages and shell scripts clean"

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 $(PROGS) $(DESTDIR)$(BINDIR)/
	$(if $(PRELOAD_SO),install -d $(DESTDIR)$(LIBDIR)/cdp && install -m 644 $(PRELOAD_SO) $(DESTDIR)$(LIBDIR)/cdp/)
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 644 $(BASHCOMP) $(DESTDIR)$(BASHCOMPDIR)/
	install -m 644 $(ZSHCOMP) $(DESTDIR)$(ZSHCOMPDIR)/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(PROGS))
	rm -f $(addprefix $(DESTDIR)$(LIBDIR)/cdp/,$(PRELOAD_SO))
	-rmdir $(DESTDIR)$(LIBDIR)/cdp 2>/dev/null
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5)))
	rm -f $(addprefix $(DESTDIR)$(BASHCOMPDIR)/,$(notdir $(BASHCOMP)))
	rm -f $(addprefix $(DESTDIR)$(ZSHCOMPDIR)/,$(notdir $(ZSHCOMP)))

clean:
	rm -f $(PROGS) $(PRELOAD_SO) $(LIB) libcommon/*.o libcommon/*.d cmd/*.o cmd/*.d \
	    $(UNIT_BIN) tests/unit/*.d $(HELPER_BIN) tests/helpers/*.d
	rm -rf asan fuzz-build $(LINT_TMP) tests/e2e/scratch

# asan: the whole build and test suite again, in asan/, under
# AddressSanitizer and UndefinedBehaviorSanitizer.
asan:
	rm -rf asan && mkdir asan
	git ls-files -z | xargs -0 cp --parents -t asan 2>/dev/null || \
	    tar cf - --exclude=./asan . | tar xf - -C asan
	$(MAKE) -C asan clean
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:verify_asan_link_order=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    $(MAKE) -C asan check CC=clang \
	    OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" CDP_ASAN=1

FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh build
	scripts/fuzz.sh run $(FUZZ_SECONDS)

bench: all
	scripts/bench.sh

deps:
	scripts/deps.sh

demo: deps
	$(MAKE) all
	scripts/demo.sh

-include $(wildcard libcommon/*.d cmd/*.d tests/unit/*.d tests/helpers/*.d)
