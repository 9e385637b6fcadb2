# omemd (host-server/): unit tests of its pure logic — the decisions
# (policy.c), the omem-rpc session (session.c), the config reader
# (omemd-config.c) and the status document (status-json.c, checked with
# virt-omem's own status parser) — and, with real guests, a short daemon
# smoke test.  Included by tests/Makefile.am.
LIBOMEMD_UTIL = $(top_builddir)/host-server/libomemd-util.la $(LIBOMEMHOST) $(JSON_GLIB_LIBS)

check_PROGRAMS += unit/test-omemd-policy unit/test-omemd-session unit/test-omemd-config \
	unit/test-omemd-status unit/test-omemd-notify
TESTS += unit/test-omemd-policy unit/test-omemd-session unit/test-omemd-config \
	unit/test-omemd-status unit/test-omemd-notify

unit_test_omemd_policy_SOURCES = unit/test-omemd-policy.c
unit_test_omemd_policy_LDADD = $(LIBOMEMD_UTIL)

unit_test_omemd_session_SOURCES = unit/test-omemd-session.c
unit_test_omemd_session_LDADD = $(LIBOMEMD_UTIL)

unit_test_omemd_config_SOURCES = unit/test-omemd-config.c
unit_test_omemd_config_CPPFLAGS = $(AM_CPPFLAGS) -DSRCDIR='"$(abs_srcdir)"'
unit_test_omemd_config_LDADD = $(LIBOMEMD_UTIL)

# sd_notify sender (omemd-notify.c, in libomemd-util for this test):
# real datagram sockets in a temporary folder and the abstract namespace.
unit_test_omemd_notify_SOURCES = unit/test-omemd-notify.c
unit_test_omemd_notify_LDADD = $(LIBOMEMD_UTIL)

# A lying guest's trust (trust.c): every strike rule, the window, the
# limits while distrusted, the restore, and honest sequences that must
# never strike.
check_PROGRAMS += unit/test-omemd-trust
TESTS += unit/test-omemd-trust
unit_test_omemd_trust_SOURCES = unit/test-omemd-trust.c
unit_test_omemd_trust_LDADD = $(LIBOMEMD_UTIL)

unit_test_omemd_status_SOURCES = unit/test-omemd-status.c
unit_test_omemd_status_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/libvirt-driver/virt-omem
unit_test_omemd_status_CFLAGS = $(AM_CFLAGS) $(JSON_GLIB_CFLAGS)
unit_test_omemd_status_LDADD = $(LIBOMEMD_UTIL) \
	$(top_builddir)/libvirt-driver/virt-omem/libomem-cli.la $(JSON_GLIB_LIBS)

# The Prometheus document (metrics.c, in libomemd-util) and endpoint
# (metrics-server.c, built into omemd only, so compiled here too).
check_PROGRAMS += unit/test-omemd-metrics
TESTS += unit/test-omemd-metrics
unit_test_omemd_metrics_SOURCES = unit/test-omemd-metrics.c unit/exposition.c unit/exposition.h \
	$(top_srcdir)/host-server/metrics-server.c
unit_test_omemd_metrics_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS)
unit_test_omemd_metrics_LDADD = $(LIBOMEMD_UTIL) $(SOUP_LIBS) $(GIO_LIBS) -lm

# omemd against the real libvirtd without a guest (~2 s): /metrics
# (promtool), socket modes, admission through omem-qemu-hook, SIGHUP
# reload with a bad and a good file.  Needs libvirtd, hence GUEST_TESTS.
if GUEST_TESTS
TESTS += e2e/daemon.sh
endif
EXTRA_DIST += e2e/daemon.sh
