#!/bin/bash
# tests/dashboards/rules.sh — dashboards/ against Debian's real Prometheus,
# without omemd or a guest (so it runs in make distcheck too, ~10 s):
#   rules      promtool check rules, and the rules' unit tests
#              (promtool test rules dashboards/omem-alerts.test.yml)
#   config     promtool check config accepts the shipped prometheus.yml
#              (its rule file pointed at the source tree)
#   grafana    the dashboard is JSON, every panel takes the datasource
#              variable, and every query in it parses and runs on a real
#              Prometheus (the variables replaced by what Grafana sends)
#   live       that Prometheus loads the alert rules and evaluates each
#              without error; the console page renders (no target: it
#              says so) and its graphs' queries run
# The real-guest half is tests/dashboards/scrape.sh.  TAP on stdout.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
# Nothing of this script stays in the build tree (make distcheck checks
# that distclean leaves it empty): helpers' logs go to a scratch folder.
OMEM_TEST_LOGDIR=$(mktemp -d /tmp/omem-dashboards-rules.XXXXXX)
# shellcheck source=../lib/prometheus.sh
. "$top_srcdir/tests/lib/prometheus.sh"
omem_remove_at_exit "$OMEM_TEST_LOGDIR"

prom_require
GRAFANA=$OMEM_DASHBOARDS/grafana/omem.json
CONFIG=$top_builddir/dashboards/prometheus.yml

# ---- rules
check "promtool check rules accepts omem-alerts.yml" \
    "$PROMTOOL" check rules "$OMEM_DASHBOARDS/omem-alerts.yml"
check "the rules' unit tests pass (promtool test rules omem-alerts.test.yml)" \
    "$PROMTOOL" test rules "$OMEM_DASHBOARDS/omem-alerts.test.yml"
names=$(sed -n 's/^ *- alert: *//p' "$OMEM_DASHBOARDS/omem-alerts.yml" | sort | paste -sd ' ')
documented=$(sed -n 's/^| `\(Omem[A-Za-z]*\)` |.*/\1/p' "$top_srcdir/docs/dashboards.md" | sort | paste -sd ' ')
check "the rule file has the alerts docs/dashboards.md lists ($names)" \
    test -n "$names" -a "$names" = "$documented"
RULES=$(wc -w <<<"$names")
# Every alert has at least one case in the unit tests.
untested=
for name in $names; do
    grep -q "alertname: $name\$" "$OMEM_DASHBOARDS/omem-alerts.test.yml" || untested="$untested $name"
done
check "every alert has a unit test${untested:+ (not:$untested)}" test -z "$untested"

# ---- config
if [ -f "$CONFIG" ]; then
    WORK=$(mktemp -d /tmp/omem-dashboards-config.XXXXXX)
    omem_remove_at_exit "$WORK"
    sed "s|^\( *- \).*/omem-alerts.yml\$|\1$OMEM_DASHBOARDS/omem-alerts.yml|" "$CONFIG" >"$WORK/prometheus.yml"
    check "promtool check config accepts prometheus.yml" \
        "$PROMTOOL" check config "$WORK/prometheus.yml"
    check "prometheus.yml scrapes job omemd on 127.0.0.1:9848" \
        grep -q "targets: \['127.0.0.1:9848'\]" "$CONFIG"
else
    not_ok "dashboards/prometheus.yml is built" "missing: $CONFIG (make -C dashboards)"
fi

# ---- grafana
if jq -e . "$GRAFANA" >/dev/null 2>&1; then
    ok "grafana/omem.json is JSON"
else
    not_ok "grafana/omem.json is JSON" "$(jq . "$GRAFANA" 2>&1 | tail -n 2)"
fi
bad=$(jq -r '.panels[] | select(.type != "row") | select(.datasource.uid != "${datasource}" or ([.targets[].datasource.uid] | unique) != ["${datasource}"]) | .title' "$GRAFANA")
check "every panel and query takes the \$datasource variable${bad:+ (not: $bad)}" test -z "$bad"
panels=$(jq '[.panels[] | select(.type != "row")] | length' "$GRAFANA")
check "the dashboard has panels ($panels)" test "${panels:-0}" -ge 10

# grafana_exprs: every query of the dashboard, one per line, with Grafana's
# variables as Grafana would send them for "All" and a 1-minute interval.
grafana_exprs() {
    jq -r '.panels[].targets[]?.expr' "$GRAFANA" |
        sed -e 's/\$__rate_interval/1m/g' -e 's/\$instance/.*/g' -e 's/\$domain/.*/g'
}

# ---- live
if ! prom_start none; then
    not_ok "Prometheus starts on loopback" "$(tail -n 5 "$(host_log_base prometheus).err")"
    bail_out "no Prometheus"
fi
ok "Prometheus starts on $PROM_URL with dashboards/ as its console folders"

failed=
while IFS= read -r expr; do
    status=$(prom_query "$expr" | jq -r .status)
    [ "$status" = success ] || failed="$failed
$expr: $(prom_query "$expr" | jq -r .error)"
done < <(grafana_exprs)
count=$(grafana_exprs | wc -l)
if [ -z "$failed" ] && [ "$count" -gt 0 ]; then
    ok "all $count queries of the Grafana dashboard run on Prometheus"
else
    not_ok "all $count queries of the Grafana dashboard run on Prometheus" "$failed"
fi

# rules_evaluated: Prometheus has the omem group and has evaluated each rule.
rules_evaluated() {
    curl -s "$PROM_URL/api/v1/rules" >"$OMEM_TEST_LOGDIR/rules.json" &&
        jq -e '[.data.groups[] | select(.name == "omem") | .rules[]
                | select(.lastEvaluation != "0001-01-01T00:00:00Z")] | length == '"$RULES" \
            "$OMEM_TEST_LOGDIR/rules.json" >/dev/null
}
if poll_until 20 rules_evaluated; then
    unhealthy=$(jq -r '.data.groups[].rules[] | select(.health != "ok") | "\(.name): \(.lastError)"' \
        "$OMEM_TEST_LOGDIR/rules.json")
    check "Prometheus evaluates all $RULES alert rules without error${unhealthy:+ ($unhealthy)}" test -z "$unhealthy"
else
    not_ok "Prometheus loads and evaluates the $RULES alert rules" "$(head -c 600 "$OMEM_TEST_LOGDIR/rules.json")"
fi

code=$(curl -s -o "$OMEM_TEST_LOGDIR/page.html" -w '%{http_code}' "$PROM_URL/consoles/omem.html")
check "GET /consoles/omem.html answers 200 (got $code)" test "$code" = 200
check "with no target the page says so" \
    grep -q 'no target of job "omemd"' "$OMEM_TEST_LOGDIR/page.html"
# The graphs' queries run in the browser: run them here too.
failed=
count=0
while IFS= read -r expr; do
    count=$((count + 1))
    answer=$(curl -s --max-time 10 --data-urlencode "query=$expr" --data-urlencode start=0 \
        --data-urlencode end=60 --data-urlencode step=15 "$PROM_URL/api/v1/query_range")
    [ "$(jq -r .status <<<"$answer")" = success ] || failed="$failed
$expr: $(jq -r .error <<<"$answer")"
done < <("$OMEM_PYTHON" -c 'import html, re, sys
for query in re.findall(r"data-query=\"([^\"]*)\"", open(sys.argv[1]).read()):
    print(html.unescape(query))' "$OMEM_TEST_LOGDIR/page.html")
if [ -z "$failed" ] && [ "$count" -gt 0 ]; then
    ok "the $count queries of the page's graphs run on Prometheus"
else
    not_ok "the $count queries of the page's graphs run on Prometheus" "$failed"
fi
check "the page has every section" sh -c "for id in omemd host vms grants reclaims latency plug-histogram decision-histogram trust alerts; do
    grep -q \"<table id=\\\"\$id\\\">\" '$OMEM_TEST_LOGDIR/page.html' || { echo \"no table \$id\"; exit 1; }; done"

done_testing
