#!/bin/bash
# tests/dashboards/scrape.sh — the dashboards on live data: Debian's real
# Prometheus scrapes the real omemd while a real guest grows.
#
# One guest (256 MiB boot, 1 GiB of virtio-mem, omem_client.ko) under
# omemd, whose metrics endpoint is on an ephemeral loopback port;
# Prometheus on another, scraping and evaluating the alert rules every
# second, with dashboards/ as its console folders.  In order:
#   scrape     Prometheus scrapes omemd (up = 1); the host's series are
#              what omemd was given (budget)
#   grow       memload takes 512 MiB: Prometheus has the VM's plugged size
#              as libvirt reports it, its contract figures, an open
#              session, grants, grow resizes and plug and decision latency
#   grafana    every query of the Grafana dashboard runs, the per-VM ones
#              return the guest's series
#   rules      the alert rules are loaded and evaluated without error, and
#              none is pending or firing (the budget has room to spare)
#   console    /consoles/omem.html in headless Chromium: the DOM has the
#              VM's row with the plugged size Prometheus has, and its
#              history graph drawn; a screenshot is kept as
#              logs/DOMAIN.console.png
#   down       omemd stopped: up = 0 and OmemdDown is pending
# Everything started here (guest, omemd, Prometheus, Chromium) is stopped
# by the harness's exit trap, even when a check failed.  Its omemd manages
# only this script's guest.  ~30 to 50 s under TCG.  TAP on stdout.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
# shellcheck source=../lib/omem.sh
. "$top_srcdir/tests/lib/omem.sh"
# shellcheck source=../lib/prometheus.sh
. "$top_srcdir/tests/lib/prometheus.sh"

MIB=$((1024 * 1024))
BOOT_MIB=256
VMEM_MIB=1024
LOAD_MIB=512
# omemd's default QEMU overhead per VM (docs/arbiter.md).  The budget
# holds the whole guest and 512 MiB more, so only the workload limits and
# the budget stays below OmemBudgetNearlyExhausted's 90 % even with every
# block plugged (the module asks ahead of its workload).
OVERHEAD_MIB=128
BUDGET_MIB=$((BOOT_MIB + VMEM_MIB + OVERHEAD_MIB + 512))
BOOT_TIMEOUT=120
ATTACH_TIMEOUT=60
GROW_TIMEOUT=180
# Prometheus scrapes every second; a loaded host may delay a few.
SCRAPE_TIMEOUT=30
CHROMIUM_TIMEOUT=60
: "${CHROMIUM:=chromium}"

# prom_is QUERY VALUE: the query's first value is VALUE (for poll_until).
prom_is() {
    [ "$(prom_value "$1")" = "$2" ]
}

# prom_positive QUERY: the query's first value is above 0.
prom_positive() {
    local value
    value=$(prom_value "$1")
    [ -n "$value" ] && awk -v v="$value" 'BEGIN { exit !(v > 0) }'
}

# plugged_agrees: Prometheus's last sample of the VM's plugged size is what
# libvirt reports now (both lag the guest by up to a second).
plugged_agrees() {
    local libvirt prom
    libvirt=$(omem_plugged_mib "$GUEST") || return 1
    prom=$(prom_value "omem_vm_plugged_bytes{domain=\"$GUEST\"}")
    PLUGGED_SEEN="libvirt ${libvirt} MiB, Prometheus ${prom:-none}"
    [ -n "$prom" ] && [ "$libvirt" -ge $((LOAD_MIB / 2)) ] && [ "$prom" = $((libvirt * MIB)) ]
}

# chromium_run ARGS...: headless Chromium on its own profile (root needs
# --no-sandbox), bounded; its messages go to the logs folder.  The virtual
# time budget lets the page's script fetch and draw its graphs before the
# DOM is dumped or the screenshot taken.
chromium_run() {
    HOME=$WORK timeout "$CHROMIUM_TIMEOUT" "$CHROMIUM" --headless --no-sandbox --disable-gpu \
        --user-data-dir="$WORK/chromium" --no-first-run --virtual-time-budget=10000 \
        "$@" 2>>"$(host_log_base chromium).err"
}

# ---------------------------------------------------------------- main

guest_require_host
prom_require
omemd_built || skip_all "host-server/omemd is not built"
script_start=$(omem_now)
WORK=$(mktemp -d /tmp/omem-dashboards-scrape.XXXXXX)
omem_remove_at_exit "$WORK"

guest_start dashboards --boot-mib "$BOOT_MIB" --vmem-mib "$VMEM_MIB" ||
    bail_out "could not start the guest"
guest_boot_ok "the guest boots" "$script_start" "$BOOT_TIMEOUT" client "$GUEST"

printf '[host]\nbudget = %dM\n[metrics]\nlisten = 127.0.0.1:0\n' "$BUDGET_MIB" >"$WORK/omemd.conf"
if ! omemd_start --config "$WORK/omemd.conf"; then
    not_ok "omemd starts" "$(omemd_log | tail -n 5)"
    bail_out "no omemd, nothing else to test"
fi
if omem_wait_session "$GUEST" "$ATTACH_TIMEOUT"; then
    ok "omemd attaches the guest and its module opens a session"
else
    not_ok "omemd attaches the guest and its module opens a session" "$(omemd_log | tail -n 10)"
    bail_out "no session, nothing to scrape"
fi
METRICS_PORT=$(omemd_log | sed -n 's/.*metrics: GET \/metrics on .* (port \([0-9]*\)).*/\1/p' | tail -n 1)
[ -n "$METRICS_PORT" ] && [ "$METRICS_PORT" != 0 ] ||
    bail_out "omemd logs no metrics port: $(omemd_log | tail -n 5)"
diag "omemd serves /metrics on 127.0.0.1:$METRICS_PORT"

# ---- scrape
if ! prom_start "127.0.0.1:$METRICS_PORT" 1s; then
    not_ok "Prometheus starts on loopback" "$(tail -n 5 "$(host_log_base prometheus).err")"
    bail_out "no Prometheus"
fi
diag "Prometheus on $PROM_URL, scraping every second"
start=$(omem_now)
if poll_until "$SCRAPE_TIMEOUT" prom_is 'up{job="omemd"}' 1; then
    ok "Prometheus scrapes omemd: up{job=\"omemd\"} = 1 ($(omem_elapsed "$start")s)"
else
    not_ok "Prometheus scrapes omemd" \
        "$(curl -s "$PROM_URL/api/v1/targets" | jq -c '.data.activeTargets[] | [.scrapeUrl, .health, .lastError]')"
    bail_out "nothing scraped"
fi
value=$(prom_value 'omem_host_budget_bytes{job="omemd"}')
check "omem_host_budget_bytes is the configured $BUDGET_MIB MiB (${value:-none})" \
    test "${value:-0}" = $((BUDGET_MIB * MIB))
value=$(prom_value 'omem_vms{job="omemd"}')
check "omem_vms is 1 (${value:-none})" test "${value:-0}" = 1

# ---- grow
memload_spawn "$GUEST" grow "--size ${LOAD_MIB}M --step 64M --interval 200ms --hold forever --release-file /tmp/grow.release"
start=$(omem_now)
if poll_until "$GROW_TIMEOUT" memload_holding "$GUEST" grow; then
    ok "memload takes $LOAD_MIB MiB on the $BOOT_MIB MiB guest ($(omem_elapsed "$start")s)"
else
    not_ok "memload takes $LOAD_MIB MiB on the $BOOT_MIB MiB guest" \
        "status $(guest_job_status "$GUEST" grow)" "$(memload_tail "$GUEST" grow)"
fi
PLUGGED_SEEN=
if poll_until "$SCRAPE_TIMEOUT" plugged_agrees; then
    ok "Prometheus has the VM's plugged size as libvirt reports it ($PLUGGED_SEEN)"
else
    not_ok "Prometheus has the VM's plugged size as libvirt reports it" "$PLUGGED_SEEN"
fi
vm="domain=\"$GUEST\""
value=$(prom_value "omem_vm_boot_bytes{$vm}")
check "omem_vm_boot_bytes is $BOOT_MIB MiB (${value:-none})" test "${value:-0}" = $((BOOT_MIB * MIB))
value=$(prom_value "omem_vm_max_bytes{$vm}")
check "omem_vm_max_bytes is $((BOOT_MIB + VMEM_MIB)) MiB (${value:-none})" \
    test "${value:-0}" = $(((BOOT_MIB + VMEM_MIB) * MIB))
check "omem_vm_session_open is 1" prom_is "omem_vm_session_open{$vm}" 1
check "the guest's own figures are scraped (omem_vm_guest_available_bytes > 0)" \
    prom_positive "omem_vm_guest_available_bytes{$vm}"
check "DEMANDs were granted (omem_grants_total{result=~\"grant|partial\"} > 0)" \
    prom_positive 'sum(omem_grants_total{result=~"grant|partial"})'
check "the VM was resized up (omem_resizes_total{direction=\"grow\"} > 0)" \
    prom_positive 'omem_resizes_total{direction="grow"}'
check "plugs were timed (omem_plug_duration_seconds_count > 0)" \
    prom_positive 'omem_plug_duration_seconds_count'
check "decisions were timed (omem_decision_duration_seconds_count > 0)" \
    prom_positive 'omem_decision_duration_seconds_count'
# The history is there for the time-series panels, not only the last
# sample: one sample a second since the guest's session opened.
history_kept() {
    local samples
    samples=$(prom_value "count_over_time(omem_vm_plugged_bytes{$vm}[5m])")
    [ "${samples:-0}" -ge 5 ]
}
if poll_until "$SCRAPE_TIMEOUT" history_kept; then
    ok "Prometheus keeps the plugged size's history ($(prom_value "count_over_time(omem_vm_plugged_bytes{$vm}[5m])") samples)"
else
    not_ok "Prometheus keeps the plugged size's history" \
        "$(prom_value "count_over_time(omem_vm_plugged_bytes{$vm}[5m])") samples in 5 minutes"
fi

# ---- grafana
failed=
empty=
count=0
while IFS= read -r expr; do
    count=$((count + 1))
    answer=$(prom_query "$expr")
    if [ "$(jq -r .status <<<"$answer")" != success ]; then
        failed="$failed
$expr: $(jq -r .error <<<"$answer")"
    elif [[ $expr == *"$GUEST"* ]] && [ "$(jq '.data.result | length' <<<"$answer")" = 0 ]; then
        empty="$empty
$expr"
    fi
done < <(jq -r '.panels[].targets[]?.expr' "$OMEM_DASHBOARDS/grafana/omem.json" |
    sed -e 's/\$__rate_interval/1m/g' -e "s/\\\$instance/127.0.0.1:$METRICS_PORT/g" -e "s/\\\$domain/$GUEST/g")
if [ -z "$failed" ] && [ "$count" -gt 0 ]; then
    ok "all $count queries of the Grafana dashboard run on the scraped data"
else
    not_ok "all $count queries of the Grafana dashboard run on the scraped data" "$failed"
fi
check "the per-VM queries return the guest's series${empty:+:$empty}" test -z "$empty"

# ---- rules
rules=$(curl -s "$PROM_URL/api/v1/rules")
expected=$(grep -c '^ *- alert: ' "$OMEM_DASHBOARDS/omem-alerts.yml")
value=$(jq '[.data.groups[] | select(.name == "omem") | .rules[] | select(.health == "ok")] | length' <<<"$rules")
check "Prometheus evaluates the $expected omem alert rules without error ($value healthy)" \
    test "$value" = "$expected"
firing=$(prom_query 'ALERTS{alertname=~"Omem.*"}' | jq -r '.data.result[].metric | "\(.alertname) \(.alertstate)"')
check "no omem alert fires or is pending while all is well${firing:+ ($firing)}" test -z "$firing"

# ---- console
code=$(curl -s -o "$WORK/page.html" -w '%{http_code}' "$PROM_URL/consoles/omem.html")
check "GET /consoles/omem.html answers 200 (got $code)" test "$code" = 200
if ! command -v "$CHROMIUM" >/dev/null 2>&1; then
    skip "headless Chromium renders the console page" "$CHROMIUM is not installed (ci/install-deps)"
else
    before=$(prom_value "omem_vm_plugged_bytes{$vm}")
    status=0
    chromium_run --dump-dom "$PROM_URL/consoles/omem.html" >"$WORK/dom.html" || status=$?
    after=$(prom_value "omem_vm_plugged_bytes{$vm}")
    cp "$WORK/dom.html" "$OMEM_TEST_LOGDIR/$GUEST.console.dom.html"
    check "chromium --headless --dump-dom loads the page (exit $status)" \
        sh -c "[ $status = 0 ] && grep -q '</html>' '$WORK/dom.html'"
    # The VM's row: its name as text, and the plugged size Prometheus had
    # at the time (the page renders it into data-plugged-bytes).
    row=$(tr -d '\n' <"$WORK/dom.html" | grep -o "<tr data-domain=\"$GUEST\"[^>]*>.*" | sed 's|</tr>.*||')
    shown=$(sed -n 's/.*data-plugged-bytes="\([0-9]*\)".*/\1/p' <<<"$row")
    check "the DOM has the VM's row with its name" grep -q "<td class=\"name\">$GUEST</td>" <<<"$row"
    check "the row shows the plugged size Prometheus has (page $shown, query $before / $after)" \
        sh -c "[ -n '$shown' ] && { [ '$shown' = '$before' ] || [ '$shown' = '$after' ]; }"
    # As Prometheus's humanize1024 writes it (%.4g of the largest unit).
    human=$(awk -v v="${shown:-0}" 'BEGIN { split("Ki Mi Gi Ti", unit, " "); u = "";
        for (i = 1; i <= 4 && v >= 1024; i++) { v /= 1024; u = unit[i] } printf "%.4g%sB", v, u }')
    check "the row shows it for people too ($human)" grep -q "<td class=\"plugged\">$human</td>" <<<"$row"
    check "the host table shows the budget ($BUDGET_MIB MiB)" \
        grep -q "data-bytes=\"$((BUDGET_MIB * MIB))\"" "$WORK/dom.html"
    # The history graphs, drawn by the page's script from query_range.
    points=$(grep -o "<div class=\"graph\" data-title=\"$GUEST\"[^>]*>" "$WORK/dom.html" |
        sed -n 's/.*data-points="\([0-9]*\)".*/\1/p')
    check "the VM's history graph is drawn (${points:-no} points)" test "${points:-0}" -gt 0
    errors=$(grep -o 'data-error="[^"]*"' "$WORK/dom.html")
    graphs=$(grep -c '<polyline' <<<"$(sed 's/<polyline/\n<polyline/g' "$WORK/dom.html")")
    check "every graph's queries answer (${graphs} lines drawn)${errors:+: $errors}" test -z "$errors"
    shot=$OMEM_TEST_LOGDIR/$GUEST.console.png
    status=0
    chromium_run --window-size=1400,2800 --hide-scrollbars --screenshot="$shot" \
        "$PROM_URL/consoles/omem.html" >/dev/null || status=$?
    check "a screenshot of the page is written ($shot, exit $status)" \
        sh -c "[ $status = 0 ] && head -c 8 '$shot' | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a'"
fi

guest_run "$GUEST" "touch /tmp/grow.release" 30 >/dev/null
poll_until 60 guest_job_ended "$GUEST" grow ||
    diag "memload did not end after its release file: $(memload_tail "$GUEST" grow)"

# ---- down
omemd_stop >/dev/null
diag "omemd stopped"
start=$(omem_now)
check "Prometheus sees omemd gone (up = 0)" poll_until "$SCRAPE_TIMEOUT" prom_is 'up{job="omemd"}' 0
if poll_until "$SCRAPE_TIMEOUT" prom_is 'count(ALERTS{alertname="OmemdDown",alertstate="pending"})' 1; then
    ok "OmemdDown is pending ($(omem_elapsed "$start")s after the stop)"
else
    not_ok "OmemdDown is pending" "$(prom_query 'ALERTS' | jq -c .data.result)"
fi
prom_stop
diag "whole dashboards scenario: $(omem_elapsed "$script_start")s"
done_testing
