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
QTEST_BINS = $(addprefix $(QEMU_BUILD)/tests/qtest/xen-net-accel/,$(QTESTS))

UNIT_TESTS = $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test-*.c))
UNIT_BINS = $(addprefix $(BUILD)/unit/,$(UNIT_TESTS))
UNIT_CFLAGS = -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter -Werror \
	-fsanitize=address,undefined -fno-omit-frame-pointer \
	-Ihw/xen -Iinclude -Iguest/core $(shell pkg-config --cflags glib-2.0)
UNIT_LIBS = $(shell pkg-config --libs glib-2.0)
# Pure-logic sources shared with the device, by unit test.
test-filter-table_SRCS = hw/xen/xna-filter-table.c
test-front-core_SRCS = guest/core/xna-front.c
test-classify_SRCS = hw/xen/xna-classify.c hw/xen/xna-filter-table.c

CHECKPATCH_FILES = $(wildcard hw/xen/*.c hw/xen/*.h tests/qtest/*.c tests/qtest/*.h)

.PHONY: all qemu guest guest-6.1 guest-6.12 unit check checkpatch demo bench \
	check-xen patches clean distclean

all: qemu guest

config.mak: configure qemu-patches/series $(wildcard qemu-patches/*.patch)
	./configure

qemu: config.mak
	flock $(BUILD)/.ninja.lock ninja -C $(QEMU_BUILD) qemu-system-x86_64 \
		$(addprefix tests/qtest/xen-net-accel/,$(QTESTS) xna-bench)

# The guest module, built out of tree in a copy per kernel version so
# that the two builds neither collide nor litter guest/.
guest: guest-6.1
guest-6.1 guest-6.12: guest-%: config.mak
	@mkdir -p $(BUILD)/guest-$*
	@cp -r guest/. $(BUILD)/guest-$*/
	@cp -r include $(BUILD)/guest-$*/
	$(MAKE) -C $(KDIR_$(subst .,,$*)) M=$(BUILD)/guest-$* W=1 modules

.SECONDEXPANSION:
$(BUILD)/unit/%: tests/unit/%.c $$($$*_SRCS) $(wildcard hw/xen/*.h include/*/*.h guest/core/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $($*_SRCS) $(UNIT_LIBS)
unit: $(UNIT_BINS)

checkpatch: config.mak
	$(QEMU_SRC)/scripts/checkpatch.pl --no-tree --strict -f $(CHECKPATCH_FILES)
	$(QEMU_SRC)/scripts/checkpatch.pl --no-tree --strict qemu-patches/*.patch

# Every test CI runs; the last line is "N passed, N failed".
check: config.mak
	tools/run-tests

demo: qemu
	tools/demo

# xen-net-accel against the stock xen-net-device (docs/benchmarks.md);
# not part of check, which runs only a smoke pass (tools/bench --smoke).
bench: qemu
	tools/bench

check-xen:
	@echo "make check-xen: not yet implemented (see the real-Xen issue)"; exit 1

# A git format-patch series of the whole change against pristine QEMU.
patches: config.mak
	tools/export-patches $(QEMU_TARBALL) $(BUILD)/patches

clean:
	rm -rf $(BUILD)/unit $(BUILD)/guest-* $(BUILD)/patches $(BUILD)/patches-tree
	-[ -f $(QEMU_BUILD)/build.ninja ] && ninja -C $(QEMU_BUILD) clean

distclean:
	rm -rf $(BUILD) config.mak
