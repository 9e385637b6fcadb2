# rpc/: the omem-rpc host end, linked by omemd, the tests, the fuzzers and
# the test tools: the codec (wire structs <-> C structs, every field
# checked), the rings, the session layer, the ivshmem server that is
# one VM's end of the transport, and the unix socket listener it shares
# with omemd's status and admission sockets.  It runs on a GMainContext
# its caller owns and knows nothing of libvirt.  Included by host-server/Makefile.am.
noinst_LTLIBRARIES += rpc/libomem-rpc.la
rpc_libomem_rpc_la_SOURCES = \
	rpc/rpc-codec.c rpc/rpc-codec.h \
	rpc/rpc-ring.c rpc/rpc-ring.h \
	rpc/session.c rpc/session.h \
	rpc/ivshmem-server.c rpc/ivshmem-server.h \
	rpc/unix-listener.c rpc/unix-listener.h
rpc_libomem_rpc_la_CFLAGS = $(AM_CFLAGS) $(GIO_CFLAGS)
rpc_libomem_rpc_la_LIBADD = $(GIO_LIBS) $(GLIB_LIBS)
