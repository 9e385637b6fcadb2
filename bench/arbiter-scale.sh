#!/bin/bash
# bench/arbiter-scale.sh — the arbiter's cost at 10,000 VMs beside 100.
#
# bench/arbiter-scale (a plain program, no guests) runs one random
# workload — demands, guest reports, size events that complete resizes or
# give memory back, a tick per 1000 decisions — against 100 VMs and then against VMS VMs in
# the same process, and prints decisions per second and heap bytes per VM
# (mallinfo2).  The figure is the ratio of the time per decision at VMS to
# the time at 100: victims come from a heap and every global sum is kept
# incrementally, so it must grow like log n (about 2x from 100 to 10,000),
# not like n (100x).  RUNS runs; medians.
#
#   bench/arbiter-scale.sh [--vms N] [--decisions N] [--runs N] [--write]
#
# Needs only a build (make).  A few seconds.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
BENCH_NAME=arbiter-scale
OMEM_PYTHON=/usr/bin/python3
# shellcheck source=lib.sh
. "$top_srcdir/bench/lib.sh"

VMS=10000
DECISIONS=400000
RUNS=5

while [ $# -gt 0 ]; do
    case $1 in
        --vms) VMS=$2; shift 2 ;;
        --decisions) DECISIONS=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --write) BENCH_WRITE=1; shift ;;
        -h|--help) sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        *) bench_die "unknown option $1 (see --help)" ;;
    esac
done

prog=$top_builddir/bench/arbiter-scale
[ -x "$prog" ] || bench_die "$prog not built; run make"

# median of the numbers on stdin
median() {
    sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "–"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m }'
}

runs=$(mktemp)
for run in $(seq "$RUNS"); do
    bench_say "run $run of $RUNS: $VMS VMs and 100, $DECISIONS decisions each"
    "$prog" "$VMS" "$DECISIONS" >"$runs.$run" || bench_die "arbiter-scale failed"
    cat "$runs.$run" >>"$runs"
done
field() {
    awk -v k="$1" '$1 == k { print $2 }' "$runs" | median
}
base_per_s=$(field base_per_s)
base_ns=$(field base_ns)
base_bytes=$(field base_bytes_per_vm)
per_s=$(field per_s)
ns=$(field ns)
bytes=$(field bytes_per_vm)
ratio=$(field ratio)
ratios=$(awk '$1 == "ratio" { printf "%s ", $2 }' "$runs")
grants=$(awk '$1 == "grants" { print $2; exit }' "$runs")
defers=$(awk '$1 == "defers" { print $2; exit }' "$runs")
reclaims=$(awk '$1 == "reclaims" { print $2; exit }' "$runs")
rm -f "$runs" "$runs".*
verdict=$(awk -v r="$ratio" -v n="$VMS" 'BEGIN {
    lg = log(n) / log(100); printf "%s (log n predicts ~%.1fx, a scan %.0fx)", (r <= 2 * lg) ? "grows like log n" : "grows faster than log n", lg, n / 100 }')

section=$(mktemp)
cat >"$section" <<EOF
### Arbiter: decisions at $VMS VMs vs. 100

- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(bench_machine)
- Command: \`bench/arbiter-scale.sh --vms $VMS --decisions $DECISIONS --runs $RUNS\`
- One workload (50% DEMANDs, 30% guest reports, 10% size events completing a resize, 10% a guest giving memory back (size event down to its min), a tick per 1000 decisions), $DECISIONS decisions per run, medians of $RUNS runs; at $VMS VMs the first run made $grants grants, $defers defers and started $reclaims reclaims

| | VMs | decisions/s | ns/decision | heap bytes/VM |
|---|---:|---:|---:|---:|
| baseline | 100 | $base_per_s | $base_ns | $base_bytes |
| scale | $VMS | $per_s | $ns | $bytes |
| **ratio ns/decision** | | | **${ratio}×** | $verdict; runs: $ratios|
EOF
cat "$section"
[ "$BENCH_WRITE" = 1 ] && bench_write_section arbiter-scale "$section" && bench_say "wrote $BENCH_DOC"
rm -f "$section"
exit 0
