# omem-rpc codec and rings: unit tests, the fuzz target and the replay of
# its saved corpus (docs/fuzzing.md).  Included by tests/Makefile.am.

RPC_CORPUS = fuzz/corpus/rpc

check_PROGRAMS += unit/test-rpc-codec unit/test-rpc-ring fuzz/fuzz-rpc-replay
TESTS += unit/test-rpc-codec unit/test-rpc-ring fuzz/fuzz-rpc-replay

unit_test_rpc_codec_SOURCES = unit/test-rpc-codec.c
unit_test_rpc_codec_LDADD = $(LIBOMEM_RPC)

unit_test_rpc_ring_SOURCES = unit/test-rpc-ring.c
unit_test_rpc_ring_LDADD = $(LIBOMEM_RPC)

# The fuzz target built with the ordinary compiler, driven by a plain main()
# over the saved corpus: every make check replays every saved input.
fuzz_fuzz_rpc_replay_SOURCES = fuzz/replay.c fuzz/fuzz-rpc.c
fuzz_fuzz_rpc_replay_CPPFLAGS = $(AM_CPPFLAGS) -DCORPUS_DIR='"$(abs_srcdir)/$(RPC_CORPUS)"'
fuzz_fuzz_rpc_replay_LDADD = $(LIBOMEM_RPC)

# Writes the seed inputs of the corpus; run by hand, see docs/fuzzing.md.
noinst_PROGRAMS += fuzz/make-rpc-corpus
fuzz_make_rpc_corpus_SOURCES = fuzz/make-rpc-corpus.c
fuzz_make_rpc_corpus_LDADD = $(LIBOMEM_RPC)

# Automake copies a listed directory whole.
EXTRA_DIST += $(RPC_CORPUS)

if ENABLE_FUZZING
RPC_FUZZ_INPUTS = $(srcdir)/fuzz/fuzz-rpc.c \
	$(top_srcdir)/host-server/rpc/rpc-codec.c $(top_srcdir)/host-server/rpc/rpc-ring.c
RPC_FUZZ_DEPS = $(top_srcdir)/include/omem/rpc.h \
	$(top_srcdir)/host-server/rpc/rpc-codec.h $(top_srcdir)/host-server/rpc/rpc-ring.h

fuzz/fuzz-rpc: $(RPC_FUZZ_INPUTS) $(RPC_FUZZ_DEPS)
	$(AM_V_CCLD)$(FUZZ_LINK) \
		-o $@ $(RPC_FUZZ_INPUTS)

CLEANFILES += fuzz/fuzz-rpc
endif
