# omemd's parts (host-server/), each unit test named after the file it
# tests: the per-VM policy (arbiter/policy.c), how far a guest is trusted
# (arbiter/trust.c), the omem-rpc session (rpc/session.c), the omemd.conf
# reader (formats/omemd-config.c), the status document
# (formats/status-json.c, read back with virt-omem's own status parser),
# the Prometheus document and endpoint (formats/metrics.c,
# daemon/metrics-server.c) and the sd_notify sender
# (daemon/omemd-notify.c); with real guests, a short daemon smoke test.
# Included by tests/Makefile.am.
check_PROGRAMS += unit/test-policy unit/test-trust unit/test-session unit/test-omemd-config \
	unit/test-status-json unit/test-metrics unit/test-omemd-notify unit/test-omemd-log \
	unit/test-actuator
TESTS += unit/test-policy unit/test-trust unit/test-session unit/test-omemd-config \
	unit/test-status-json unit/test-metrics unit/test-omemd-notify unit/test-omemd-log \
	unit/test-actuator

unit_test_policy_SOURCES = unit/test-policy.c
unit_test_policy_LDADD = $(LIBOMEM_ARBITER)

# Every strike rule, the window, the limits while distrusted, the
# restore, and honest sequences that must never strike.
unit_test_trust_SOURCES = unit/test-trust.c
unit_test_trust_LDADD = $(LIBOMEM_ARBITER)

unit_test_session_SOURCES = unit/test-session.c
unit_test_session_LDADD = $(LIBOMEM_RPC)

unit_test_omemd_config_SOURCES = unit/test-omemd-config.c
unit_test_omemd_config_CPPFLAGS = $(AM_CPPFLAGS) \
	-DOMEMD_CONF='"$(abs_top_srcdir)/host-server/daemon/omemd.conf"'
unit_test_omemd_config_LDADD = $(LIBOMEM_FORMATS)

unit_test_status_json_SOURCES = unit/test-status-json.c
unit_test_status_json_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/libvirt-driver/virt-omem
unit_test_status_json_CFLAGS = $(AM_CFLAGS) $(JSON_GLIB_CFLAGS)
unit_test_status_json_LDADD = $(LIBOMEM_FORMATS) \
	$(top_builddir)/libvirt-driver/virt-omem/libomem-cli.la $(JSON_GLIB_LIBS)

# The document (formats/metrics.c) and the endpoint (in libomemd).
unit_test_metrics_SOURCES = unit/test-metrics.c unit/exposition.c unit/exposition.h
unit_test_metrics_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS)
unit_test_metrics_LDADD = $(LIBOMEMD) $(SOUP_LIBS) $(GIO_LIBS) -lm

# The per-VM rate limit of guest-triggered lines (daemon/omemd-log.c).
unit_test_omemd_log_SOURCES = unit/test-omemd-log.c
unit_test_omemd_log_LDADD = $(LIBOMEMD)

# One VM's libvirt calls in a worker (daemon/actuator.c), against a fake
# libvirt whose calls can be held like those of a QEMU that stopped.
unit_test_actuator_SOURCES = unit/test-actuator.c
unit_test_actuator_CFLAGS = $(AM_CFLAGS) $(GIO_CFLAGS)
unit_test_actuator_LDADD = $(LIBOMEMD) $(GIO_LIBS)

# Real datagram sockets in a temporary folder and the abstract namespace.
unit_test_omemd_notify_SOURCES = unit/test-omemd-notify.c
unit_test_omemd_notify_LDADD = $(LIBOMEMD)

# omemd against the real libvirtd without a guest (~2 s): /metrics
# (promtool), socket modes, admission through omem-qemu-hook, SIGHUP
# reload with a bad and a good file.  Needs libvirtd, hence GUEST_TESTS.
if GUEST_TESTS
TESTS += e2e/daemon.sh
endif
EXTRA_DIST += e2e/daemon.sh

# The four places that name omemd.conf's keys (the reader's table, the
# example file, omemd(8), docs/omemd.md) agree on the keys and defaults.
TESTS += docs/config-keys.sh
EXTRA_DIST += docs/config-keys.sh
