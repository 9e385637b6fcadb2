#!/bin/bash
# bench/fleet-sim.sh — how many VMs a host carries at zero simulated OOM
# under static sizing, a MOM-like balloon policy and omem's real arbiter
# (bench/fleet-sim, a plain program: no guests, no root).  Every figure is
# SIMULATED; bench/fleet-sim.c says what the workload model is and where
# its shape comes from.  It runs twice, with bursts that reach their peak
# in RAMP_FAST and in RAMP_SLOW seconds, because how fast a workload grows
# decides whether a polling balloon policy can follow it at all.
#
#   bench/fleet-sim.sh [--hosts N] [--hours H] [--host-gib G] [--write]
#
# Needs only a build (make).  About half a minute with the defaults.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
BENCH_NAME=fleet-sim
OMEM_PYTHON=/usr/bin/python3
# shellcheck source=lib.sh
. "$top_srcdir/bench/lib.sh"

HOSTS=16
HOURS=24
HOST_GIB=512
RAMP_FAST=60
RAMP_SLOW=300

while [ $# -gt 0 ]; do
    case $1 in
        --hosts) HOSTS=$2; shift 2 ;;
        --hours) HOURS=$2; shift 2 ;;
        --host-gib) HOST_GIB=$2; shift 2 ;;
        --write) BENCH_WRITE=1; shift ;;
        -h|--help) sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        *) bench_die "unknown option $1 (see --help)" ;;
    esac
done

prog=$top_builddir/bench/fleet-sim
[ -x "$prog" ] || bench_die "$prog not built; run make"

out=$(mktemp)
trap 'rm -f "$out" "$out".*' EXIT
for ramp in "$RAMP_FAST" "$RAMP_SLOW"; do
    bench_say "$HOSTS hosts of $HOST_GIB GiB, $HOURS h, bursts ramping in $ramp s"
    "$prog" --hosts "$HOSTS" --hours "$HOURS" --host-gib "$HOST_GIB" --burst-ramp-s "$ramp" \
        >"$out.$ramp" || bench_die "fleet-sim failed"
done
field() {
    awk -v k="$2" '$1 == k { print $2 }' "$out.$1"
}
row() {
    local ramp=$1 s b o
    s=$(field "$ramp" static_vms_per_host)
    b=$(field "$ramp" balloon_vms_per_host)
    o=$(field "$ramp" omem_vms_per_host)
    echo "| bursts reach their peak in $ramp s | $s | $b | $o | $(field "$ramp" omem_over_static)× | $(awk -v o="$o" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f×", o / b; else print "balloon sustains none" }') |"
}
verdict() {
    awk -v os="$(field "$RAMP_SLOW" omem_over_static)" -v o="$(field "$RAMP_SLOW" omem_vms_per_host)" \
        -v b="$(field "$RAMP_SLOW" balloon_vms_per_host)" 'BEGIN {
        ob = 0
        if (b > 0) ob = o / b
        printf "density >= 1.5x static: %s (%.2fx); >= 1.2x balloon with slow bursts: %s (%.2fx)",
            (os >= 1.5) ? "met" : "not met", os, (ob >= 1.2) ? "met" : "not met", ob }'
}

section=$(mktemp)
cat >"$section" <<EOF
### Fleet simulation: VMs per host at zero simulated OOM

- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); command: \`bench/fleet-sim.sh --hosts $HOSTS --hours $HOURS --host-gib $HOST_GIB\`
- **Simulated**, not measured on guests: $HOSTS hosts of $HOST_GIB GiB, $HOURS simulated hours in 5 s steps, each host its own seeded VMs (flavors 2-32 GiB, peaks at 15-100 % of the flavor with half of them under 50 %, a diurnal swing, about four bursts a day to the peak; the model and its sources are in \`bench/fleet-sim.c\`).  omem is omemd's real arbiter (\`libomem-arbiter\`, linked) with the guest module's side simulated; balloon follows oVirt MOM's defaults (sample 5 s, decide 10 s, aim at 20 % free, move at most 5 % of a VM per step); static gives every VM its flavor.  A density is the largest VM count per host at which no VM on any host was ever short of memory and no host held more than it has.

| workload | static | balloon | omem | omem / static | omem / balloon |
|---|---:|---:|---:|---:|---:|
$(row "$RAMP_FAST")
$(row "$RAMP_SLOW")

- Verdict: $(verdict).  With bursts that reach their peak within a minute the balloon policy, moving 5 % of a VM per 10 s, falls behind the first burst on some host at every density; omem grants on the guest's own DEMAND within a step.
EOF
cat "$section"
[ "$BENCH_WRITE" = 1 ] && bench_write_section fleet-sim "$section" && bench_say "wrote $BENCH_DOC"
rm -f "$section"
exit 0
