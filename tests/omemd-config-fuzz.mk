# The omemd.conf reader's fuzz target (host-server/formats/omemd-config.c),
# replayed over its saved corpus at every make check (docs/fuzzing.md).
# Included by tests/Makefile.am.

OMEMD_CONFIG_CORPUS = fuzz/corpus/omemd-config

check_PROGRAMS += fuzz/fuzz-omemd-config-replay
TESTS += fuzz/fuzz-omemd-config-replay

fuzz_fuzz_omemd_config_replay_SOURCES = fuzz/replay.c fuzz/fuzz-omemd-config.c
fuzz_fuzz_omemd_config_replay_CPPFLAGS = $(AM_CPPFLAGS) \
	-DCORPUS_DIR='"$(abs_srcdir)/$(OMEMD_CONFIG_CORPUS)"'
fuzz_fuzz_omemd_config_replay_LDADD = $(LIBOMEM_FORMATS)

EXTRA_DIST += $(OMEMD_CONFIG_CORPUS)

if ENABLE_FUZZING
fuzz/fuzz-omemd-config: $(srcdir)/fuzz/fuzz-omemd-config.c $(LIBOMEM_FORMATS)
	$(AM_V_CCLD)$(FUZZ_LINK) -I$(top_srcdir)/libvirt-driver $(GLIB_CFLAGS) -o $@ \
		$(srcdir)/fuzz/fuzz-omemd-config.c $(top_srcdir)/host-server/formats/omemd-config.c \
		$(top_srcdir)/libvirt-driver/omem-size.c $(top_srcdir)/libvirt-driver/omem-number.c \
		$(GLIB_LIBS)

CLEANFILES += fuzz/fuzz-omemd-config
endif
