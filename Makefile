# UdaConnect — one Makefile for the whole tree.
#
#   make            build libudc.a, every daemon under daemons/, every test
#   make test       unit tests (plain and sanitized) + integration tests on a throwaway stack
#   make run        private PostgreSQL + RabbitMQ + every daemon, on loopback (see README)
#   make stop       stop everything `make run` started
#   make bench      benchmarks on a throwaway stack, written to docs/benchmarks.md
#   make format     clang-format every C file in place
#
# SAN=1 builds the same tree with AddressSanitizer + UBSan under build/san/.

SAN ?= 0
ifeq ($(SAN),1)
BUILD := build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD := build
SANFLAGS :=
endif

CC ?= cc
PKGS := libpq librabbitmq json-c libconfig libmicrohttpd libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
CHECK_CFLAGS := $(shell pkg-config --cflags check)
CHECK_LIBS := $(shell pkg-config --libs check)
CURL_LIBS := $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)

CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -MMD -MP -Icommon $(PKG_CFLAGS) $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
LDLIBS := $(PKG_LIBS) -lpthread -lm

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
LIBUDC := $(BUILD)/libudc.a

DAEMONS := $(notdir $(patsubst %/main.c,%,$(wildcard daemons/*/main.c)))
DAEMON_BINS := $(DAEMONS:%=$(BUILD)/bin/udc-%)
DAEMON_LIBS := $(foreach d,$(DAEMONS),$(BUILD)/daemons/$(d)/lib$(d).a)

# Operator tools: tools/NAME/*.c → build/bin/udc-NAME (no unit, not a daemon).
TOOLS := $(notdir $(patsubst %/main.c,%,$(wildcard tools/*/main.c)))
TOOL_BINS := $(TOOLS:%=$(BUILD)/bin/udc-%)

TESTLIB_SRC := $(wildcard tests/lib/*.c)
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/%.o)
TESTLIB := $(BUILD)/libudctest.a
UNIT_TESTS := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/unit/test_*.c))
INTEGRATION_TESTS := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/integration/test_*.c))

.SECONDARY:
.PHONY: all daemons tools tests test run stop bench format clean
all: $(LIBUDC) daemons tools tests
daemons: $(DAEMON_BINS)
tools: $(TOOL_BINS)
tests: $(UNIT_TESTS) $(INTEGRATION_TESTS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIBUDC): $(COMMON_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(TESTLIB): $(TESTLIB_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $(TESTLIB_OBJ)

# One rule per daemon: daemons/NAME/main.c plus the daemon's other files (kept in
# build/daemons/NAME/libNAME.a, which unit tests link too) make build/bin/udc-NAME.
define daemon_rule
$(BUILD)/daemons/$(1)/lib$(1).a: $(patsubst %.c,$(BUILD)/%.o,$(filter-out daemons/$(1)/main.c,$(wildcard daemons/$(1)/*.c)))
	@mkdir -p $$(@D)
	$$(AR) rcs $$@ $$^
$(BUILD)/bin/udc-$(1): $(BUILD)/daemons/$(1)/main.o $(BUILD)/daemons/$(1)/lib$(1).a $(LIBUDC)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach d,$(DAEMONS),$(eval $(call daemon_rule,$(d))))

define tool_rule
$(BUILD)/bin/udc-$(1): $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/$(1)/*.c)) $(LIBUDC)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

# Tests may include daemon-private headers (they test daemon logic too).
$(BUILD)/tests/%.o: CFLAGS += $(CHECK_CFLAGS) -Itests/lib -Idaemons

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(TESTLIB) $(DAEMON_LIBS) $(LIBUDC)
	$(CC) $(LDFLAGS) -o $@ $< $(TESTLIB) $(DAEMON_LIBS) $(LIBUDC) $(CHECK_LIBS) $(CURL_LIBS) $(LDLIBS)

$(BUILD)/tests/integration/%: $(BUILD)/tests/integration/%.o $(TESTLIB) $(DAEMON_LIBS) $(LIBUDC)
	$(CC) $(LDFLAGS) -o $@ $< $(TESTLIB) $(DAEMON_LIBS) $(LIBUDC) $(CHECK_LIBS) $(CURL_LIBS) $(LDLIBS)

test:
	scripts/test

run: all
	scripts/run up

stop:
	scripts/run down

bench: all
	scripts/bench

format:
	clang-format -i $(shell git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
