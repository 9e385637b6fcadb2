#!/bin/bash
# tests/bench/giveback-report.sh — bench/giveback-report.py on a run
# folder written here, whose figures can be worked out by hand (the
# comments beside the data give them): bursts found in the used memory,
# the first burst's peaks and the goal's bound, the give-back time, the
# unplug-and-re-plug cycles between returns, memory-time, ratios to
# static, the goal lines, a failed run, and bad input refused with
# FILE:LINE.  No guest, no root.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"

PYTHON=/usr/bin/python3
REPORT=$top_srcdir/bench/giveback-report.py
WORK=$(mktemp -d /tmp/omem-giveback-report.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
RUN=$WORK/run
mkdir "$RUN"
tab() { local IFS=$'\t'; echo "$*"; }

{
    tab run config round status reason
    tab static-r1 static 1 ok ""
    tab omem-fixed-r1 omem-fixed 1 ok ""
    tab omem-r1 omem 1 ok ""
    tab omem-r2 omem 2 failed "oom kill (1)"
} >"$RUN/runs.tsv"

# One sample a second, t = 0..100.  Used: 50 MiB, 690 MiB for t = 5..20
# (the first burst), 500 MiB for t = 40..47, 60..67 and 80..87 (three
# returns, two gaps between them).  Committed: static 1024 throughout;
# omem-fixed 1024 up to t = 35, then 384, 768 in the returns and back to
# 384 in each gap (two cycles); omem 1024 up to t = 25, 384 from 26, 768
# from the second return on (one cycle, in the first gap).  Resident is
# half of committed.
awk 'function used(t) {
         if (t >= 5 && t <= 20) return 690
         if ((t >= 40 && t <= 47) || (t >= 60 && t <= 67) || (t >= 80 && t <= 87)) return 500
         return 50 }
     function ret(t) { return (t >= 40 && t <= 50) || (t >= 60 && t <= 70) || (t >= 80 && t <= 90) }
     function fixed(t) { if (t < 5) return 256; if (t <= 35) return 1024; return ret(t) ? 768 : 384 }
     function adaptive(t) { if (t < 5) return 256; if (t <= 25) return 1024
         if (t >= 60) return 768; return ret(t) ? 768 : 384 }
     BEGIN {
         print "run\tt_s\tvm\tcommitted_mib\tresident_mib\tused_mib\ttarget_mib"
         for (t = 0; t <= 100; t++) {
             printf "static-r1\t%d.0\tvm0\t1024\t512\t%d\t-\n", t, used(t)
             printf "omem-fixed-r1\t%d.0\tvm0\t%d\t%d\t%d\t-\n", t, fixed(t), fixed(t) / 2, used(t)
             printf "omem-r1\t%d.0\tvm0\t%d\t%d\t%d\t-\n", t, adaptive(t), adaptive(t) / 2, used(t)
         }
     }' >"$RUN/samples.tsv"
{
    tab run vm job index duration_ms
    tab static-r1 vm0 job 0 100
    tab static-r1 vm0 job 1 100
    tab omem-fixed-r1 vm0 job 0 100
    tab omem-fixed-r1 vm0 job 1 150
    tab omem-r1 vm0 job 0 100
    tab omem-r1 vm0 job 1 300
} >"$RUN/steps.tsv"
printf '10.00 start\n50.00 burst 1\n100.00 end\n' >"$RUN/static-r1.job.log"      # 90 s
printf '10.00 start\n109.00 end\n' >"$RUN/omem-fixed-r1.job.log"                  # 99 s
printf '10.00 start\nnot a stamp\n105.50 end\n' >"$RUN/omem-r1.job.log"           # 95.5 s

report() { "$PYTHON" "$REPORT" "$1" --boot-mib 256 --buffer-percent 10 --step-mib 128; }
out=$(report "$RUN" 2>"$WORK/err")
rc=$?
check "the report exits 0 ($(head -c 200 "$WORK/err"))" test "$rc" = 0
row() { grep -F "| $1 |" <<<"$out"; }
diag "$(row 'completion (s)')"

check "completion: 90.0, 99.0 (1.10×), 95.5 (1.06×): the job log's first to last stamp" \
    test "$(row 'completion (s)')" = "| completion (s) | 90.0 | 99.0 (1.10×) | 95.5 (1.06×) |"
check "growth: the steps' sum, 0.2, 0.2 (1.25×), 0.4 (2.00×) s" \
    test "$(row "growth, the steps' sum (s)")" = "| growth, the steps' sum (s) | 0.2 | 0.2 (1.25×) | 0.4 (2.00×) |"
check "slowest step: 100, 150 (1.50×), 300 (3.00×) ms" \
    test "$(row 'slowest step (ms)')" = "| slowest step (ms) | 100 | 150 (1.50×) | 300 (3.00×) |"
check "the first burst's used peak is 690 MiB in every column" \
    test "$(row 'first burst: used peak (MiB)')" = "| first burst: used peak (MiB) | 690 | 690 | 690 |"
check "the first burst's committed peak is 1024 MiB in every column" \
    test "$(row 'first burst: committed peak (MiB)')" = "| first burst: committed peak (MiB) | 1024 | 1024 | 1024 |"
check "the bound: 690 + 10 % of 1024 + 128 = 920 MiB" \
    grep -qF "| ... the goal's bound: used + buffer + one grant step (MiB) | 920 | 920 | 920 |" <<<"$out"
check "give-back: static at once, the fixed hold 15 s (t 21 -> 36), the adaptive 5 s (21 -> 26)" \
    test "$(row 'give-back: burst over to the idle level (s)')" = "| give-back: burst over to the idle level (s) | 0.0 | 15.0 | 5.0 |"
check "the idle level: 1024, 384, 384 MiB" \
    test "$(row 'idle level, committed (MiB)')" = "| idle level, committed (MiB) | 1024 | 384 | 384 |"
check "cycles between returns: static 0 of 2, fixed 2 of 2, adaptive 1 of 2" \
    test "$(row 'returns: gaps with an unplug and a re-plug')" = "| returns: gaps with an unplug and a re-plug | 0 of 2 | 2 of 2 | 1 of 2 |"
check "memory-time: static 100 GiB·s committed (1024 MiB over 100 s)" \
    eval 'row "committed (GiB·s)" | grep -q "^| committed (GiB·s) | 100\.0 | "'
check "memory-time: static 50 GiB·s resident" \
    eval 'row "resident (GiB·s)" | grep -q "^| resident (GiB·s) | 50\.0 | "'
check "good runs: 1/1, 1/1, 1/2 (a failed omem run counts)" \
    test "$(row 'good runs')" = "| good runs | 1/1 | 1/1 | 1/2 |"
check "the failed run is listed with its reason" grep -qF "Failed runs: omem-r2 (oom kill (1))." <<<"$out"
check "goal: overshoot not met (1024 > 920)" \
    grep -qF -- "- Overshoot: committed at the first burst's peak ≤ used + buffer + one grant step: **not met** (1024 ≤ 920 MiB)" <<<"$out"
check "goal: give-back met (5.0 s; fixed 15.0 s)" \
    grep -qF -- "- Give-back within 10 s: **met** (5.0 s; the fixed hold: 15.0 s)" <<<"$out"
check "goal: flapping met (1 of 2 gaps against the fixed hold's 2)" \
    grep -qF -- "- No flapping when the workload returns: **met** (unplug and re-plug in 1 of 2 gaps; the fixed hold: 2)" <<<"$out"
check "goal: resident memory-time stated against static" \
    grep -qE -- '^- Resident memory–time ≤ 0\.7× static: \*\*(met|not met)\*\* \([0-9.]+×\)$' <<<"$out"

# ---- bad input
# refused WHAT PATTERN: the report on $BAD exits 1 with PATTERN on stderr.
refused() {
    local what=$1 pattern=$2 err rc
    err=$(report "$BAD" 2>&1 >/dev/null)
    rc=$?
    check "$what: exit 1 ($err)" eval 'test "$rc" = 1 && grep -q "$pattern" <<<"$err"'
}
BAD=$WORK/bad
cp -r "$RUN" "$BAD"
printf 'omem-r1\t101.0\tvm0\tlots\t1\t1\t-\n' >>"$BAD/samples.tsv"
refused "a figure that is not a number, FILE:LINE" "samples.tsv:305: "
cp "$RUN/samples.tsv" "$BAD/samples.tsv"
printf 'nobody\t1.0\tvm0\t1\t1\t1\t-\n' >>"$BAD/samples.tsv"
refused "a run runs.tsv lacks, named" "run .nobody. is not in runs.tsv"
cp "$RUN/samples.tsv" "$BAD/samples.tsv"
printf 'x-r1\tballoon\t1\tok\t\n' >>"$BAD/runs.tsv"
refused "an unknown configuration, named" "unknown configuration .balloon."
rm "$BAD/steps.tsv"
refused "a missing file, named" "steps.tsv: No such file"

done_testing
