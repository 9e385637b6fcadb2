# Admission control (docs/admission.md): the hook <-> omemd line format's
# unit test, its fuzz target and the replay of the target's saved corpus.
# Included by tests/Makefile.am.
LIBADMISSION = $(LIBOMEM_FORMATS)
ADMISSION_CORPUS = fuzz/corpus/admission

check_PROGRAMS += unit/test-admission fuzz/fuzz-admission-replay
TESTS += unit/test-admission fuzz/fuzz-admission-replay

unit_test_admission_SOURCES = unit/test-admission.c
unit_test_admission_LDADD = $(LIBADMISSION)

# The fuzz target with the ordinary compiler over the saved corpus, as
# rpc.mk does for fuzz-rpc: every make check replays every saved input.
fuzz_fuzz_admission_replay_SOURCES = fuzz/replay.c fuzz/fuzz-admission.c
fuzz_fuzz_admission_replay_CPPFLAGS = $(AM_CPPFLAGS) \
	-DCORPUS_DIR='"$(abs_srcdir)/$(ADMISSION_CORPUS)"'
fuzz_fuzz_admission_replay_LDADD = $(LIBADMISSION)

EXTRA_DIST += $(ADMISSION_CORPUS)

if ENABLE_FUZZING
ADMISSION_FUZZ_INPUTS = $(srcdir)/fuzz/fuzz-admission.c $(top_srcdir)/host-server/formats/admission.c

fuzz/fuzz-admission: $(ADMISSION_FUZZ_INPUTS) $(top_srcdir)/host-server/formats/admission.h
	$(AM_V_CCLD)$(FUZZ_LINK) \
		$(GLIB_CFLAGS) $(JSON_GLIB_CFLAGS) \
		-o $@ $(ADMISSION_FUZZ_INPUTS) $(JSON_GLIB_LIBS) $(GLIB_LIBS)

CLEANFILES += fuzz/fuzz-admission
endif
