# The domain transform (docs/transform.md): golden files in transform/
# (unit/test-transform, OMEM_REGENERATE=1 rewrites them) and the fuzz
# target with its saved corpus replayed (docs/fuzzing.md).  Included by
# tests/Makefile.am.

TRANSFORM_CORPUS = fuzz/corpus/transform
TRANSFORM_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/libvirt-driver \
	$(LIBVIRT_CFLAGS) $(LIBXML_CFLAGS)
TRANSFORM_TEST_LDADD = $(top_builddir)/libvirt-driver/libomem-virt.la $(GLIB_LIBS)

check_PROGRAMS += unit/test-transform fuzz/fuzz-transform-replay
TESTS += unit/test-transform fuzz/fuzz-transform-replay

unit_test_transform_SOURCES = unit/test-transform.c
unit_test_transform_CPPFLAGS = $(TRANSFORM_TEST_CPPFLAGS) \
	-DTRANSFORM_DIR='"$(abs_srcdir)/transform"'
unit_test_transform_LDADD = $(TRANSFORM_TEST_LDADD)

# The fuzz target built with the ordinary compiler, driven by a plain
# main() over the saved corpus: every make check replays every input.
fuzz_fuzz_transform_replay_SOURCES = fuzz/replay.c fuzz/fuzz-transform.c
fuzz_fuzz_transform_replay_CPPFLAGS = $(TRANSFORM_TEST_CPPFLAGS) \
	-DCORPUS_DIR='"$(abs_srcdir)/$(TRANSFORM_CORPUS)"'
fuzz_fuzz_transform_replay_LDADD = $(TRANSFORM_TEST_LDADD)

# Automake copies a listed directory whole.
EXTRA_DIST += transform $(TRANSFORM_CORPUS)

if ENABLE_FUZZING
TRANSFORM_FUZZ_INPUTS = $(srcdir)/fuzz/fuzz-transform.c \
	$(top_srcdir)/libvirt-driver/omem-error.c \
	$(top_srcdir)/libvirt-driver/omem-xml.c \
	$(top_srcdir)/libvirt-driver/omem-size.c \
	$(top_srcdir)/libvirt-driver/omem-number.c \
	$(top_srcdir)/libvirt-driver/omem-domain-xml.c \
	$(top_srcdir)/libvirt-driver/omem-contract.c \
	$(top_srcdir)/libvirt-driver/omem-transform.c \
	$(top_srcdir)/libvirt-driver/omem-transform-check.c \
	$(top_srcdir)/libvirt-driver/omem-transform-memory.c \
	$(top_srcdir)/libvirt-driver/omem-transform-devices.c \
	$(top_srcdir)/libvirt-driver/omem-transform-xml.c
TRANSFORM_FUZZ_DEPS = $(top_srcdir)/libvirt-driver/omem-virt.h \
	$(top_srcdir)/libvirt-driver/omem-virt-internal.h

fuzz/fuzz-transform: $(TRANSFORM_FUZZ_INPUTS) $(TRANSFORM_FUZZ_DEPS)
	$(AM_V_CCLD)$(FUZZ_LINK) $(TRANSFORM_TEST_CPPFLAGS) \
		$(GLIB_CFLAGS) -o $@ $(TRANSFORM_FUZZ_INPUTS) $(GLIB_LIBS) $(LIBVIRT_LIBS) $(LIBXML_LIBS)

CLEANFILES += fuzz/fuzz-transform
endif
