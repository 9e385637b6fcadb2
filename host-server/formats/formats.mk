# formats/: pure readers and writers of text, each taking or returning the
# text itself (the files and sockets are daemon/'s): omemd.conf, the
# host's /proc memory figures, the status JSON, the Prometheus exposition
# and the admission lines the hook and omemd exchange.  No libvirt, no
# sockets.  Included by host-server/Makefile.am.
noinst_LTLIBRARIES += formats/libomem-formats.la
formats_libomem_formats_la_SOURCES = \
	formats/omemd-config.c formats/omemd-config.h \
	formats/host-info.c formats/host-info.h \
	formats/status-json.c formats/status-json.h \
	formats/metrics.c formats/metrics.h \
	formats/admission.c formats/admission.h \
	formats/admission-state.c formats/admission-state.h
# Sizes in omemd.conf are read by omem's one size grammar
# (libvirt-driver/omem-size.h), which is pure C and comes without libvirt.
formats_libomem_formats_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/libvirt-driver
formats_libomem_formats_la_CFLAGS = $(AM_CFLAGS) $(JSON_GLIB_CFLAGS)
formats_libomem_formats_la_LIBADD = $(top_builddir)/libvirt-driver/libomem-size.la \
	$(JSON_GLIB_LIBS) $(GLIB_LIBS) -lm
