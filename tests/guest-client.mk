# The guest module's decision math (guest-client/omem_decide.c), pure C
# that also builds in user space, tested here without a kernel.  The
# module itself is built by Kbuild (guest-client/Makefile.am) and tested
# in real guests (e2e/).  Included by tests/Makefile.am.

check_PROGRAMS += unit/test-guest-decide
TESTS += unit/test-guest-decide

unit_test_guest_decide_SOURCES = unit/test-guest-decide.c ../guest-client/omem_decide.c
unit_test_guest_decide_CPPFLAGS = -I$(top_srcdir)/include -I$(top_srcdir)/guest-client \
	-I$(top_srcdir)/tests/unit
unit_test_guest_decide_CFLAGS = $(OMEM_CFLAGS)

# The module's checks of the host's writes (guest-client/omem_wire.c)
# compiled in user space against the kernel-header shim fuzz/kshim/: the
# fuzz target, replayed over its saved corpus as rpc.mk does for fuzz-rpc.
GUEST_WIRE_CORPUS = fuzz/corpus/guest-wire
GUEST_WIRE_CPPFLAGS = -I$(srcdir)/fuzz/kshim -I$(top_srcdir)/include \
	-I$(top_srcdir)/guest-client -I$(top_builddir)
GUEST_WIRE_SHIM = fuzz/kshim/README fuzz/kshim/asm/byteorder.h fuzz/kshim/linux/build_bug.h \
	fuzz/kshim/linux/kernel.h fuzz/kshim/linux/log2.h fuzz/kshim/linux/stddef.h \
	fuzz/kshim/linux/types.h

check_PROGRAMS += fuzz/fuzz-guest-wire-replay
TESTS += fuzz/fuzz-guest-wire-replay

fuzz_fuzz_guest_wire_replay_SOURCES = fuzz/replay.c fuzz/fuzz-guest-wire.c \
	../guest-client/omem_wire.c
fuzz_fuzz_guest_wire_replay_CPPFLAGS = $(GUEST_WIRE_CPPFLAGS) \
	-DCORPUS_DIR='"$(abs_srcdir)/$(GUEST_WIRE_CORPUS)"'
fuzz_fuzz_guest_wire_replay_CFLAGS = $(OMEM_CFLAGS)

EXTRA_DIST += $(GUEST_WIRE_CORPUS) $(GUEST_WIRE_SHIM)

# The same checks, one case per rule, with the same shim; linked with the
# host's ring library so omemd's own region headers are checked too.
check_PROGRAMS += unit/test-guest-wire
TESTS += unit/test-guest-wire

unit_test_guest_wire_SOURCES = unit/test-guest-wire.c ../guest-client/omem_wire.c
unit_test_guest_wire_CPPFLAGS = $(GUEST_WIRE_CPPFLAGS) -I$(top_srcdir)/host-server \
	-I$(top_srcdir)/tests/unit
unit_test_guest_wire_CFLAGS = $(OMEM_CFLAGS)
unit_test_guest_wire_LDADD = $(LIBOMEM_RPC)

if ENABLE_FUZZING
GUEST_WIRE_FUZZ_INPUTS = $(srcdir)/fuzz/fuzz-guest-wire.c $(top_srcdir)/guest-client/omem_wire.c

fuzz/fuzz-guest-wire: $(GUEST_WIRE_FUZZ_INPUTS) $(top_srcdir)/guest-client/omem_wire.h \
		$(top_srcdir)/include/omem/rpc.h $(addprefix $(srcdir)/,$(GUEST_WIRE_SHIM))
	$(AM_V_CCLD)$(FUZZ_LINK) $(GUEST_WIRE_CPPFLAGS) -o $@ $(GUEST_WIRE_FUZZ_INPUTS)

CLEANFILES += fuzz/fuzz-guest-wire
endif
