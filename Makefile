# xen-net-accel top-level Makefile.  See README.md and docs/building.md.
#
# config.mak comes from ./configure; when it is missing, the first make
# runs ./configure itself, so that `make check` works on a fresh machine.

TOP := $(CURDIR)
BUILD := $(TOP)/build

-include config.mak

export CCACHE_DIR
# Hash source paths relative to the checkout, and ignore the working
# directory, so that every clone of the repository shares one cache.
export CCACHE_BASEDIR := $(TOP)
export CCACHE_NOHASHDIR := true
export CCACHE_MAXSIZE := 5G

QEMU_BIN = $(QEMU_BUILD)/qemu-system-x86_64
QTESTS = $(patsubst $(TOP)/tests/qtest/%.c,%,$(wildcard $(TOP)/tests/qtest/*-test.c))
QTEST_BINS = $(addprefix $(QEMU_BUILD)/tests/qtest/,$(QTESTS))
# QEMU's own generic qtests that create, introspect and destroy every
# device type and QOM object of the build: xen-sim and xen-net-accel must
# pass them as every QEMU device does.
QEMU_QTESTS = device-introspect-test qom-test

UNIT_TESTS = $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test-*.c))
UNIT_BINS = $(addprefix $(BUILD)/unit/,$(UNIT_TESTS))
# The device's sources, where they land in QEMU.
XNA_DEV = hw/net/xen-net-accel
UNIT_CFLAGS = -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter -Werror \
	-fsanitize=address,undefined -fno-omit-frame-pointer \
	-I$(XNA_DEV) -Iinclude -Iguest/core $(shell pkg-config --cflags glib-2.0)
UNIT_LIBS = $(shell pkg-config --libs glib-2.0)
# Pure-logic sources shared with the device, by unit test.
test-filter-table_SRCS = $(XNA_DEV)/xna-filter-table.c
test-flow-map_SRCS = $(XNA_DEV)/xna-flow-map.c $(XNA_DEV)/xna-filter-table.c
test-wire-macs_SRCS = $(XNA_DEV)/xna-wire-macs.c
test-front-core_SRCS = guest/core/xna-front.c
test-classify_SRCS = $(XNA_DEV)/xna-classify.c \
	$(XNA_DEV)/xna-filter-table.c

CHECKPATCH_FILES = $(wildcard $(XNA_DEV)/*.c $(XNA_DEV)/*.h \
	hw/xen/*.c hw/xen/*.h include/hw/xen/*.h tests/qtest/*.c \
	tests/qtest/libqos/*.c tests/qtest/libqos/*.h tests/qtest/fuzz/*.c \
	tools/ebpf/*.c ebpf/xna-afxdp-bpf.h tools/*.c tools/*.h \
	contrib/xna-afxdp-helper/*.c)

.PHONY: all qemu guest guest-6.1 guest-6.12 unit check checkpatch demo demo-sim \
	bench bench-xen check-xen tools install uninstall patches clean distclean

all: qemu guest

config.mak: configure qemu-patches/series $(wildcard qemu-patches/*/hooks.patch) \
		$(wildcard qemu-patches/*/files) \
		qemu-patches/local/series $(wildcard qemu-patches/local/*.patch)
	./configure

qemu: config.mak
	flock $(BUILD)/.ninja.lock ninja -C $(QEMU_BUILD) qemu-system-x86_64 \
		$(addprefix tests/qtest/,$(QTESTS) $(QEMU_QTESTS)) \
		tests/qtest/xna-bench/xna-bench \
		contrib/xna-afxdp-helper/xna-afxdp-helper \
		tests/qtest/xna-stat/xna-stat-test \
		tests/unit/test-xs-node

# The guest module, built out of tree in a copy per kernel version so
# that the two builds neither collide nor litter guest/.
guest: guest-6.1
guest-6.1 guest-6.12: guest-%: config.mak
	@mkdir -p $(BUILD)/guest-$*
	@cp -r guest/. $(BUILD)/guest-$*/
	@cp -r include $(BUILD)/guest-$*/
	$(MAKE) -C $(KDIR_$(subst .,,$*)) M=$(BUILD)/guest-$* W=1 modules

.SECONDEXPANSION:
$(BUILD)/unit/%: tests/unit/%.c $$($$*_SRCS) $(wildcard $(XNA_DEV)/*.h include/hw/net/*.h guest/core/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $($*_SRCS) $(UNIT_LIBS)
unit: $(UNIT_BINS)

# libFuzzer targets, one per tests/fuzz/fuzz-<name>.c (tests/fuzz/README).
# `make fuzz` runs each for FUZZ_SECONDS on its corpus and writes
# build/fuzz/summary; `make fuzz-replay` replays the corpus and the kept
# crashes; `make fuzz-merge` folds what a run found back into the corpus.
# No -Werror: the sources under test are also built by others' compilers.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZERS = $(patsubst tests/fuzz/fuzz-%.c,%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_BINS = $(addprefix $(BUILD)/fuzz/fuzz-,$(FUZZERS))
FUZZ_CFLAGS = -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -Itests/fuzz -I$(XNA_DEV) -Iinclude -Iguest/core \
	-Itools $(shell pkg-config --cflags glib-2.0)
fuzz-classify_SRCS = $(XNA_DEV)/xna-classify.c $(XNA_DEV)/xna-filter-table.c
fuzz-filter-table_SRCS = $(XNA_DEV)/xna-filter-table.c
fuzz-flow-map_SRCS = $(XNA_DEV)/xna-flow-map.c \
	$(XNA_DEV)/xna-filter-table.c
fuzz-front-ctrl_SRCS = guest/core/xna-front.c
fuzz-front-rings_SRCS = guest/core/xna-front.c
fuzz-front-keys_SRCS = guest/core/xna-front.c
fuzz-backend-wire_SRCS = $(XNA_DEV)/xna-wire.c $(XNA_DEV)/xna-classify.c \
	$(XNA_DEV)/xna-filter-table.c
fuzz-backend-policy_SRCS = $(XNA_DEV)/xna-tx-policy.c \
	$(XNA_DEV)/xna-classify.c $(XNA_DEV)/xna-filter-table.c
fuzz-qmp-json_SRCS = tools/qmp-json.c tools/qmp-client.c
fuzz-afxdp-helper_SRCS = $(XNA_DEV)/xna-afxdp-helper-check.c
fuzz-qmp-json_HDRS = tools/qmp-json.h tools/qmp-client.h

$(BUILD)/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $$(fuzz-$$*_SRCS) $$(fuzz-$$*_HDRS) \
		$(wildcard tests/fuzz/*.h) \
		$(wildcard $(XNA_DEV)/*.h include/hw/net/*.h guest/core/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(fuzz-$*_SRCS) $(UNIT_LIBS)

.PHONY: fuzz fuzz-build fuzz-replay fuzz-merge
fuzz-build: $(FUZZ_BINS)

# The device fuzzer (tools/fuzz-device, a QEMU built with libFuzzer) runs
# when it exists, even after a unit fuzzer crashed.
fuzz: fuzz-build
	@rc=0; tests/fuzz/run-fuzzers $(FUZZ_SECONDS) $(FUZZERS) || rc=1; \
	if [ -x tools/fuzz-device ]; then \
		tools/fuzz-device run $(FUZZ_SECONDS) || rc=1; \
	fi; exit $$rc

fuzz-replay: fuzz-build
	tests/fuzz/replay all $(FUZZERS)

fuzz-merge: fuzz-build
	tests/fuzz/merge $(FUZZERS)

XNA_PROTOCOL = include/hw/net/xen-net-accel-protocol.h

checkpatch: config.mak
	$(QEMU_SRC)/scripts/checkpatch.pl --no-tree --strict -f $(CHECKPATCH_FILES)
	@# The benchmark, by the path it builds at: a test program there.
	cd $(QEMU_SRC) && scripts/checkpatch.pl --no-tree --strict \
		-f $(addprefix tests/qtest/xna-bench/,$(notdir $(wildcard bench/*.c bench/*.h)))
	cd $(QEMU_SRC) && scripts/checkpatch.pl --no-tree --strict \
		-f $(addprefix tests/qtest/xna-stat/,$(notdir $(wildcard tests/xna-stat/*.c)))
	@# The series' patches are checked one by one by tools/check-patches.
	$(QEMU_SRC)/scripts/checkpatch.pl --no-tree --strict qemu-patches/local/*.patch
	@# The protocol header is dual-licensed (GPL-2.0-or-later OR MIT), so
	@# that guests under other licences can implement the protocol: that
	@# note is the one warning of checkpatch's allowed on it.
	@out=$$($(QEMU_SRC)/scripts/checkpatch.pl --no-tree --strict \
	       -f $(XNA_PROTOCOL)); \
	all=$$(echo "$$out" | grep -c '^\(WARNING\|ERROR\)'); \
	lic=$$(echo "$$out" | grep -c "^WARNING: Saw acceptable license 'GPL-2.0-or-later OR MIT'"); \
	if [ "$$all" != "$$lic" ]; then echo "$$out"; exit 1; fi; \
	echo "$(XNA_PROTOCOL): only the dual-licence note"

# Every test CI runs; the last line is "N passed, N failed".
check: config.mak
	tools/run-tests

# The real Xen stack under TCG with live counters (tests/xen/run), then
# the same device on the xen-sim platform (tools/demo).
demo: qemu
	tests/xen/run --demo
	tools/demo

demo-sim: qemu
	tools/demo

# xen-net-accel against the stock xen-net-device (docs/benchmarks.md);
# not part of check, which runs only a smoke pass (tools/bench --smoke).
bench: qemu
	tools/bench

# End to end on real Xen 4.17 under TCG: xl, our QEMU in dom0, our module;
# PV guests (tests/xen/run --pvh, --hvm: the first guest as a PVH or HVM
# domain, probes run by hand: docs/testing.md).
check-xen: config.mak
	tests/xen/run

# Plain netfront + kernel netback against xen-net-accel on real Xen 4.17
# under TCG, pass by pass in one boot (docs/benchmarks.md).  Root.
bench-xen: config.mak
	tests/xen/bench $(BENCH_XEN_ARGS)

# Host tools: the QMP client of the vif hotplug script and the status
# tool (docs/xl.md), sharing one QMP client (tools/qmp-client.c); the
# status tool reads QEMU's replies with tools/qmp-json.c.
TOOL_BINS = $(BUILD)/tools/xna-qmp $(BUILD)/tools/xna-stat
xna-qmp_SRCS = tools/qmp-client.c
xna-stat_SRCS = tools/qmp-client.c tools/qmp-json.c
tools: $(TOOL_BINS)
$(TOOL_BINS): $(BUILD)/tools/%: tools/%.c $$($$*_SRCS) $(wildcard tools/*.h)
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $< $($*_SRCS)

# What a dom0 needs: our QEMU, the QMP client, the status tool (linked
# from sbin: an admin runs it), the vif hotplug script and its settings
# (kept if present), and the directory of its per-vif profiles (empty:
# the admin writes them, and links vif-accel@<profile> to the script).
# PREFIX=/usr/local, DESTDIR for staging.
PREFIX ?= /usr/local
XNA_LIBDIR = $(DESTDIR)$(PREFIX)/lib/xen-net-accel
install: qemu tools
	install -D -s -m 755 $(QEMU_BIN) $(XNA_LIBDIR)/qemu-system-x86_64
	install -D -m 755 $(BUILD)/tools/xna-qmp $(XNA_LIBDIR)/xna-qmp
	install -D -s -m 755 $(QEMU_BUILD)/contrib/xna-afxdp-helper/xna-afxdp-helper \
		$(XNA_LIBDIR)/xna-afxdp-helper
	install -D -m 755 $(BUILD)/tools/xna-stat $(XNA_LIBDIR)/xna-stat
	@mkdir -p $(DESTDIR)$(PREFIX)/sbin
	ln -sfn ../lib/xen-net-accel/xna-stat $(DESTDIR)$(PREFIX)/sbin/xna-stat
	@mkdir -p $(DESTDIR)/etc/xen/scripts
	sed 's|/usr/local/|$(PREFIX)/|g' tools/vif-accel \
		> $(DESTDIR)/etc/xen/scripts/vif-accel
	chmod 755 $(DESTDIR)/etc/xen/scripts/vif-accel
	[ -e $(DESTDIR)/etc/xen/xen-net-accel.conf ] || \
		sed 's|/usr/local/|$(PREFIX)/|g' tools/xen-net-accel.conf \
		> $(DESTDIR)/etc/xen/xen-net-accel.conf
	mkdir -p $(DESTDIR)/etc/xen/xen-net-accel.d

# Undo install, except the settings (yours to keep or delete): the
# host-wide file, the profiles (their directory goes if empty) and the
# vif-accel@<profile> links, said as kept.  Refused while a backend QEMU
# it started still runs (a pidfile in XNA_RUNDIR of a live process):
# detach the guests' vifs first, or FORCE=1.  Guests whose vif line still
# names script=vif-accel fail to start once it is gone.
XNA_RUNDIR ?= /run/xen-net-accel
uninstall:
	@if [ "$(FORCE)" != 1 ]; then \
		for p in $(XNA_RUNDIR)/*.pid; do \
			[ -r "$$p" ] && kill -0 "$$(cat "$$p")" 2>/dev/null || continue; \
			echo "uninstall: backend QEMU $$(cat "$$p") ($$p) still runs:" \
				"detach its vifs first, or make uninstall FORCE=1" >&2; \
			exit 1; \
		done; \
	fi
	rm -f $(XNA_LIBDIR)/qemu-system-x86_64 $(XNA_LIBDIR)/xna-qmp \
		$(XNA_LIBDIR)/xna-afxdp-helper \
		$(XNA_LIBDIR)/xna-stat $(DESTDIR)$(PREFIX)/sbin/xna-stat \
		$(DESTDIR)/etc/xen/scripts/vif-accel
	-rmdir $(XNA_LIBDIR) 2>/dev/null
	rmdir $(DESTDIR)/etc/xen/xen-net-accel.d 2>/dev/null || true
	@[ ! -e $(DESTDIR)/etc/xen/xen-net-accel.conf ] || \
		echo "uninstall: kept $(DESTDIR)/etc/xen/xen-net-accel.conf"
	@[ ! -e $(DESTDIR)/etc/xen/xen-net-accel.d ] || \
		echo "uninstall: kept $(DESTDIR)/etc/xen/xen-net-accel.d (profiles)"
	@for l in $(DESTDIR)/etc/xen/scripts/vif-accel@*; do \
		[ ! -L "$$l" ] || echo "uninstall: kept $$l (a profile's link," \
			"now to nothing: remove it)"; \
	done

# A git format-patch series of the whole change against pristine QEMU.
patches: config.mak
	tools/export-patches $(QEMU_TARBALL) $(BUILD)/patches

clean:
	rm -rf $(BUILD)/unit $(BUILD)/guest-* $(BUILD)/patches $(BUILD)/patches-tree
	-[ -f $(QEMU_BUILD)/build.ninja ] && ninja -C $(QEMU_BUILD) clean

distclean:
	rm -rf $(BUILD) config.mak
