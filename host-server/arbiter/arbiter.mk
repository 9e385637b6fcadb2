# arbiter/: the pure decision cores: the global arbiter (budget, fair
# shares, reclaim, admission), the per-VM policy it builds on, and how far
# a guest's word is believed.  No I/O, no clock (time is an argument), no
# libvirt and no sockets.  Included by host-server/Makefile.am.
noinst_LTLIBRARIES += arbiter/libomem-arbiter.la
arbiter_libomem_arbiter_la_SOURCES = \
	arbiter/arbiter.c arbiter/arbiter.h arbiter/arbiter-private.h \
	arbiter/arbiter-fair.c arbiter/arbiter-decide.c arbiter/arbiter-check.c \
	arbiter/arbiter-trust.c \
	arbiter/policy.c arbiter/policy.h \
	arbiter/trust.c arbiter/trust.h
arbiter_libomem_arbiter_la_LIBADD = $(GLIB_LIBS) -lm
