# omemd's /proc/meminfo and /proc/pressure/memory figures: the parsers
# (host-server/formats/host-info.c) on real and broken samples, their fuzz
# target replayed over its saved corpus (docs/fuzzing.md), and the reads
# of the files (host-server/daemon/host-read.c).  Included by
# tests/Makefile.am.

HOSTINFO_CORPUS = fuzz/corpus/hostinfo

check_PROGRAMS += unit/test-host-info unit/test-host-read fuzz/fuzz-hostinfo-replay
TESTS += unit/test-host-info unit/test-host-read fuzz/fuzz-hostinfo-replay

unit_test_host_info_SOURCES = unit/test-host-info.c
unit_test_host_info_LDADD = $(LIBOMEM_FORMATS)

unit_test_host_read_SOURCES = unit/test-host-read.c
unit_test_host_read_LDADD = $(LIBOMEMD)

# The fuzz target with the plain driver: every make check replays every
# saved input, no clang needed.
fuzz_fuzz_hostinfo_replay_SOURCES = fuzz/replay.c fuzz/fuzz-hostinfo.c
fuzz_fuzz_hostinfo_replay_CPPFLAGS = $(AM_CPPFLAGS) \
	-DCORPUS_DIR='"$(abs_srcdir)/$(HOSTINFO_CORPUS)"'
fuzz_fuzz_hostinfo_replay_LDADD = $(LIBOMEM_FORMATS)

EXTRA_DIST += $(HOSTINFO_CORPUS)

if ENABLE_FUZZING
HOSTINFO_FUZZ_INPUTS = $(srcdir)/fuzz/fuzz-hostinfo.c $(top_srcdir)/host-server/formats/host-info.c

fuzz/fuzz-hostinfo: $(HOSTINFO_FUZZ_INPUTS) $(top_srcdir)/host-server/formats/host-info.h
	$(AM_V_CCLD)$(FUZZ_LINK) $(GLIB_CFLAGS) \
		-o $@ $(HOSTINFO_FUZZ_INPUTS) $(GLIB_LIBS)

CLEANFILES += fuzz/fuzz-hostinfo
endif
