# Admission control (docs/admission.md): the hook <-> omemd line format's
# unit test, its fuzz target and the replay of the target's saved corpus.
# Included by tests/Makefile.am.
LIBADMISSION = $(LIBOMEM_FORMATS)
ADMISSION_CORPUS = fuzz/corpus/admission

check_PROGRAMS += unit/test-admission unit/test-admission-state fuzz/fuzz-admission-replay \
	fuzz/fuzz-admission-state-replay fuzz/fuzz-hook-domain-replay
TESTS += unit/test-admission unit/test-admission-state fuzz/fuzz-admission-replay \
	fuzz/fuzz-admission-state-replay fuzz/fuzz-hook-domain-replay

unit_test_admission_SOURCES = unit/test-admission.c
unit_test_admission_LDADD = $(LIBADMISSION)

# The reservations omemd saves across restarts, and the arbiter's side.
unit_test_admission_state_SOURCES = unit/test-admission-state.c
unit_test_admission_state_LDADD = $(LIBADMISSION) $(LIBOMEM_ARBITER)

# The fuzz target with the ordinary compiler over the saved corpus, as
# rpc.mk does for fuzz-rpc: every make check replays every saved input.
fuzz_fuzz_admission_replay_SOURCES = fuzz/replay.c fuzz/fuzz-admission.c
fuzz_fuzz_admission_replay_CPPFLAGS = $(AM_CPPFLAGS) \
	-DCORPUS_DIR='"$(abs_srcdir)/$(ADMISSION_CORPUS)"'
fuzz_fuzz_admission_replay_LDADD = $(LIBADMISSION)

# The saved reservations' reader, likewise.
ADMISSION_STATE_CORPUS = fuzz/corpus/admission-state
fuzz_fuzz_admission_state_replay_SOURCES = fuzz/replay.c fuzz/fuzz-admission-state.c
fuzz_fuzz_admission_state_replay_CPPFLAGS = $(AM_CPPFLAGS) \
	-DCORPUS_DIR='"$(abs_srcdir)/$(ADMISSION_STATE_CORPUS)"'
fuzz_fuzz_admission_state_replay_LDADD = $(LIBADMISSION)

# What the qemu hook reads of the domain XML (libomem-virt's readers in
# the hook's order, and the request it would send), likewise.
HOOK_DOMAIN_CORPUS = fuzz/corpus/hook-domain
fuzz_fuzz_hook_domain_replay_SOURCES = fuzz/replay.c fuzz/fuzz-hook-domain.c
fuzz_fuzz_hook_domain_replay_CPPFLAGS = $(AM_CPPFLAGS) \
	-DCORPUS_DIR='"$(abs_srcdir)/$(HOOK_DOMAIN_CORPUS)"'
fuzz_fuzz_hook_domain_replay_LDADD = $(LIBADMISSION) \
	$(top_builddir)/libvirt-driver/libomem-virt.la $(GLIB_LIBS)

EXTRA_DIST += $(ADMISSION_CORPUS) $(ADMISSION_STATE_CORPUS) $(HOOK_DOMAIN_CORPUS)

if ENABLE_FUZZING
ADMISSION_FUZZ_INPUTS = $(srcdir)/fuzz/fuzz-admission.c $(top_srcdir)/host-server/formats/admission.c

fuzz/fuzz-admission: $(ADMISSION_FUZZ_INPUTS) $(top_srcdir)/host-server/formats/admission.h
	$(AM_V_CCLD)$(FUZZ_LINK) \
		$(GLIB_CFLAGS) $(JSON_GLIB_CFLAGS) \
		-o $@ $(ADMISSION_FUZZ_INPUTS) $(JSON_GLIB_LIBS) $(GLIB_LIBS)

CLEANFILES += fuzz/fuzz-admission

ADMISSION_STATE_FUZZ_INPUTS = $(srcdir)/fuzz/fuzz-admission-state.c \
	$(top_srcdir)/host-server/formats/admission-state.c

fuzz/fuzz-admission-state: $(ADMISSION_STATE_FUZZ_INPUTS) $(top_srcdir)/host-server/formats/admission-state.h
	$(AM_V_CCLD)$(FUZZ_LINK) $(GLIB_CFLAGS) -o $@ $(ADMISSION_STATE_FUZZ_INPUTS) $(GLIB_LIBS)

CLEANFILES += fuzz/fuzz-admission-state

HOOK_DOMAIN_FUZZ_INPUTS = $(srcdir)/fuzz/fuzz-hook-domain.c \
	$(top_srcdir)/host-server/formats/admission.c \
	$(top_srcdir)/libvirt-driver/omem-error.c \
	$(top_srcdir)/libvirt-driver/omem-xml.c \
	$(top_srcdir)/libvirt-driver/omem-size.c \
	$(top_srcdir)/libvirt-driver/omem-number.c \
	$(top_srcdir)/libvirt-driver/omem-domain-xml.c \
	$(top_srcdir)/libvirt-driver/omem-contract.c \
	$(top_srcdir)/libvirt-driver/omem-live.c

fuzz/fuzz-hook-domain: $(HOOK_DOMAIN_FUZZ_INPUTS) $(top_srcdir)/libvirt-driver/omem-virt.h \
		$(top_srcdir)/host-server/formats/admission.h
	$(AM_V_CCLD)$(FUZZ_LINK) $(GLIB_CFLAGS) $(JSON_GLIB_CFLAGS) $(LIBVIRT_CFLAGS) $(LIBXML_CFLAGS) \
		-o $@ $(HOOK_DOMAIN_FUZZ_INPUTS) \
		$(JSON_GLIB_LIBS) $(GLIB_LIBS) $(LIBVIRT_LIBS) $(LIBXML_LIBS)

CLEANFILES += fuzz/fuzz-hook-domain
endif
