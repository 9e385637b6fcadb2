# libomem-virt's core: the contract (pure, unit/test-contract), the live
# part against libvirt's in-process test:///default driver
# (unit/test-live), and the contract parser's fuzz target with its saved
# corpus replayed (docs/contract.md, docs/fuzzing.md).  Included by
# tests/Makefile.am.

# The tests reach the internals through the convenience library, which
# exports everything; the installed library exports only omem_*.
LIBOMEMVIRT_INTERNAL = $(top_builddir)/libvirt-driver/libomem-virt-internal.la \
	$(GLIB_LIBS) $(LIBVIRT_LIBS) $(LIBXML_LIBS)
VIRT_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/libvirt-driver
VIRT_TEST_CFLAGS = $(AM_CFLAGS) $(LIBVIRT_CFLAGS) $(LIBXML_CFLAGS)

CONTRACT_CORPUS = fuzz/corpus/contract

check_PROGRAMS += unit/test-contract unit/test-live fuzz/fuzz-contract-replay
TESTS += unit/test-contract unit/test-live fuzz/fuzz-contract-replay

unit_test_contract_SOURCES = unit/test-contract.c
unit_test_contract_CPPFLAGS = $(VIRT_TEST_CPPFLAGS) \
	-DCONTRACT_SCHEMA='"$(abs_top_srcdir)/libvirt-driver/schema/omem-contract.rng"'
unit_test_contract_CFLAGS = $(VIRT_TEST_CFLAGS)
unit_test_contract_LDADD = $(LIBOMEMVIRT_INTERNAL)

unit_test_live_SOURCES = unit/test-live.c
unit_test_live_CPPFLAGS = $(VIRT_TEST_CPPFLAGS)
unit_test_live_CFLAGS = $(VIRT_TEST_CFLAGS)
unit_test_live_LDADD = $(LIBOMEMVIRT_INTERNAL)

# The fuzz target built with the ordinary compiler and driven by
# fuzz/replay.c over the saved corpus: every make check replays it.
fuzz_fuzz_contract_replay_SOURCES = fuzz/replay.c fuzz/fuzz-contract.c
fuzz_fuzz_contract_replay_CPPFLAGS = $(VIRT_TEST_CPPFLAGS) \
	-DCORPUS_DIR='"$(abs_srcdir)/$(CONTRACT_CORPUS)"'
fuzz_fuzz_contract_replay_CFLAGS = $(VIRT_TEST_CFLAGS)
fuzz_fuzz_contract_replay_LDADD = $(LIBOMEMVIRT_INTERNAL)

# Automake copies a listed directory whole.
EXTRA_DIST += $(CONTRACT_CORPUS)

if ENABLE_FUZZING
CONTRACT_FUZZ_INPUTS = $(srcdir)/fuzz/fuzz-contract.c \
	$(top_srcdir)/libvirt-driver/omem-error.c \
	$(top_srcdir)/libvirt-driver/omem-xml.c \
	$(top_srcdir)/libvirt-driver/omem-size.c \
	$(top_srcdir)/libvirt-driver/omem-number.c \
	$(top_srcdir)/libvirt-driver/omem-domain-xml.c \
	$(top_srcdir)/libvirt-driver/omem-contract.c \
	$(top_srcdir)/libvirt-driver/omem-live.c
CONTRACT_FUZZ_DEPS = $(top_srcdir)/libvirt-driver/omem-virt.h \
	$(top_srcdir)/libvirt-driver/omem-virt-internal.h

fuzz/fuzz-contract: $(CONTRACT_FUZZ_INPUTS) $(CONTRACT_FUZZ_DEPS)
	$(AM_V_CCLD)$(FUZZ_LINK) $(VIRT_TEST_CPPFLAGS) \
		$(GLIB_CFLAGS) $(LIBVIRT_CFLAGS) $(LIBXML_CFLAGS) \
		-o $@ $(CONTRACT_FUZZ_INPUTS) $(GLIB_LIBS) $(LIBVIRT_LIBS) $(LIBXML_LIBS)

CLEANFILES += fuzz/fuzz-contract
endif
