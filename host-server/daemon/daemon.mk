# daemon/: omemd.  main.c (arguments, config, signals, run) and
# libomemd, everything else, which the unit tests of its I/O pieces link
# too: the manager (threads, libvirt connection, VM registry, status,
# admission and metrics sockets), its VMs (vm*.c), the transport thread's
# per-VM endpoint, logging, sd_notify and the /proc reads.  omemd uses only
# libomem-virt's public header (check-layers.sh).  Included by
# host-server/Makefile.am.
DAEMON_CFLAGS = $(AM_CFLAGS) $(GIO_CFLAGS) $(JSON_GLIB_CFLAGS) $(LIBVIRT_CFLAGS) $(SOUP_CFLAGS)
DAEMON_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/libvirt-driver

noinst_LTLIBRARIES += daemon/libomemd.la
daemon_libomemd_la_SOURCES = \
	daemon/manager.c daemon/manager.h daemon/manager-private.h \
	daemon/manager-config.c daemon/manager-libvirt.c daemon/manager-arbiter.c \
	daemon/manager-status.c daemon/manager-admission.c daemon/manager-metrics.c \
	daemon/vm.c daemon/vm.h daemon/vm-libvirt.c daemon/vm-arbiter.c daemon/vm-link.c \
	daemon/actuator.c daemon/actuator.h \
	daemon/transport.c daemon/transport.h \
	daemon/metrics-server.c daemon/metrics-server.h \
	daemon/host-read.c daemon/host-read.h \
	daemon/omemd-log.c daemon/omemd-log.h \
	daemon/omemd-notify.c daemon/omemd-notify.h
daemon_libomemd_la_CPPFLAGS = $(DAEMON_CPPFLAGS)
daemon_libomemd_la_CFLAGS = $(DAEMON_CFLAGS)
daemon_libomemd_la_LIBADD = rpc/libomem-rpc.la arbiter/libomem-arbiter.la formats/libomem-formats.la \
	$(top_builddir)/libvirt-driver/libomem-virt-internal.la \
	$(JSON_GLIB_LIBS) $(SOUP_LIBS) $(GIO_LIBS) $(GLIB_LIBS) $(LIBVIRT_LIBS) -lm

sbin_PROGRAMS += omemd
omemd_SOURCES = daemon/main.c
omemd_CPPFLAGS = $(DAEMON_CPPFLAGS)
omemd_CFLAGS = $(DAEMON_CFLAGS)
omemd_LDADD = daemon/libomemd.la

# Example config (every key with its default), the manual page and the
# systemd unit.  The unit is written at build time so that ExecStart
# names the configured sbindir.
omemdconfdir = $(sysconfdir)/omem
dist_omemdconf_DATA = daemon/omemd.conf
dist_man8_MANS = daemon/omemd.8
systemdunitdir = $(prefix)/lib/systemd/system
nodist_systemdunit_DATA = omemd.service
EXTRA_DIST += daemon/omemd.service.in
CLEANFILES += omemd.service
omemd.service: daemon/omemd.service.in Makefile
	$(AM_V_GEN)$(SED) -e 's|@sbindir[@]|$(sbindir)|g' $(srcdir)/daemon/omemd.service.in > $@.tmp && \
		mv $@.tmp $@
