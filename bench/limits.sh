#!/bin/bash
# bench/limits.sh — the limits omemd holds: what each served guest costs
# it, how many messages a second it absorbs from a flooding guest while
# another guest's grants stay as fast as when all is quiet, and how many
# status documents and /metrics pages it serves a second.
#
# N test guests (--guests, default 6: 256 MiB boot, 1024 MiB virtio-mem,
# omem_client.ko) under one omemd whose rate limit is lifted
# ([policy] rate_per_s and rate_burst 1000000), so that the flood is
# absorbed rather than cut off (with the defaults, 2000 messages a second
# and a burst of 4000, a guest past them is cut off: docs/reliability.md).
# Guest A is the grower, guest F the flooder, the others idle.  Phases:
#   served   every guest's session open, 20 s idle: omemd's VmRSS, VmHWM,
#            open fds, threads and CPU, against the same omemd with no VM
#            (its figures right after start, before the guests joined);
#   quiet    A takes --mib MiB in 64 MiB steps every 200 ms and frees it,
#            --reps times: its workload time, omemd's decisions meanwhile
#            (omem_decision_duration_seconds: count and mean) and A's
#            PING round trip (debugfs ping, 200 trips, median);
#   paced    the same while F sends PINGs in runs of 200, 80 ms apart
#            (about the default limit of 2000 a second): F's rate, from
#            its own counts; the ratio of A's figures to quiet;
#   full     the same with F's PINGs back to back (each a message
#            omemd's transport thread handles and answers);
#   raw      the control: F as busy ringing its own doorbell (ping_raw),
#            which omemd never sees: what A loses to F's vCPU alone;
#   status   for 5 s each, one client at a time, as fast as it can: status
#            documents (the status socket) and /metrics renders, with
#            /metrics' own limit (10 a second, then 429) counted.
#
#   bench/limits.sh [--guests N] [--mib N] [--reps N] [--write]
#
# Root, libvirtd (ci/libvirtd start), a build with omemd and the module.
# Prints a Markdown section; --write puts it into docs/benchmarks.md.
# About 10 minutes under TCG with 6 guests.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
BENCH_NAME=limits
# shellcheck source=../tests/lib/guest.sh
. "$top_srcdir/tests/lib/guest.sh"
# shellcheck source=../tests/lib/omem.sh
. "$top_srcdir/tests/lib/omem.sh"
# shellcheck source=lib.sh
. "$top_srcdir/bench/lib.sh"

GUESTS_N=6
MIB=512
REPS=5
BOOT_TIMEOUT=300
SESSION_TIMEOUT=120
GIVE_BACK_TIMEOUT=30
GIVE_BACK_SLACK_MIB=160
METRICS_PORT=$((20000 + $$ % 1000))
PING_FILE=/sys/kernel/debug/omem_client/ping

while [ $# -gt 0 ]; do
    case $1 in
        --guests) GUESTS_N=$2; shift 2 ;;
        --mib) MIB=$2; shift 2 ;;
        --reps) REPS=$2; shift 2 ;;
        --write) BENCH_WRITE=1; shift ;;
        -h|--help) sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        *) bench_die "unknown option $1 (see --help)" ;;
    esac
done
[[ $GUESTS_N =~ ^[0-9]+$ ]] && [ "$GUESTS_N" -ge 2 ] || bench_die "--guests needs at least 2 (the grower and the flooder)"
[[ $MIB =~ ^[0-9]+$ ]] && [ "$MIB" -ge 64 ] && [ "$MIB" -le 1024 ] || bench_die "--mib is 64..1024"
[[ $REPS =~ ^[0-9]+$ ]] && [ "$REPS" -ge 1 ] || bench_die "--reps is at least 1"
[ "$(id -u)" = 0 ] || bench_die "needs root (qemu:///system)"
omem_virsh version >/dev/null 2>&1 || bench_die "libvirtd does not answer; ci/libvirtd start"
omemd_built || bench_die "omemd is not built yet (host-server/omemd)"

CONFIG=$OMEM_TEST_DIR/limits.conf
OUT=$OMEM_TEST_DIR/limits
mkdir -p "$OUT"

# ---------------------------------------------------------------- omemd

# proc_figures: "rss_kib hwm_kib fds threads cpu_ticks" of omemd now.
proc_figures() {
    local pid=$OMEMD_PID rss hwm threads fds ticks
    rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status")
    hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$pid/status")
    threads=$(awk '$1 == "Threads:" { print $2 }' "/proc/$pid/status")
    fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
    # utime + stime: fields 14 and 15, after the ")" of the command name.
    ticks=$(sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')
    echo "$rss $hwm $fds $threads $ticks"
}

metrics_get() {
    curl -s --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics"
}

# metrics_decisions: "count sum" of omemd's decision histogram.
metrics_decisions() {
    metrics_get | awk '$1 == "omem_decision_duration_seconds_count" { c = $2 }
                       $1 == "omem_decision_duration_seconds_sum" { s = $2 }
                       END { print (c == "" ? 0 : c), (s == "" ? 0 : s) }'
}

# metrics_buckets: "le count" lines of the decision histogram.
metrics_buckets() {
    metrics_get | sed -n 's/^omem_decision_duration_seconds_bucket{le="\([^"]*\)"} \([0-9]*\)$/\1 \2/p'
}

# bucket_at BEFORE AFTER FRACTION: the upper bound (ms) of the bucket that
# holds that fraction of the decisions made between the two snapshots.
bucket_at() {
    awk -v f="$3" 'NR == FNR { before[$1] = $2; next }
         { d[++n] = $1; after[$1] = $2 }
         END { total = after["+Inf"] - before["+Inf"]
               if (total <= 0) { print "-"; exit }
               for (i = 1; i <= n; i++)
                   if (after[d[i]] - before[d[i]] >= f * total) {
                       if (d[i] == "+Inf") print "+Inf"; else printf "%g", d[i] * 1000
                       exit } }' \
        <(printf '%s\n' "$1") <(printf '%s\n' "$2")
}

# ---------------------------------------------------------------- guests

workload() {
    echo "memload --size ${MIB}M --step 64M --interval 200ms --hold 0 --free-step ${MIB}M --free-interval 0"
}

# a_ping_us: the median of 200 PING round trips from A, µs.
a_ping_us() {
    local output
    output=$(guest_run "$GUEST_A" "omem_ping 200" 120) || { echo '-'; return; }
    sed -n 's/.*median=\([0-9]*\).*/\1/p' <<<"$output" | awk '{ printf "%.0f", $1 / 1000 }'
}

# flood_count NAME: the round trips F's flood NAME finished so far (the sum of the
# n of every run in its log).
flood_count() {
    guest_run "$GUEST_F" "cat /tmp/flood-$1.log" 60 | sed -n 's/^n=\([0-9]*\) .*/\1/p' | awk '{ n += $1 } END { print n + 0 }'
}

# run_phase NAME: A's workload REPS times, with its figures in ROW_*.
run_phase() {
    local name=$1 before after start end total=0 status output pings=() ping buckets_before buckets_after
    before=$(metrics_decisions)
    buckets_before=$(metrics_buckets)
    for rep in $(seq "$REPS"); do
        poll_until "$GIVE_BACK_TIMEOUT" omem_plugged_at_most "$GUEST_A" "$GIVE_BACK_SLACK_MIB" ||
            bench_say "warning: A still has $(omem_plugged_mib "$GUEST_A") MiB plugged"
        pings+=("$(a_ping_us)")
        status=0
        start=$(date +%s%N)
        output=$(guest_run "$GUEST_A" "$(workload)" 600) || status=$?
        end=$(date +%s%N)
        grep -q 'memload: done' <<<"$output" ||
            bench_say "$name: memload did not finish (status $status): $(tail -n 2 <<<"$output")"
        total=$((total + (end - start) / 1000000))
        bench_say "$name $rep: $(((end - start) / 1000000)) ms, ping ${pings[-1]} µs"
    done
    after=$(metrics_decisions)
    buckets_after=$(metrics_buckets)
    ROW_MEDIAN=$(bucket_at "$buckets_before" "$buckets_after" 0.5)
    ROW_P90=$(bucket_at "$buckets_before" "$buckets_after" 0.9)
    ROW_COUNT=$(( ${after% *} - ${before% *} ))
    ROW_MEAN=$(awk -v a="${after#* }" -v b="${before#* }" -v c="$ROW_COUNT" \
        'BEGIN { if (c > 0) printf "%.2f", (a - b) / c * 1000; else print "-" }')
    ROW_TIME=$(awk -v t="$total" -v r="$REPS" 'BEGIN { printf "%.1f", t / r / 1000 }')
    ping=$(printf '%s\n' "${pings[@]}" | grep -E '^[0-9]+$' | sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }')
    ROW_PING=$ping
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f×", a / b; else print "-" }'
}

# ---------------------------------------------------------------- status

# status_rate SECONDS: status documents read one after another.
status_rate() {
    "$OMEM_PYTHON" - "$OMEM_STATUS_SOCKET" "$1" <<'EOF'
import socket, sys, time
path, seconds = sys.argv[1], float(sys.argv[2])
n = 0
end = time.monotonic() + seconds
while time.monotonic() < end:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    if data.startswith(b"{"):
        n += 1
print("%.0f" % (n / seconds))
EOF
}

# metrics_rate SECONDS: "served/s refused/s" for /metrics asked back to back.
metrics_rate() {
    "$OMEM_PYTHON" - "$METRICS_PORT" "$1" <<'EOF'
import http.client, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
ok = refused = 0
end = time.monotonic() + seconds
while time.monotonic() < end:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", "/metrics")
    r = c.getresponse()
    r.read()
    if r.status == 200:
        ok += 1
    elif r.status == 429:
        refused += 1
    c.close()
print("%.1f %.0f" % (ok / seconds, refused / seconds))
EOF
}

# ---------------------------------------------------------------- run

GUESTS=()
for i in $(seq "$GUESTS_N"); do
    guest_start "limits$i" --vmem-mib 1024 || bench_die "could not start guest $i"
    GUESTS+=("$GUEST")
done
GUEST_A=${GUESTS[0]}
GUEST_F=${GUESTS[1]}
for name in "${GUESTS[@]}"; do
    guest_wait_for "$name" 'OMEM-GUEST: booted.*omem_client=loaded' "$BOOT_TIMEOUT" >/dev/null ||
        bench_die "$name did not boot"
done

printf '[metrics]\nlisten = 127.0.0.1:%s\n[policy]\nrate_per_s = 1000000\nrate_burst = 1000000\n' \
    "$METRICS_PORT" >"$CONFIG"
# The domains only once omemd has started, for its figures with no VM.
omemd_start --config "$CONFIG" --budget 16G --domains 'nothing-matches-this' ||
    bench_die "omemd did not start"
sleep 2
read -r RSS0 HWM0 FDS0 THREADS0 _ < <(proc_figures)
omemd_stop >/dev/null
omemd_start --config "$CONFIG" --budget 16G || bench_die "omemd did not start"
for name in "${GUESTS[@]}"; do
    omem_wait_session "$name" "$SESSION_TIMEOUT" || bench_die "$name: no session within ${SESSION_TIMEOUT}s"
done
sleep 5
read -r _ _ _ _ TICKS1 < <(proc_figures)
sleep 20
read -r RSS HWM FDS THREADS TICKS2 < <(proc_figures)
HZ=$(getconf CLK_TCK)
IDLE_CPU=$(awk -v a="$TICKS1" -v b="$TICKS2" -v hz="$HZ" 'BEGIN { printf "%.2f", (b - a) / hz / 20 * 100 }')
PER_VM_KIB=$(( (RSS - RSS0) / GUESTS_N ))
PER_VM_FDS=$(awk -v a="$FDS" -v b="$FDS0" -v n="$GUESTS_N" 'BEGIN { printf "%.1f", (a - b) / n }')
bench_say "served: $GUESTS_N guests: RSS $RSS KiB (no VM: $RSS0), HWM $HWM, fds $FDS (no VM: $FDS0), threads $THREADS, CPU $IDLE_CPU %"

run_phase quiet
Q_TIME=$ROW_TIME Q_COUNT=$ROW_COUNT Q_MEAN=$ROW_MEAN Q_PING=$ROW_PING Q_MEDIAN=$ROW_MEDIAN Q_P90=$ROW_P90

# flood_phase NAME LOOP: A's workloads while F runs LOOP (a shell loop of
# debugfs ping runs); sets FLOOD_RATE, FLOOD_CPU, F_SESSION and the
# ROW_* figures.
flood_phase() {
    local name=$1 loop=$2 f1 f2 s1 s2 t1 t2
    guest_run "$GUEST_F" "spawn flood-$name sh -c '$loop'" 30 >/dev/null ||
        bench_die "F: cannot start the flood"
    sleep 5
    read -r _ _ _ _ t1 < <(proc_figures)
    f1=$(flood_count "$name")
    s1=$(date +%s%N)
    run_phase "$name"
    f2=$(flood_count "$name")
    s2=$(date +%s%N)
    read -r _ _ _ _ t2 < <(proc_figures)
    guest_run "$GUEST_F" "signal flood-$name KILL" 30 >/dev/null
    # A ping run counts when it ends: the rate is over whole runs.
    FLOOD_RATE=$(awk -v a="$f1" -v b="$f2" -v s="$s1" -v e="$s2" 'BEGIN { printf "%.0f", (b - a) / ((e - s) / 1e9) }')
    FLOOD_CPU=$(awk -v a="$t1" -v b="$t2" -v hz="$HZ" -v s="$s1" -v e="$s2" 'BEGIN { printf "%.0f", (b - a) / hz / ((e - s) / 1e9) * 100 }')
    F_SESSION=$(omem_status_get "$GUEST_F" session.state 2>/dev/null || echo '?')
    bench_say "$name: F $FLOOD_RATE messages/s, omemd CPU $FLOOD_CPU %, F's session $F_SESSION"
    sleep 2
}

# Paced: runs of 200 round trips, 80 ms apart, about the default rate
# limit (2000 a second), the most a guest may send and stay served.
flood_phase paced "while :; do echo 200 >$PING_FILE; cat $PING_FILE; usleep 80000; done"
P_TIME=$ROW_TIME P_COUNT=$ROW_COUNT P_MEAN=$ROW_MEAN P_PING=$ROW_PING P_MEDIAN=$ROW_MEDIAN P_P90=$ROW_P90
P_RATE=$FLOOD_RATE P_CPU=$FLOOD_CPU P_SESSION=$F_SESSION
# Back to back: as fast as F's vCPU sends (the limit lifted).
flood_phase full "while :; do echo 5000 >$PING_FILE; cat $PING_FILE; done"
F_TIME=$ROW_TIME F_COUNT=$ROW_COUNT F_MEAN=$ROW_MEAN F_PING=$ROW_PING F_MEDIAN=$ROW_MEDIAN F_P90=$ROW_P90
F_RATE=$FLOOD_RATE F_CPU=$FLOOD_CPU F_SESSION_FULL=$F_SESSION
# The control: F as busy, but ringing its own doorbell (ping_raw: guest ->
# QEMU -> guest), so that omemd sees nothing of it.  What A loses here is
# the cores F's vCPU takes, not omemd's work.
flood_phase raw "while :; do echo 5000 >${PING_FILE}_raw; cat ${PING_FILE}_raw; done"
R_TIME=$ROW_TIME R_COUNT=$ROW_COUNT R_MEAN=$ROW_MEAN R_PING=$ROW_PING R_MEDIAN=$ROW_MEDIAN R_P90=$ROW_P90 R_RATE=$FLOOD_RATE

STATUS_RATE=$(status_rate 5)
read -r METRICS_OK METRICS_REFUSED < <(metrics_rate 5)
bench_say "status $STATUS_RATE docs/s; /metrics $METRICS_OK/s served, $METRICS_REFUSED/s refused"

{
    echo "### The limits omemd holds (\`bench/limits.sh --guests $GUESTS_N --mib $MIB --reps $REPS\`)"
    echo
    echo "$GUESTS_N test guests (256 MiB boot, 1024 MiB virtio-mem) under one omemd, its rate limit lifted so that a flood is absorbed rather than cut off.  Guest A takes $MIB MiB in 64 MiB steps every 200 ms and frees it, $REPS times per phase; in the flood phases guest F sends PINGs all the while, paced near the default rate limit (runs of 200 round trips 80 ms apart), then back to back.  Decisions: omemd's histogram (\`omem_decision_duration_seconds\`) over A's workloads; ping: the median of A's 200-trip PING runs (debugfs)."
    echo
    echo "| what | figure |"
    echo "|---|---|"
    echo "| omemd with no VM | VmRSS $((RSS0 / 1024)) MiB, $FDS0 fds, $THREADS0 threads |"
    echo "| omemd serving $GUESTS_N guests, idle (STATS every few seconds) | VmRSS $((RSS / 1024)) MiB (VmHWM $((HWM / 1024)) MiB), $FDS fds, $THREADS threads, CPU $IDLE_CPU % of one core |"
    echo "| per served guest | $PER_VM_KIB KiB of RSS, $PER_VM_FDS fds |"
    echo "| flood absorbed from F, paced | $P_RATE messages/s, omemd at $P_CPU % of one core; F's session after it: $P_SESSION |"
    echo "| flood absorbed from F, back to back | $F_RATE messages/s, omemd at $F_CPU % of one core; F's session after it: $F_SESSION_FULL |"
    echo "| status socket, one client back to back | $STATUS_RATE documents/s |"
    echo "| /metrics, one client back to back | $METRICS_OK renders/s served, $METRICS_REFUSED/s refused with 429 (its limit is 10/s) |"
    echo
    echo "| A's figures | quiet | F paced ($P_RATE/s) | paced / quiet | F back to back ($F_RATE/s) | back to back / quiet | F as busy, omemd not involved ($R_RATE raw trips/s) | control / quiet |"
    echo "|---|---|---|---|---|---|---|---|"
    echo "| workload time, s (mean of $REPS) | $Q_TIME | $P_TIME | $(ratio "$P_TIME" "$Q_TIME") | $F_TIME | $(ratio "$F_TIME" "$Q_TIME") | $R_TIME | $(ratio "$R_TIME" "$Q_TIME") |"
    echo "| decisions | $Q_COUNT | $P_COUNT | | $F_COUNT | | $R_COUNT | |"
    echo "| decision, the bucket holding the median, ms | ≤ $Q_MEDIAN | ≤ $P_MEDIAN | | ≤ $F_MEDIAN | | ≤ $R_MEDIAN | |"
    echo "| decision, the bucket holding the 90th percentile, ms | ≤ $Q_P90 | ≤ $P_P90 | | ≤ $F_P90 | | ≤ $R_P90 | |"
    echo "| mean decision, ms | $Q_MEAN | $P_MEAN | $(ratio "$P_MEAN" "$Q_MEAN") | $F_MEAN | $(ratio "$F_MEAN" "$Q_MEAN") | $R_MEAN | $(ratio "$R_MEAN" "$Q_MEAN") |"
    echo "| PING round trip, median µs | $Q_PING | $P_PING | $(ratio "$P_PING" "$Q_PING") | $F_PING | $(ratio "$F_PING" "$Q_PING") | $R_PING | $(ratio "$R_PING" "$Q_PING") |"
    echo
    bench_machine
} >"$OUT/section.md"
cat "$OUT/section.md"
[ "${BENCH_WRITE:-0}" = 1 ] && bench_write_section limits "$OUT/section.md"
exit 0
