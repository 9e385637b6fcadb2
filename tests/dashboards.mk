# The dashboards (dashboards/, docs/dashboards.md) against Debian's real
# Prometheus.  Included by tests/Makefile.am.
#
# dashboards/rules.sh needs no guest (~2 s, so make distcheck runs it too):
# promtool check rules / test rules / check config, the Grafana
# dashboard's queries run on a real Prometheus, the rules evaluated, the
# console page served.  TAP SKIP without prometheus, promtool, curl or jq.
#
# dashboards/scrape.sh is a real-guest scenario (~30 to 50 s under
# TCG): one guest with omem_client.ko grows under omemd while Prometheus
# scrapes it every second; the series come back through the HTTP API, the
# console page renders the VM in headless Chromium (DOM checked,
# screenshot kept in the logs folder), and stopping omemd makes OmemdDown
# pending.  Its omemd manages only the script's own guest (--domains), so
# it may run beside the other real-guest scripts.
DASHBOARD_TESTS = dashboards/rules.sh
DASHBOARD_SCENARIOS = dashboards/scrape.sh

TESTS += $(DASHBOARD_TESTS)
if GUEST_TESTS
TESTS += $(DASHBOARD_SCENARIOS)
endif

EXTRA_DIST += $(DASHBOARD_TESTS) $(DASHBOARD_SCENARIOS) lib/prometheus.sh
