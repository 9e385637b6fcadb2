#!/bin/bash
# bench/libvirt-stall.sh — what one VM's stuck libvirt call costs the
# others: guest B grows while guest A's resize waits on A's stopped QEMU.
#
# Two test guests (256 MiB boot, 1536 MiB virtio-mem, omem_client.ko)
# under one omemd with room for both.  B's workload is memload taking
# --mib MiB in 128 MiB steps every 200 ms from its boot RAM, then freeing
# it; each phase waits until B is back on its boot RAM.  Phases, in one
# run:
#   quiet    A idle;
#   stalled  A's QEMU stopped (SIGSTOP) and A's min raised above what it
#            has (virt-omem setmem-outsourced --min): omemd's resize of A
#            takes A's domain job and waits on the stopped QEMU for the
#            whole of B's workload; A runs again (SIGCONT) after it.
#   old      with --old-omemd PATH: the stalled phase under that omemd
#            binary (an omemd from before resizes left the main thread),
#            A's stop bounded by --old-bound seconds.
# Figures per phase: B's workload time (host clock, guest_run), the
# decisions omemd made meanwhile (omem_decision_duration_seconds from
# /metrics: count, mean, and the bucket the slowest fell in), B's OOM
# kills, and whether the status socket answered within 2 s during it.
#
#   bench/libvirt-stall.sh [--mib N] [--old-omemd PATH] [--old-bound S] [--write]
#
# Root, libvirtd (ci/libvirtd start), a build with omemd and the module.
# Prints a Markdown section; --write puts it into docs/benchmarks.md.
# About 4 minutes under TCG (6 with --old-omemd).
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
BENCH_NAME=libvirt-stall
# shellcheck source=../tests/lib/guest.sh
. "$top_srcdir/tests/lib/guest.sh"
# shellcheck source=../tests/lib/omem.sh
. "$top_srcdir/tests/lib/omem.sh"
# shellcheck source=../tests/lib/virt-omem.sh
. "$top_srcdir/tests/lib/virt-omem.sh"
# shellcheck source=lib.sh
. "$top_srcdir/bench/lib.sh"

MIB=1024
OLD_OMEMD=
OLD_BOUND=60
BOOT_TIMEOUT=120
SESSION_TIMEOUT=60
GIVE_BACK_TIMEOUT=90
GIVE_BACK_SLACK_MIB=64
STEP_MIB=128
METRICS_PORT=$((19000 + $$ % 1000))

while [ $# -gt 0 ]; do
    case $1 in
        --mib) MIB=$2; shift 2 ;;
        --old-omemd) OLD_OMEMD=$2; shift 2 ;;
        --old-bound) OLD_BOUND=$2; shift 2 ;;
        --write) BENCH_WRITE=1; shift ;;
        -h|--help) sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        *) bench_die "unknown option $1 (see --help)" ;;
    esac
done
[ "$(id -u)" = 0 ] || bench_die "needs root (qemu:///system)"
omem_virsh version >/dev/null 2>&1 || bench_die "libvirtd does not answer; ci/libvirtd start"
omemd_built || bench_die "omemd is not built yet (host-server/omemd)"
[ -z "$OLD_OMEMD" ] || [ -x "$OLD_OMEMD" ] || bench_die "--old-omemd $OLD_OMEMD is not an executable"

CONFIG=$OMEM_TEST_DIR/libvirt-stall.conf

# metrics_decisions: "count sum" of omemd's decision histogram.
metrics_decisions() {
    curl -s --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics" |
        awk '$1 == "omem_decision_duration_seconds_count" { c = $2 }
             $1 == "omem_decision_duration_seconds_sum" { s = $2 }
             END { print (c == "" ? 0 : c), (s == "" ? 0 : s) }'
}

# metrics_buckets: "le count" lines of the decision histogram.
metrics_buckets() {
    curl -s --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics" |
        sed -n 's/^omem_decision_duration_seconds_bucket{le="\([^"]*\)"} \([0-9]*\)$/\1 \2/p'
}

# slowest_bucket BEFORE AFTER: the lowest bound that holds every decision
# made between the two bucket snapshots.
slowest_bucket() {
    awk 'NR == FNR { before[$1] = $2; next }
         { d[++n] = $1; after[$1] = $2 }
         END { total = after["+Inf"] - before["+Inf"]
               for (i = 1; i <= n; i++) if (after[d[i]] - before[d[i]] >= total) { print d[i]; exit } }' \
        <(printf '%s\n' "$1") <(printf '%s\n' "$2")
}

# status_worst_ms SECONDS: poll the status socket every 0.5 s for SECONDS in
# the background; the worst answer time goes to $1.status.
status_poller() {
    local out=$1 seconds=$2 worst=0 start end ms
    for _ in $(seq $((seconds * 2))); do
        start=$(date +%s%N)
        if timeout 5 "$OMEM_PYTHON" -c "$OMEM_STATUS_READER" "$OMEM_STATUS_SOCKET" --raw >/dev/null 2>&1; then
            end=$(date +%s%N)
            ms=$(((end - start) / 1000000))
        else
            ms=5000
        fi
        [ "$ms" -gt "$worst" ] && worst=$ms
        echo "$worst" >"$out"
        sleep 0.5
    done
}

workload() {
    echo "memload --size ${MIB}M --step ${STEP_MIB}M --interval 200ms --hold 0 --free-step ${MIB}M --free-interval 0"
}

start_omemd() {
    local binary=$1
    printf '[metrics]\nlisten = 127.0.0.1:%s\n' "$METRICS_PORT" >"$CONFIG"
    OMEMD=$binary omemd_start --config "$CONFIG" --budget 4G || bench_die "omemd ($binary) did not start"
    omem_wait_session "$GUEST_A" "$SESSION_TIMEOUT" || bench_die "A: no session within ${SESSION_TIMEOUT}s"
    omem_wait_session "$GUEST_B" "$SESSION_TIMEOUT" || bench_die "B: no session within ${SESSION_TIMEOUT}s"
}

# run_phase NAME STALL BOUND: B's workload, with A's call stuck when STALL
# is 1 (A stopped at most BOUND seconds).  Appends one table row.
ROWS=()
run_phase() {
    local name=$1 stall=$2 bound=$3 qemu requested before after buckets_before buckets_after
    local oom_before oom_after start end status=0 output count sum mean slowest poll_file worst
    local poller=
    poll_until "$GIVE_BACK_TIMEOUT" omem_plugged_at_most "$GUEST_B" "$GIVE_BACK_SLACK_MIB" ||
        bench_say "warning: B still has $(omem_plugged_mib "$GUEST_B") MiB plugged"
    if [ "$stall" = 1 ]; then
        qemu=$(omem_qemu_pid "$GUEST_A") || bench_die "A's QEMU pid"
        requested=$(omem_requested_mib "$GUEST_A") || bench_die "A's requested size"
        kill -STOP "$qemu"
        ( sleep "$bound"; kill -CONT "$qemu" 2>/dev/null ) &
        STALL_GUARD=$!
        vo setmem-outsourced "$GUEST_A" "$((256 + 1536))M" --min "$((256 + requested + STEP_MIB))M" --live >/dev/null ||
            { kill -CONT "$qemu"; bench_die "raising A's min failed"; }
        sleep 2
    fi
    before=$(metrics_decisions)
    buckets_before=$(metrics_buckets)
    oom_before=$(omem_guest_oom_kills "$GUEST_B")
    poll_file=$OMEM_TEST_DIR/status-worst.$name
    echo 0 >"$poll_file"
    status_poller "$poll_file" 600 &
    poller=$!
    bench_say "$name: B takes $MIB MiB"
    start=$(date +%s%N)
    output=$(guest_run "$GUEST_B" "$(workload)" 600) || status=$?
    end=$(date +%s%N)
    kill "$poller" 2>/dev/null; wait "$poller" 2>/dev/null
    worst=$(cat "$poll_file")
    oom_after=$(omem_guest_oom_kills "$GUEST_B")
    if [ "$stall" = 1 ]; then
        kill -CONT "$qemu"
        kill "$STALL_GUARD" 2>/dev/null; wait "$STALL_GUARD" 2>/dev/null
    fi
    after=$(metrics_decisions)
    buckets_after=$(metrics_buckets)
    count=$(( ${after% *} - ${before% *} ))
    sum=$(awk -v a="${after#* }" -v b="${before#* }" 'BEGIN { printf "%.6f", a - b }')
    mean=$(awk -v s="$sum" -v c="$count" 'BEGIN { if (c > 0) printf "%.2f", s / c * 1000; else print "-" }')
    slowest=$(slowest_bucket "$buckets_before" "$buckets_after")
    grep -q 'memload: done' <<<"$output" || bench_say "$name: memload did not finish (status $status): $(tail -n 2 <<<"$output")"
    ROWS+=("| $name | $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", (e - s) / 1e9 }') | $count | $mean | ≤ ${slowest:-?} | $((oom_after - oom_before)) | $worst |")
    bench_say "$name: ${ROWS[-1]}"
}

guest_start stall-a || bench_die "could not start guest A"
GUEST_A=$GUEST
guest_start stall-b || bench_die "could not start guest B"
GUEST_B=$GUEST
guest_wait_for "$GUEST_A" 'OMEM-GUEST: booted.*omem_client=loaded' "$BOOT_TIMEOUT" >/dev/null || bench_die "A did not boot"
guest_wait_for "$GUEST_B" 'OMEM-GUEST: booted.*omem_client=loaded' "$BOOT_TIMEOUT" >/dev/null || bench_die "B did not boot"

start_omemd "$OMEMD"
run_phase quiet 0 0
run_phase stalled 1 600
if [ -n "$OLD_OMEMD" ]; then
    omemd_stop >/dev/null
    start_omemd "$OLD_OMEMD"
    run_phase "old omemd, stalled" 1 "$OLD_BOUND"
fi

{
    echo "### One VM's libvirt call stuck: what the others see (\`bench/libvirt-stall.sh${OLD_OMEMD:+ --old-omemd PATH}\`)"
    echo
    echo "Guest B takes $MIB MiB in $STEP_MIB MiB steps from its boot RAM while guest A's resize waits on A's stopped QEMU (SIGSTOP); one omemd, budget for both.  Decisions: omemd's own histogram (\`omem_decision_duration_seconds\`) over B's workload; status: the worst of the status socket's answers, polled every 0.5 s (5000 = no answer within 5 s)."
    echo
    echo "| phase | B's workload, s | decisions | mean decision, ms | slowest decision, s | B's OOM kills | status socket worst, ms |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
    bench_machine
} >"$OMEM_TEST_DIR/section.md"
cat "$OMEM_TEST_DIR/section.md"
[ "${BENCH_WRITE:-0}" = 1 ] && bench_write_section libvirt-stall "$OMEM_TEST_DIR/section.md"
exit 0
