# verhaal — one GNU Makefile for the library, the two programs, tests, fuzzing
# and the developer's two commands (make run, make test).

BUILD    ?= build
# The one place the version is set: verhaald --version and verhaalctl
# --version print it (from the generated $(BUILD)/vh_version.h).
VERSION  := 0.1.0
CC       ?= cc
WERROR   ?= 1
SANITIZE ?=

# Every library comes through pkg-config; `make deps` installs the Debian
# packages that provide them (contrib/dev/deps.sh holds the list).
PKGS := libevent libevent_pthreads libpq opus libopusenc libmagic jansson \
        inih libcrypto libavformat libavcodec libswresample libavutil \
        vips libebur128 libargon2 libseccomp libzip libxml-2.0 xlsxwriter libarchive \
        zlib

comma := ,
ifneq ($(SANITIZE),)
BUILD := build-$(subst $(comma),-,$(SANITIZE))
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith -Wstrict-prototypes \
        -Wmissing-prototypes -Wmissing-declarations -Wwrite-strings -Wvla \
        -Wunused-parameter
ifeq ($(WERROR),1)
WARN += -Werror
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= -O2 -g
# lib/ is layered (docs/architecture.md); headers are included by their bare
# name, so each layer's folder is on the include path.
LIB_DIRS := core event http db store domain media api
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread $(WARN) $(SANFLAGS) \
             $(addprefix -Ilib/,$(LIB_DIRS)) -I$(BUILD) \
             $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = -pthread $(SANFLAGS) $(LDFLAGS)
LIBS = $(PKG_LIBS) -lm

LIB_SRC  := $(sort $(wildcard $(addprefix lib/,$(addsuffix /vh_*.c,$(LIB_DIRS)))))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/lib/vh_schema_gen.o
LIBA     := $(BUILD)/lib/libverhaal.a
SCHEMA   := $(sort $(wildcard schema/[0-9][0-9][0-9][0-9]_*.sql))

D_SRC    := $(sort $(wildcard cmd/verhaald/*.c))
CTL_SRC  := $(sort $(wildcard cmd/verhaalctl/*.c))
D_OBJ    := $(D_SRC:%.c=$(BUILD)/%.o)
CTL_OBJ  := $(CTL_SRC:%.c=$(BUILD)/%.o)
# The confined child that parses untrusted media (lib/event/vh_sandbox.c).
MEDIA_SRC := $(sort $(wildcard cmd/verhaal-media/*.c))
MEDIA_OBJ := $(MEDIA_SRC:%.c=$(BUILD)/%.o)

UNIT_SRC := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_BIN := $(addprefix $(BUILD)/tests/,$(notdir $(UNIT_SRC:.c=)))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
# Fuzz targets also build against a plain file-replaying driver, so that
# `make test` replays every seed corpus without needing clang.
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/tests/replay_%)

.PHONY: all web deps run test unit e2e bench fuzz clean check-config check-fresh \
        check-faults demo demo-clean
.DEFAULT_GOAL := all

all: $(BUILD)/verhaald $(BUILD)/verhaalctl $(BUILD)/verhaal-media

# The web app (contrib/web: TypeScript, Vite) goes to $(BUILD)/web, which
# verhaald serves at / (config key web_root). Built when Node.js is
# present; `make WEB=0` builds the daemon alone.
WEB ?= $(if $(shell command -v node 2>/dev/null),1,0)
WEB_SRC := $(shell find contrib/web/src -type f 2>/dev/null) \
           $(wildcard contrib/web/*.html) contrib/web/vite.config.ts \
           contrib/web/tsconfig.json contrib/web/package-lock.json
ifeq ($(WEB),1)
all: $(BUILD)/web/index.html
endif
web: $(BUILD)/web/index.html

# npm ci installs exactly the committed lockfile.
contrib/web/node_modules/.verhaal-stamp: contrib/web/package-lock.json
	@echo "  NPM     contrib/web"
	@cd contrib/web && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

$(BUILD)/web/index.html: $(WEB_SRC) contrib/web/node_modules/.verhaal-stamp
	@echo "  WEB     $(BUILD)/web"
	@cd contrib/web && ./node_modules/.bin/tsc --noEmit && \
	    ./node_modules/.bin/vite build --logLevel warn \
	    --outDir $(abspath $(BUILD))/web --emptyOutDir
	@touch $@

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The migrations are compiled into the library, so a binary always knows
# exactly which schema versions it understands.
$(BUILD)/lib/vh_schema_gen.c: $(SCHEMA) contrib/dev/embed-schema.sh
	@mkdir -p $(@D)
	sh contrib/dev/embed-schema.sh $(SCHEMA) > $@.tmp && mv $@.tmp $@

$(BUILD)/lib/vh_schema_gen.o: $(BUILD)/lib/vh_schema_gen.c
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Rewritten only when VERSION changes, so that nothing rebuilds otherwise.
$(BUILD)/vh_version.h: FORCE
	@mkdir -p $(@D)
	@printf '#define VH_VERSION "%s"\n' '$(VERSION)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(D_OBJ) $(CTL_OBJ): $(BUILD)/vh_version.h
FORCE:

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(BUILD)/verhaald: $(D_OBJ) $(LIBA)
	@echo "  LD      $@"
	@$(CC) $(ALL_LDFLAGS) -o $@ $(D_OBJ) $(LIBA) $(LIBS)

$(BUILD)/verhaalctl: $(CTL_OBJ) $(LIBA)
	@echo "  LD      $@"
	@$(CC) $(ALL_LDFLAGS) -o $@ $(CTL_OBJ) $(LIBA) $(LIBS)

$(BUILD)/verhaal-media: $(MEDIA_OBJ) $(LIBA)
	@echo "  LD      $@"
	@$(CC) $(ALL_LDFLAGS) -o $@ $(MEDIA_OBJ) $(LIBA) $(LIBS)

# tests/unit/ mirrors lib/'s folders; each test builds to $(BUILD)/tests/.
# tests/unit/fixture.c (a scratch directory for made fixtures) goes into each.
define unit_rule
$(BUILD)/tests/$(notdir $(1:.c=)): $(1) tests/unit/fixture.c tests/unit/fixture.h $(LIBA)
	@mkdir -p $$(@D)
	@echo "  TEST    $$@"
	@$$(CC) $$(ALL_CFLAGS) -I$(dir $(1)) -Itests/unit $$(ALL_LDFLAGS) -o $$@ $$< tests/unit/fixture.c $$(LIBA) $$(LIBS) $$(shell pkg-config --libs cmocka)
endef
$(foreach t,$(UNIT_SRC),$(eval $(call unit_rule,$(t))))

# The targets run the real server in-process: they link the daemon's
# composition root (cmd/verhaald/app.c) too.
$(BUILD)/tests/replay_%: tests/fuzz/%.c tests/fuzz/replay.c $(wildcard tests/fuzz/*.h) $(BUILD)/cmd/verhaald/app.o $(LIBA)
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	@$(CC) $(ALL_CFLAGS) -Icmd/verhaald $(ALL_LDFLAGS) -o $@ $< tests/fuzz/replay.c $(BUILD)/cmd/verhaald/app.o $(LIBA) $(LIBS)

deps:
	@sh contrib/dev/deps.sh

run: deps all
	@sh contrib/dev/run.sh $(BUILD)

unit: all $(UNIT_BIN) $(FUZZ_REPLAY)

test: deps all $(UNIT_BIN) $(FUZZ_REPLAY)
	@sh tests/run.sh $(BUILD)

e2e: deps all
	@sh tests/run.sh --e2e-only $(BUILD)

# The fault suite (root, loopback only; docs/operations.md): kill -9,
# PostgreSQL outages, a full disk, two daemons, a killed transcode.
# FAULTS="kill9 pgdown disk twodaemons transcode" runs some of them.
check-faults: all
	@VERHAAL_BUILD=$(abspath $(BUILD)) node tests/faults/run.mjs

# BENCH=uploads|transcode|search|redact|websearch runs one part; the first
# three by default (redact: session p99 while two 10-minute audio
# redactions run; websearch: Enter to drawn results in chromium, 100,000
# entries).
BENCH ?= uploads transcode search
bench: deps all
	@for b in $(BENCH); do \
		case $$b in \
		uploads) sh tests/bench/run.sh $(BUILD) ;; \
		transcode) sh tests/bench/transcode.sh $(BUILD) ;; \
		search) sh tests/bench/search.sh $(BUILD) ;; \
		redact) sh tests/bench/redact.sh $(BUILD) ;; \
		websearch) sh tests/bench/websearch.sh $(BUILD) ;; \
		*) echo "bench: unknown part $$b" >&2; exit 2 ;; \
		esac || exit 1; \
	done

# libFuzzer builds need clang; FUZZ_SECONDS bounds each target's run.
FUZZ_SECONDS ?= 60
fuzz: deps
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# Example data (about DEMO_COUNT=100 entries) for a running make run,
# through the API; demo-clean removes all of it (verhaalctl demo remove).
demo: all
	@sh contrib/dev/demo.sh $(BUILD)

demo-clean: all
	@$(BUILD)/verhaalctl -c $${VERHAAL_CONFIG:-config/verhaald.conf} demo remove

# make deps && make test in a clean Debian 12 root (debootstrap, cached in
# $(BUILD)/fresh-root.tar); needs root. Not part of make test.
check-fresh:
	@sh contrib/dev/check-fresh.sh $(BUILD)

clean:
	rm -rf build build-* 

-include $(LIB_OBJ:.o=.d) $(D_OBJ:.o=.d) $(CTL_OBJ:.o=.d) $(MEDIA_OBJ:.o=.d)
