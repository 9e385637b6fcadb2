#!/bin/bash
# tests/bench/overcommit-report.sh — bench/overcommit-report.py on a small
# run folder written here, whose figures can be worked out by hand (the
# comments beside the data give them): host memory integrals and peaks,
# stalls against static's median step, completion medians over rounds,
# the density with a gap, a failed run as a row, the ratios, the goal
# lines, the PNGs, and bad input refused with FILE:LINE and exit 2.
# No guest, no root; TAP SKIP without python3-matplotlib.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"

PYTHON=/usr/bin/python3
REPORT=$top_srcdir/bench/overcommit-report.py
"$PYTHON" -c 'import matplotlib' 2>/dev/null ||
    skip_all "$PYTHON cannot import matplotlib (python3-matplotlib, ci/install-deps)"

WORK=$(mktemp -d /tmp/omem-overcommit-report.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
RUN=$WORK/run
mkdir "$RUN"
tab() { local IFS=$'\t'; echo "$*"; }

# ---- the run folder
{
    tab run scenario policy n round budget_mib status reason
    tab a-static-n1-r1 a static 1 1 1024 ok ""
    tab a-balloon-n1-r1 a balloon 1 1 1024 ok ""
    tab a-vmem-n1-r1 a vmem 1 1 1024 ok ""
    tab a-omem-n1-r1 a omem 1 1 1024 ok ""
    tab a-omem-n1-r2 a omem 1 2 1024 ok ""
    tab b-static-n2-r1 b static 2 1 2304 ok ""
    tab b-static-n3-r1 b static 3 1 2304 failed "host over budget: 3 x 1024 MiB > 2304 MiB (not run)"
    tab b-balloon-n2-r1 b balloon 2 1 2304 failed "oom kill in vm1"
    tab b-vmem-n2-r1 b vmem 2 1 2304 ok ""
    tab b-vmem-n3-r1 b vmem 3 1 2304 ok ""
    tab b-omem-n2-r1 b omem 2 1 2304 ok ""
    tab b-omem-n3-r1 b omem 3 1 2304 failed "workload in vm2 did not finish"
    tab b-omem-n4-r1 b omem 4 1 2304 ok ""
} >"$RUN/runs.tsv"

# samples RUN VMS LAST COMMITTED RESIDENT: one sample a second from 0 to
# LAST s; COMMITTED and RESIDENT are awk expressions of t.
samples() {
    local vm
    for vm in $2; do
        awk -v run="$1" -v vm="$vm" -v last="$3" 'BEGIN {
            for (t = 0; t <= last; t++)
                printf "%s\t%d.0\t%s\t%s\t%s\t300\t%s\n", run, t, vm, '"$4"', '"$5"', '"$4"' }'
    done
}
{
    tab run t_s vm committed_mib resident_mib used_mib target_mib
    # a: 10 s.  static 1024 MiB committed = 10 GiB·s, 512 resident = 5;
    # balloon 512 = 5 and 5; vmem 768 = 7.5.  omem's resident grows from
    # 0 to 512 MiB: 2.5 GiB·s, peak 0.50 GiB; committed 256 MiB (2.5
    # GiB·s) in round 1, 384 (3.75) in round 2: the median is 3.125.
    samples a-static-n1-r1 vm0 10 1024 512
    samples a-balloon-n1-r1 vm0 10 512 512
    samples a-vmem-n1-r1 vm0 10 768 512
    samples a-omem-n1-r1 vm0 10 256 't * 51.2'
    samples a-omem-n1-r2 vm0 10 384 't * 51.2'
    # b at 2 VMs, 4 s.  static 2 x 1024 committed = 8 GiB·s, peak 2.00;
    # 2 x 512 resident = 4.  omem the same, but vm1's committed is
    # unknown at t = 4 (it adds nothing): 3 x 2048 + 1536 MiB·s = 7.5.
    samples b-static-n2-r1 "vm0 vm1" 4 1024 512
    samples b-omem-n2-r1 "vm0 vm1" 4 '(vm == "vm1" && t == 4 ? "-" : 1024)' 512
    samples b-vmem-n2-r1 "vm0 vm1" 4 512 512
    samples b-vmem-n3-r1 "vm0 vm1 vm2" 4 512 512
    samples b-omem-n4-r1 "vm0 vm1 vm2 vm3" 4 512 512
} >"$RUN/samples.tsv"

{
    tab run vm job status completion_s oom_kills
    # a: static 10.0 s, balloon 12.0, vmem 11.0; omem 10.2 and 10.4 in
    # two rounds: median 10.3, 1.03x static.
    tab a-static-n1-r1 vm0 job 0 10.0 0
    tab a-balloon-n1-r1 vm0 job 0 12.0 0
    tab a-vmem-n1-r1 vm0 job 0 11.0 0
    tab a-omem-n1-r1 vm0 job 0 10.2 0
    tab a-omem-n1-r2 vm0 job 0 10.4 0
    # b at 2 VMs: static 20 and 22 (median 21), omem 21 and 25 (23, 1.10x);
    # balloon's vm1 was OOM-killed twice.
    tab b-static-n2-r1 vm0 job 0 20 0
    tab b-static-n2-r1 vm1 job 0 22 0
    tab b-balloon-n2-r1 vm0 job 0 20 0
    tab b-balloon-n2-r1 vm1 job 137 9 2
    tab b-vmem-n2-r1 vm0 job 0 20 0
    tab b-vmem-n2-r1 vm1 job 0 20 0
    tab b-omem-n2-r1 vm0 job 0 21 0
    tab b-omem-n2-r1 vm1 job 0 25 0
    tab b-omem-n3-r1 vm2 job lost - -
} >"$RUN/jobs.tsv"

{
    tab run vm job index duration_ms
    # a: static's 20 steps take 100 ms each.  omem's step i takes 100 +
    # 10 i in both rounds: stalls 0..190 twice, p95 (nearest rank, 38th
    # of 40) 180, worst 190, reaction (median of 30..190 twice) 110.
    # balloon's takes 100 + 100 i: p95 1800, worst 1900, reaction 1000.
    for ((i = 0; i < 20; i++)); do
        tab a-static-n1-r1 vm0 job "$i" 100
        tab a-omem-n1-r1 vm0 job "$i" $((100 + 10 * i))
        tab a-omem-n1-r2 vm0 job "$i" $((100 + 10 * i))
        tab a-balloon-n1-r1 vm0 job "$i" $((100 + 100 * i))
    done
    # b: static's step 0 took 100 and 300 ms: the baseline is 200.  omem's
    # 150 (a stall of 0, not -50) and 260 (60).
    tab b-static-n2-r1 vm0 job 0 100
    tab b-static-n2-r1 vm1 job 0 300
    tab b-omem-n2-r1 vm0 job 0 150
    tab b-omem-n2-r1 vm1 job 0 260
} >"$RUN/steps.tsv"

# ---- the report
if "$PYTHON" "$REPORT" "$RUN" --plots "$WORK/img" --img-prefix pics --title "Overcommit" \
        >"$WORK/out.md" 2>"$WORK/err"; then
    ok "the report ran"
else
    not_ok "the report ran" "$(cat "$WORK/err")"
fi
diag "$(cat "$WORK/out.md")"

# has DESCRIPTION TEXT: the report holds the line TEXT exactly.
has() {
    if grep -qxF -- "$2" "$WORK/out.md"; then
        ok "$1"
    else
        not_ok "$1" "no line: $2"
    fi
}
# row DESCRIPTION CELLS...: the report holds the table row of CELLS.
row() {
    local description=$1 line="|"
    shift
    for cell in "$@"; do line="$line $cell |"; done
    has "$description" "$line"
}

has "the title is a heading" "### Overcommit"
has "scenario a has a heading" "### Scenario a: one VM: growth, hold, free, a minute idle"
check "scenarios c and d, without rows, are absent" not grep -q '^### Scenario [cd]' "$WORK/out.md"

row "a, static: completion 10.0 s, no stall" \
    static 1 0/1 0 1/1 10.0 10.0 0 0 —
row "a, omem: completion median 10.3 max 10.4, stall p95 180 worst 190, reaction 110" \
    omem 1 0/2 0 2/2 10.3 10.4 180 190 110
row "a, balloon: stall p95 1800 worst 1900, reaction 1000" \
    "balloon (MOM rules)" 1 0/1 0 1/1 12.0 12.0 1800 1900 1000
row "a, static: 10.0 GiB·s committed, peak 1.00 GiB; 5.0 resident, peak 0.50" \
    static 1 10.0 1.00 5.0 0.50
row "a, omem: committed median 3.1 GiB·s over rounds, resident 2.5 GiB·s peak 0.50" \
    omem 1 3.1 0.31 2.5 0.50
row "a, omem / static: completion 1.03x, committed 0.31x, resident 0.50x" \
    "omem / static" 1 1.03× 0.31× 0.50× —
row "a, omem / balloon: reaction 0.11x" \
    "omem / balloon (MOM rules)" 1 0.86× 0.62× 0.50× 0.11×
row "a, omem / virtio-mem by hand: no reaction of vmem's to compare" \
    "omem / virtio-mem by hand" 1 0.94× 0.42× 0.50× —

row "b, static at 2 VMs: 8.0 GiB·s committed, peak 2.00; stalls against its own median" \
    static 2 8.0 2.00 4.0 1.00
row "b, omem at 2 VMs: an unknown sample adds nothing (7.5 GiB·s)" \
    omem 2 7.5 2.00 4.0 1.00
row "b, omem at 2 VMs: stall clamped at 0, p95 and worst 60 against static's median 200" \
    omem 2 0/1 0 2/2 23.0 25.0 60 60 60
row "b, a failed run is a row of the figures (balloon, 2 OOM kills)" \
    "balloon (MOM rules)" 2 1/1 2 1/2 20.0 20.0 — — —
row "b, static's run that was not run is a row of the figures" \
    static 3 1/1 — 0/0 — — — — —
row "b, the failed runs' table names balloon's reason" \
    b-balloon-n2-r1 "balloon (MOM rules)" 2 1 "oom kill in vm1"
row "b, omem / static at 2 VMs: completion 1.10x, committed 0.94x, reaction 0.60x (static stalls against its own median)" \
    "omem / static" 2 1.10× 0.94× 1.00× 0.60×

row "density at n = 3: static refused, balloon not tried, vmem ok, omem failed" \
    3 "failed: host over budget: 3 x 1024 MiB > 2304 MiB (not run)" — ok \
    "failed: workload in vm2 did not finish"
row "density: omem is ok at 4 after failing at 3, so it sustains 2" omem 2 4
row "density: static sustains 2" static 2 3
row "density: balloon, failed at its smallest n, sustains 0" "balloon (MOM rules)" 0 2
row "density: vmem sustains 3" "virtio-mem by hand" 3 3
has "density ratios: 1.00x static, balloon sustains none" \
    "Density omem / static: 1.00×; omem / balloon: balloon sustains none."

has "memory goal, scenario a: met, each comparison with its values" \
    "- Host memory–time (resident and committed) ≤ 0.6× static at ≤ 5 % longer completion and ≤ 0.8× balloon, scenario a: **met**: static at 1 VM: resident 0.50×, committed 0.31×, completion 1.03× (met); balloon at 1 VM: resident 0.50×, committed 0.62× (met)"
has "memory goal, scenario b: static compared at 2 VMs, balloon not measured (no good run)" \
    "- Host memory–time (resident and committed) ≤ 0.6× static at ≤ 5 % longer completion and ≤ 0.8× balloon, scenario b: **not met**: static at 2 VMs: resident 1.00×, committed 0.94×, completion 1.10× (not met); balloon: no n with a good run of omem and balloon each (not measured)"
has "OOM goal: met where balloon had kills" \
    "- Zero guest OOM kills where balloon has any: **met**: scenario b at 2 VMs (balloon 2): omem 0"
has "density goal: not met at 1.00x static" \
    "- Density ≥ 1.5× static and ≥ 1.2× balloon: **not met**: omem / static: 1.00× (2 / 2 VMs) (not met); omem / balloon: balloon sustains none (2 / 0 VMs) (met)"
has "reaction goal: met at 0.11x in a, and where balloon's workload was OOM-killed" \
    "- Reaction median ≤ 0.25× balloon's: **met**: scenario a at 1 VM: omem 110 ms, balloon 1000 ms, 0.11× (met); scenario b at 2 VMs: omem 60 ms, balloon's workload OOM-killed waiting for memory (met)"
has "the plots are linked under the prefix" "![Scenario a: guest memory per policy](pics/overcommit-a-memory.png)"

for name in overcommit-a-memory overcommit-a-host overcommit-b-memory overcommit-b-host overcommit-density; do
    magic=$(head -c 8 "$WORK/img/$name.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')
    check "$name.png is written and is a PNG" test "$magic" = 89504e470d0a1a0a
done

if "$PYTHON" "$REPORT" "$RUN" >"$WORK/plain.md" 2>&1 && ! grep -q '!\[' "$WORK/plain.md"; then
    ok "without --plots: no image links"
else
    not_ok "without --plots: no image links" "$(cat "$WORK/plain.md")"
fi

# ---- bad input: exit 2 and one line naming FILE:LINE
# refused DESCRIPTION FILE SED-SCRIPT PATTERN: FILE edited by SED-SCRIPT
# (in a copy of the run folder, "delete" removes it) is refused so.
refused() {
    local description=$1 file=$2 edit=$3 pattern=$4 rc=0
    rm -rf "$WORK/bad" && cp -r "$RUN" "$WORK/bad"
    if [ "$edit" = delete ]; then rm "$WORK/bad/$file"; else sed -i "$edit" "$WORK/bad/$file"; fi
    "$PYTHON" "$REPORT" "$WORK/bad" >/dev/null 2>"$WORK/err" || rc=$?
    if [ "$rc" = 2 ] && [ "$(wc -l <"$WORK/err")" = 1 ] && grep -q -- "$pattern" "$WORK/err"; then
        ok "$description: $(cat "$WORK/err")"
    else
        not_ok "$description" "exit $rc, stderr:" "$(cat "$WORK/err")"
    fi
}
refused "a missing file" steps.tsv delete "bad/steps.tsv: cannot read: No such file"
refused "a missing column" runs.tsv '1s/\tbudget_mib//' "bad/runs.tsv:1: no column 'budget_mib'"
refused "a non-number" samples.tsv '3s/\t1\.0\t/\tabc\t/' "bad/samples.tsv:3: column t_s: 'abc' is not a number"
refused "an unknown policy" runs.tsv '3s/\tballoon\t/\txen\t/' "bad/runs.tsv:3: column policy: 'xen' is not one of"
refused "an unknown scenario" runs.tsv '2s/\ta\t/\te\t/' "bad/runs.tsv:2: column scenario: 'e' is not one of"
refused "a run that runs.tsv lacks" jobs.tsv '2s/^a-static-n1-r1/a-nothing/' "bad/jobs.tsv:2: run 'a-nothing' is not in runs.tsv"

done_testing
