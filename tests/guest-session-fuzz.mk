# The stateful fuzzer of omemd's guest-message path (docs/fuzzing.md):
# the codec, the session, the manager's VM handlers, trust and the
# arbiter, with the transport and libvirt's calls replaced by
# fuzz/fuzz-guest-session.c and the clock wrapped at link time.  Its
# corpus replays at every make check.  Included by tests/Makefile.am.

GUEST_SESSION_CORPUS = fuzz/corpus/guest-session
# The input's clock instead of the real one.
GUEST_SESSION_WRAP = -Wl,--wrap=manager_now_ms -Wl,--wrap=manager_unix_ms

check_PROGRAMS += fuzz/fuzz-guest-session-replay
TESTS += fuzz/fuzz-guest-session-replay

fuzz_fuzz_guest_session_replay_SOURCES = fuzz/replay.c fuzz/fuzz-guest-session.c
fuzz_fuzz_guest_session_replay_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/libvirt-driver \
	-DCORPUS_DIR='"$(abs_srcdir)/$(GUEST_SESSION_CORPUS)"'
fuzz_fuzz_guest_session_replay_CFLAGS = $(AM_CFLAGS) $(LIBVIRT_CFLAGS) $(JSON_GLIB_CFLAGS)
fuzz_fuzz_guest_session_replay_LDFLAGS = $(GUEST_SESSION_WRAP)
fuzz_fuzz_guest_session_replay_LDADD = $(LIBOMEMD)

EXTRA_DIST += $(GUEST_SESSION_CORPUS)

if ENABLE_FUZZING
# Everything omemd runs between the ring and libvirt, compiled in with
# the sanitizers; transport.c (the fuzzer has its own) and main.c left out.
GUEST_SESSION_FUZZ_INPUTS = $(srcdir)/fuzz/fuzz-guest-session.c \
	$(filter-out %/transport.c %/main.c,$(wildcard $(top_srcdir)/host-server/daemon/*.c)) \
	$(wildcard $(top_srcdir)/host-server/arbiter/*.c) \
	$(wildcard $(top_srcdir)/host-server/formats/*.c) \
	$(top_srcdir)/host-server/rpc/rpc-codec.c $(top_srcdir)/host-server/rpc/session.c \
	$(top_srcdir)/host-server/rpc/rpc-ring.c $(top_srcdir)/host-server/rpc/unix-listener.c \
	$(top_srcdir)/host-server/rpc/ivshmem-server.c

fuzz/fuzz-guest-session: $(GUEST_SESSION_FUZZ_INPUTS) $(top_builddir)/libvirt-driver/libomem-virt-internal.la
	$(AM_V_CCLD)$(FUZZ_LINK) -I$(top_srcdir)/libvirt-driver $(GLIB_CFLAGS) $(GIO_CFLAGS) \
		$(JSON_GLIB_CFLAGS) $(LIBVIRT_CFLAGS) $(SOUP_CFLAGS) $(GUEST_SESSION_WRAP) -o $@ \
		$(GUEST_SESSION_FUZZ_INPUTS) $(top_builddir)/libvirt-driver/.libs/libomem-virt-internal.a \
		$(JSON_GLIB_LIBS) $(SOUP_LIBS) $(GIO_LIBS) $(GLIB_LIBS) $(LIBVIRT_LIBS) $(LIBXML_LIBS) -lm

CLEANFILES += fuzz/fuzz-guest-session
endif
