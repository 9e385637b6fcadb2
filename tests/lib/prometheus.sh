# tests/lib/prometheus.sh — a real Prometheus for the dashboards' tests.
#
# Sourced by tests/dashboards/*.sh.  Starts Debian's prometheus on a free
# loopback port with its own temporary data folder, omem's console
# templates and libraries (dashboards/) and alert rules, and a short scrape
# and evaluation interval; queries it through its HTTP API.  Prometheus
# runs as a host helper of the script (tests/lib/guest.sh's host_spawn), so
# the harness's exit trap stops it, even when a check failed.
#
# API:
#   prom_require                  skip the whole script without prometheus,
#                                 promtool, curl or jq
#   prom_start TARGET [INTERVAL]  start Prometheus scraping TARGET
#                                 (HOST:PORT, job "omemd"; "none": no
#                                 target) every INTERVAL (default 1s); sets
#                                 PROM_PID, PROM_URL; waits until ready
#   prom_query QUERY              instant query; prints the JSON answer
#   prom_value QUERY              the first sample's value, or nothing
#   prom_stop                     stop it now (the exit trap does it too)
# shellcheck shell=bash

[ -n "${OMEM_PROMETHEUS_LOADED:-}" ] && return 0
OMEM_PROMETHEUS_LOADED=1
# shellcheck source=guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/guest.sh"

: "${PROMETHEUS:=prometheus}"
: "${PROMTOOL:=promtool}"
OMEM_DASHBOARDS=$top_srcdir/dashboards
PROM_PID=
PROM_URL=
PROM_DIR=
# Prometheus 2.42 opens its TSDB and answers /-/ready within a second or
# two; a loaded two-core host may take longer.
PROM_READY_TIMEOUT=60

prom_require() {
    local tool
    for tool in "$PROMETHEUS" "$PROMTOOL" curl jq; do
        command -v "$tool" >/dev/null 2>&1 || skip_all "$tool is not installed (ci/install-deps)"
    done
}

# prom_free_port: a TCP port on 127.0.0.1 nobody listens on now (the
# kernel's pick; there is a short window before Prometheus binds it).
prom_free_port() {
    "$OMEM_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

prom_start() {
    local target=$1 interval=${2:-1s} port
    PROM_DIR=$(mktemp -d /tmp/omem-prometheus.XXXXXX) || return 1
    omem_remove_at_exit "$PROM_DIR"
    {
        echo "global:"
        echo "  scrape_interval: $interval"
        echo "  evaluation_interval: $interval"
        echo "rule_files:"
        echo "  - $OMEM_DASHBOARDS/omem-alerts.yml"
        echo "scrape_configs:"
        echo "  - job_name: omemd"
        if [ "$target" != none ]; then
            echo "    static_configs:"
            echo "      - targets: ['$target']"
        fi
    } >"$PROM_DIR/prometheus.yml"
    port=$(prom_free_port) || return 1
    PROM_URL=http://127.0.0.1:$port
    host_spawn prometheus "$PROMETHEUS" \
        --config.file="$PROM_DIR/prometheus.yml" \
        --storage.tsdb.path="$PROM_DIR/data" \
        --web.listen-address="127.0.0.1:$port" \
        --web.console.templates="$OMEM_DASHBOARDS/consoles" \
        --web.console.libraries="$OMEM_DASHBOARDS/console_libraries" \
        --log.level=warn
    PROM_PID=$HOST_PID
    if ! poll_until "$PROM_READY_TIMEOUT" prom_ready; then
        echo "prom_start: Prometheus not ready on $PROM_URL within ${PROM_READY_TIMEOUT}s:" \
            "$(tail -n 5 "$(host_log_base prometheus).err")" >&2
        return 1
    fi
}

prom_ready() {
    kill -0 "$PROM_PID" 2>/dev/null || return 2
    curl -sf -o /dev/null "$PROM_URL/-/ready"
}

prom_query() {
    curl -s --max-time 10 --data-urlencode "query=$1" "$PROM_URL/api/v1/query"
}

prom_value() {
    prom_query "$1" | jq -r '.data.result[0].value[1] // empty'
}

prom_stop() {
    [ -n "$PROM_PID" ] && omem_stop_pid "$PROM_PID"
    PROM_PID=
}
