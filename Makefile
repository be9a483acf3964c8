# sentc-backend: FastCGI route programs for apps built on sentc.
#
#   make            build the library and every route program
#   make run        install what running needs (nginx/deps), then start
#                   nginx, every program and the simulator (PORT=8080)
#   make test       install what the tests need (tests/deps), build, run
#                   every test
#   make run-deps, make test-deps   only the installing of the two above
#   make asan       the same programs with AddressSanitizer + UBSan
#   make fuzz       every libFuzzer driver for FUZZ_SECONDS (60) each
#   make valgrind   the unit tests and the integration suite under valgrind
#   make bench      the benchmark against nginx's own floors (docs/BENCHMARKS.md)
#   make install    the programs, configs, units and docs under PREFIX
#                   (/usr/local), all below DESTDIR if set
#   make uninstall  removes what make install installed
#   make soak       SOAK_SECONDS (600) of mixed load with faults, then checks
#   make clean

PORT		?= 8080
BUILD		?= build
CC		?= cc
PKGS		 = libcurl json-c sqlite3 libpq libcrypto fcgi

WARN		 = -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
		   -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
		   -Wno-unused-parameter
CFLAGS		?= -O2 -g
CPPFLAGS	+= -D_GNU_SOURCE -Ilib $(shell pkg-config --cflags $(PKGS))
LDLIBS		+= $(shell pkg-config --libs $(PKGS))
ALL_CFLAGS	 = -std=c11 $(WARN) $(CFLAGS) $(SAN)

ifeq ($(BUILD),build-asan)
SAN		 = -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
endif

# The fuzzers' build: clang, and the library instrumented for libFuzzer.
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
ifeq ($(BUILD),build-fuzz)
CC		 = $(FUZZ_CC)
SAN		 = -fsanitize=fuzzer-no-link,address,undefined \
		   -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

LIB_SRC		 = $(wildcard lib/*.c)
LIB_OBJ		 = $(LIB_SRC:lib/%.c=$(BUILD)/lib/%.o)
LIB		 = $(BUILD)/libsb.a
PROGRAMS	 = $(sort $(basename $(notdir $(wildcard cgi-bin/*.c))))
BINS		 = $(PROGRAMS:%=$(BUILD)/bin/%)
HEADERS		 = $(wildcard lib/*.h)

# Where make install puts things.
PREFIX		?= /usr/local
SYSCONFDIR	?= /etc
LIBEXECDIR	?= $(PREFIX)/libexec/sentc-backend
SHAREDIR	?= $(PREFIX)/share/sentc-backend
DOCDIR		?= $(PREFIX)/share/doc/sentc-backend
MAN8DIR		?= $(PREFIX)/share/man/man8
UNITDIR		?= $(PREFIX)/lib/systemd/system
INSTALL		?= install

.PHONY: all asan run test unit integration bench clean deps run-deps \
	 test-deps install \
	 uninstall FORCE fuzzers fuzz valgrind build-fuzz-drivers soak api-check

all: $(BINS)

$(BUILD)/lib/%.o: lib/%.c $(HEADERS) Makefile
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# The list of programs is compiled in (health checks each one): a program
# added or removed rebuilds them.
$(BUILD)/programs: FORCE
	@mkdir -p $(@D)
	@echo '$(PROGRAMS)' | cmp -s - $@ || echo '$(PROGRAMS)' >$@

$(BUILD)/bin/%: cgi-bin/%.c $(LIB) $(HEADERS) $(BUILD)/programs
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -DSB_PROGRAMS='"$(PROGRAMS)"' \
	    -o $@ $< $(LIB) $(LDLIBS)

asan:
	$(MAKE) BUILD=build-asan all

# ---- unit tests: lib/ in C, with cmocka --------------------------------
UNIT_SRC	 = $(wildcard tests/unit/test_*.c)
UNIT_BINS	 = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_HEADERS	 = $(wildcard tests/unit/*.h)

$(BUILD)/tests/%: tests/unit/%.c $(LIB) $(HEADERS) $(UNIT_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -o $@ $< $(LIB) $(LDLIBS) \
	    -lcmocka $(shell pkg-config --libs libjwt)

unit: $(UNIT_BINS)

# ---- fuzzing: one libFuzzer driver per parser, clang --------------------
# tests/fuzz/driver_NAME.c, its seeds in tests/fuzz/corpus/driver_NAME/ and
# its dictionary tests/fuzz/driver_NAME.dict; see tests/fuzz/README.md.
FUZZ_SRC	 = $(wildcard tests/fuzz/driver_*.c)
FUZZ_BINS	 = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(CPPFLAGS) -o $@ $< $(LIB) \
	    $(LDLIBS)

fuzzers:
	$(MAKE) BUILD=build-fuzz build-fuzz-drivers

build-fuzz-drivers: $(FUZZ_BINS)

fuzz: test-deps
	$(MAKE) fuzzers
	tests/fuzz/run $(FUZZ_SECONDS)

# ---- the two commands ---------------------------------------------------
# Each installs only what is missing and says what it installs: running
# needs the compiler, the libraries, nginx and Node.js (nginx/deps);
# testing needs those and the rest (tests/deps: clang, valgrind, Apache,
# PostgreSQL, Chromium, the end-to-end tests' npm packages).
run-deps:
	nginx/deps

test-deps:
	tests/deps

# All of them: the tests' set holds the running one.
deps: test-deps

run: run-deps
	$(MAKE) all
	PORT=$(PORT) BUILD=$(BUILD) nginx/stack run

test: test-deps
	$(MAKE) all unit api-check
	$(MAKE) BUILD=build-asan all unit
	$(MAKE) fuzzers
	tests/run

# The route API is lib/sb.h alone: it includes no other header of the
# library, a route program includes nothing else of it, and each one
# compiles against a folder that holds sb.h and nothing more.
api-check:
	@! grep -n '^#include "' lib/sb.h
	@! grep -n '^#include "' cgi-bin/*.c | grep -v '"sb.h"$$'
	@rm -rf $(BUILD)/api && mkdir -p $(BUILD)/api && cp lib/sb.h $(BUILD)/api/
	@for f in cgi-bin/*.c; do \
	    $(CC) $(ALL_CFLAGS) -D_GNU_SOURCE -I$(BUILD)/api \
	    $(shell pkg-config --cflags json-c) -DSB_PROGRAMS='"$(PROGRAMS)"' \
	    -fsyntax-only $$f || exit 1; done
	@echo "api-check: $(words $(PROGRAMS)) route programs need lib/sb.h alone"

# Not part of `make test`: every program under memcheck is slow.
valgrind: test-deps
	$(MAKE) all unit
	tests/valgrind

# ---- install ------------------------------------------------------------
# Paths named in the installed files follow PREFIX, SYSCONFDIR and the
# directories above.
SUBST		 = sed -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' \
		       -e 's|@SHAREDIR@|$(SHAREDIR)|g' \
		       -e 's|@DOCDIR@|$(DOCDIR)|g' \
		       -e 's|@UNITDIR@|$(UNITDIR)|g' \
		       -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'
APACHE_ERRORS	 = $(notdir $(wildcard apache/errors/*.asis))
UNITS		 = sentc-backend@.socket sentc-backend@.service
DOCS		 = $(notdir $(wildcard docs/*.md))

install: all
	$(INSTALL) -d $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SHAREDIR)/nginx \
	    $(DESTDIR)$(SHAREDIR)/apache/errors $(DESTDIR)$(DOCDIR)/docs \
	    $(DESTDIR)$(MAN8DIR) $(DESTDIR)$(UNITDIR)
	$(INSTALL) -m 0755 $(BINS) $(DESTDIR)$(LIBEXECDIR)
	$(INSTALL) -m 0644 nginx/sentc-backend.conf \
	    nginx/sentc-backend-upstreams.conf $(DESTDIR)$(SHAREDIR)/nginx
	sed 's|/usr/local/share/sentc-backend|$(SHAREDIR)|g' \
	    apache/sentc-backend.conf >$(DESTDIR)$(SHAREDIR)/apache/sentc-backend.conf
	chmod 0644 $(DESTDIR)$(SHAREDIR)/apache/sentc-backend.conf
	$(INSTALL) -m 0644 $(APACHE_ERRORS:%=apache/errors/%) \
	    $(DESTDIR)$(SHAREDIR)/apache/errors
	$(INSTALL) -m 0644 etc/backend.env.example $(DESTDIR)$(SHAREDIR)
	$(INSTALL) -m 0644 README.md $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 0644 $(DOCS:%=docs/%) $(DESTDIR)$(DOCDIR)/docs
	$(SUBST) man/sentc-backend.8 >$(DESTDIR)$(MAN8DIR)/sentc-backend.8
	$(SUBST) systemd/sentc-backend@.service.in \
	    >$(DESTDIR)$(UNITDIR)/sentc-backend@.service
	$(SUBST) systemd/sentc-backend@.socket \
	    >$(DESTDIR)$(UNITDIR)/sentc-backend@.socket
	chmod 0644 $(DESTDIR)$(MAN8DIR)/sentc-backend.8 \
	    $(UNITS:%=$(DESTDIR)$(UNITDIR)/%)

# Only what install put there; a directory only if it is ours and empty.
uninstall:
	rm -f $(PROGRAMS:%=$(DESTDIR)$(LIBEXECDIR)/%)
	rm -f $(DESTDIR)$(SHAREDIR)/nginx/sentc-backend.conf \
	    $(DESTDIR)$(SHAREDIR)/nginx/sentc-backend-upstreams.conf \
	    $(DESTDIR)$(SHAREDIR)/apache/sentc-backend.conf \
	    $(APACHE_ERRORS:%=$(DESTDIR)$(SHAREDIR)/apache/errors/%) \
	    $(DESTDIR)$(SHAREDIR)/backend.env.example \
	    $(DESTDIR)$(DOCDIR)/README.md $(DOCS:%=$(DESTDIR)$(DOCDIR)/docs/%) \
	    $(DESTDIR)$(MAN8DIR)/sentc-backend.8 \
	    $(UNITS:%=$(DESTDIR)$(UNITDIR)/%)
	-rmdir $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SHAREDIR)/nginx \
	    $(DESTDIR)$(SHAREDIR)/apache/errors $(DESTDIR)$(SHAREDIR)/apache \
	    $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR) \
	    2>/dev/null

# ---- the benchmark: never part of `make test` --------------------------
# The plain build only; tests/bench/bench.js says what it measures.
build/bench/floor: tests/bench/floor.c build/libsb.a $(HEADERS) Makefile
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARN) -O2 -g $(CPPFLAGS) -o $@ $< build/libsb.a $(LDLIBS)

# The two models of waiting, measured apart (docs/CONCURRENCY.md).
build/bench/models: tests/bench/models.c build/libsb.a $(HEADERS) Makefile
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARN) -O2 -g $(CPPFLAGS) -o $@ $< build/libsb.a \
	    $(LDLIBS) -lpthread

bench: test-deps
	tests/bench/deps
	$(MAKE) BUILD=build all build/bench/floor build/bench/models
	node tests/bench/bench.js

# Not part of `make test` either: mixed wrk load over every route with the
# simulator failing 1 % of the calls to sentc, then the checks of
# tests/soak/soak.js; the report is build/soak/report.md.
SOAK_SECONDS	?= 600
soak: test-deps
	tests/soak/deps
	$(MAKE) all
	SOAK_SECONDS=$(SOAK_SECONDS) SB_BUILD=$(BUILD) node tests/soak/soak.js

# Every build folder: build, build-asan, build-fuzz, and any other build-*
# (build-prof, BUILD=build-whatever). The run state (run/) stays.
clean:
	rm -rf build $(wildcard build-*)
