# Real-guest tests: the harness (lib/guest.sh), the guest's initramfs
# (guest/: init, mkinitrd.sh, memload) and the scenarios (e2e/), which boot
# QEMU TCG guests through the host's libvirtd.  See docs/testing.md.
# Included by tests/Makefile.am.

# memload runs inside the busybox guest, which has no C library: link it
# statically.  Built by plain `make` so scenarios can be run by hand.
noinst_PROGRAMS += guest/memload
guest_memload_SOURCES = guest/memload.c
guest_memload_CPPFLAGS =
guest_memload_CFLAGS = $(OMEM_CFLAGS)
guest_memload_LDFLAGS = -all-static

GUEST_SCENARIOS = e2e/smoke.sh

# --disable-guest-tests (make distcheck) leaves them out: they need root,
# libvirtd and minutes of TCG time.
if GUEST_TESTS
TESTS += $(GUEST_SCENARIOS)
endif

EXTRA_DIST += $(GUEST_SCENARIOS) lib/guest.sh guest/init guest/mkinitrd.sh

# Console logs and helper output of the scenarios (tests/lib/guest.sh).
CLEANFILES += e2e/logs/*.log e2e/logs/*.out e2e/logs/*.err e2e/logs/*.dmesg
