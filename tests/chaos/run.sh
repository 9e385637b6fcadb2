#!/bin/bash
# tests/chaos/run.sh [--minutes N] [--seed S] — the chaos run: omemd,
# libvirtd and real guests under faults at random (seeded) points, while
# three TCG guests borrow and give back memory out of phase under a host
# budget that makes omemd reclaim from one guest to grant another.
# Not part of make check: it runs for minutes and owns libvirtd (it
# restarts it).  Run it as root from a built tree (configure
# --enable-fault-injection is not needed); docs/reliability.md, "Chaos
# run", has what it does and the figures of a real run.
#
# The guests (the harness's, tests/lib/guest.sh): A, B, C, 256 MiB boot
# RAM, 768 MiB of virtio-mem each (max 1 GiB), omem_client.ko; one omemd
# for them (tests/lib/omem.sh) with a budget of their boot RAM and QEMU
# overhead plus CHAOS_POOL_MIB, less than two loads and a third's start.
# Every CHAOS_ROTATION_S seconds the load started two rotations earlier
# is released (it frees everything at once and exits) and, CHAOS_GIVEBACK_S
# later, the next guest in turn starts a memload of CHAOS_LOAD: one guest
# grows while one holds and one has just freed, so the grower's memory
# comes from the one that freed, by reclaim when its own give-back has
# not come yet.
#
# Faults, one at a time, every CHAOS_FAULT_GAP_MIN..MAX seconds after a
# warm-up, the kinds in a seeded shuffle so that each comes as often:
#   omemd-kill        kill -9 omemd, start it again
#   libvirtd-restart  ci/libvirtd restart (only for a libvirtd ci/libvirtd
#                     started, else the kind is left out and says so)
#   destroy           virsh destroy the guest that grows, as soon as omemd
#                     logs its DEMAND; start it again, the run goes on
#   guest-stop        SIGSTOP a guest's QEMU for 3-8 s, then SIGCONT: a
#                     guest (and a QEMU monitor) that stops answering
# After each: omemd's status matches libvirt's requested/current for every
# VM within CHAOS_RECOVERY_S of the recovery (omemd answering, libvirt
# reconnected, the destroyed VM gone, the QEMU continued).  A sampler
# (tests/chaos/probe.sh) checks throughout, every CHAOS_SAMPLE_S: the
# budget never over-committed, committed = the sum of the VMs' charges, no
# VM above its cap, no VM in omemd's status that libvirt no longer runs,
# no steady mismatch outside the faults; it reads omemd's RSS and its
# counters.  At the end: every load exited 0, no OOM kill in any guest
# (console and /proc/vmstat), omemd's max RSS, the figures.
#
# --seed S replays the same faults at the same times in the same order
# (what each hits still depends on the guests' timing).  TAP on stdout;
# exit 1 if a check failed.  The exit trap stops the sampler and omemd,
# destroys and undefines the guests, and stops libvirtd if this run
# started it.  Logs: tests/chaos/logs/ (consoles, omemd's log per start,
# samples.jsonl, events.jsonl), the last run's only.
set -u

usage() {
    echo "usage: tests/chaos/run.sh [--minutes N] [--seed S]" >&2
    exit 2
}

CHAOS_MINUTES=10
CHAOS_SEED=
while [ $# -gt 0 ]; do
    case $1 in
        --minutes) [ $# -ge 2 ] || usage; CHAOS_MINUTES=$2; shift 2 ;;
        --seed) [ $# -ge 2 ] || usage; CHAOS_SEED=$2; shift 2 ;;
        -h|--help) usage ;;
        *) usage ;;
    esac
done
[[ $CHAOS_MINUTES =~ ^[0-9]+$ ]] && [ "$CHAOS_MINUTES" -gt 0 ] || usage
[ -z "$CHAOS_SEED" ] && CHAOS_SEED=$(( $(od -An -N2 -tu2 /dev/urandom) ))
[[ $CHAOS_SEED =~ ^[0-9]+$ ]] || usage

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
# The default log folder holds the last run only: it is emptied at start.
CHAOS_OWN_LOGDIR=0
[ -z "${OMEM_TEST_LOGDIR:-}" ] && CHAOS_OWN_LOGDIR=1
: "${OMEM_TEST_LOGDIR:=$top_builddir/tests/chaos/logs}"

[ "$(id -u)" = 0 ] || { echo "tests/chaos/run.sh: run as root (qemu:///system)" >&2; exit 2; }
CHAOS_STARTED_LIBVIRTD=0
if ! timeout 10 virsh -c qemu:///system version >/dev/null 2>&1; then
    "$top_srcdir/ci/libvirtd" start >&2 || { echo "tests/chaos/run.sh: ci/libvirtd start failed" >&2; exit 1; }
    CHAOS_STARTED_LIBVIRTD=1
fi

# shellcheck source=../lib/omem.sh
. "$top_srcdir/tests/lib/omem.sh"
# shellcheck source=probe.sh
. "$top_srcdir/tests/chaos/probe.sh"

BOOT_MIB=256
VMEM_MIB=768
OVERHEAD_MIB=128                    # [host] vm_overhead, pinned in our config
MIB=1048576
# Two loads held (about 384 MiB plugged each, with the buffer and the
# grant step) and what the third has left from its last one.  A 384 MiB
# load left no room: three guests holding 384 MiB each (their fair
# shares) with one still asking were all refused, nobody above its share
# to reclaim from, and the asker was OOM-killed.
: "${CHAOS_POOL_MIB:=1152}"
: "${CHAOS_LOAD:=320M}"
: "${CHAOS_ROTATION_S:=12}"
: "${CHAOS_GIVEBACK_S:=3}"
: "${CHAOS_WARMUP_S:=20}"
: "${CHAOS_FAULT_GAP_MIN:=20}"
: "${CHAOS_FAULT_GAP_MAX:=40}"
: "${CHAOS_SAMPLE_S:=1}"
# omemd's tick is about a second; one more for libvirt's <current>, which
# lags the guest by up to ~1 s.
: "${CHAOS_RECOVERY_S:=2}"
CHAOS_DROP_S=2                      # a stopped VM's charge goes back "at once" (docs/omemd.md)
: "${CHAOS_PERSIST_S:=10}"
# omemd's VmHWM after the three-guest arbiter scenario is ~21 MiB
# (docs/benchmarks.md); three times that is a leak, not noise.
: "${CHAOS_RSS_LIMIT_MIB:=64}"
BOOT_TIMEOUT=240                    # three TCG boots at once on two cores
SESSION_TIMEOUT=90
RECONNECT_TIMEOUT=60
BUDGET_MIB=$((3 * (BOOT_MIB + OVERHEAD_MIB) + CHAOS_POOL_MIB))
# 32 MiB a second.  A grower starts from its boot RAM (about 100 MiB
# free) and the pool is too small for it while the other two hold their
# loads, so its memory often comes by reclaim: RECLAIM, the victim's
# SURPLUS, its unplug, then the grant, 2-4 s under TCG.  At 64 MiB a
# second the grower's headroom lasts 1.5 s and the first runs of this
# script OOM-killed it with no fault at all (docs/reliability.md).
LOAD_ARGS="--size $CHAOS_LOAD --step 32M --interval 1s --hold forever --free-step 1024M"

GUESTS=()
declare -A STATE          # up, off (destroyed, not started yet), booting (started again, no boot line yet), session (booted, no session yet), stopped, dead
declare -A JOB            # the guest's current memload job, or empty
declare -A JOB_ROTATION   # the rotation that started it
declare -A RELEASED       # 1 once its release file was written
declare -A BOOTS_WANTED   # boot lines its console must show once it is up again
declare -A DEADLINE       # until when it may boot / open its session
declare -A POWERED_ON     # when it was started again (SECONDS)
declare -A OOM_PAST       # oom_kill counts of its earlier boots
declare -A FAULTS_BY_KIND
ROTATION=0
NEXT_ROTATION=0
GROWER=
GROWER_MARK=0
LOADS_STARTED=0 LOADS_OK=0 LOADS_FAILED=0 LOADS_BUSY=0 LOADS_LOST=0
FAULTS=0
LIBVIRTD_SKIPPED=0
WORST_RECOVERY=0
WORST_RECOVERY_WHAT=-
MAX_HWM_KIB=0
STOPPED_PID=
CHAOS_EVENTS=$OMEM_TEST_LOGDIR/events.jsonl
CHAOS_METRICS_PORT_FILE=
RUN_START=

chaos_cleanup() {
    [ -n "$STOPPED_PID" ] && kill -CONT "$STOPPED_PID" 2>/dev/null
    STOPPED_PID=
    guest_cleanup
    if [ "$CHAOS_STARTED_LIBVIRTD" = 1 ]; then
        "$top_srcdir/ci/libvirtd" stop >&2 || diag "ci/libvirtd stop failed; see ci/libvirtd status"
        CHAOS_STARTED_LIBVIRTD=0
    fi
}
trap chaos_cleanup EXIT
trap 'chaos_cleanup; exit 130' INT
trap 'chaos_cleanup; exit 143' TERM

# ---------------------------------------------------------------- helpers

# run_s: seconds since the run began, 0.1 s precision.
run_s() {
    omem_elapsed "$RUN_START"
}

# chaos_random MIN MAX: a seeded integer in [MIN, MAX] in REPLY.  Only
# the main shell draws (a subshell's RANDOM is reseeded), so a seed gives
# the same draws in the same order.
chaos_random() {
    REPLY=$(($1 + RANDOM % ($2 - $1 + 1)))
}

# chaos_event JSON: one line of the run's events for the analysis.
chaos_event() {
    echo "$1" >>"$CHAOS_EVENTS"
}

# omemd_log_has REGEX MARK: omemd's log after byte MARK has such a line.
omemd_log_has() {
    omemd_log_since "$2" | grep -q -E -- "$1"
}

chaos_omemd_start() {
    omemd_start --config "$CHAOS_CONFIG" --budget "${BUDGET_MIB}M" || return 1
    omemd_wait_log 'metrics: GET /metrics on .* \(port [0-9]+\)' 10 "$CHAOS_OMEMD_MARK" |
        sed -n 's/.*(port \([0-9]*\)).*/\1/p' >"$CHAOS_METRICS_PORT_FILE"
}

# chaos_note_hwm: omemd's VmHWM so far, for the max across its restarts.
chaos_note_hwm() {
    local hwm
    hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$OMEMD_PID/status" 2>/dev/null)
    [ -n "$hwm" ] && [ "$hwm" -gt "$MAX_HWM_KIB" ] && MAX_HWM_KIB=$hwm
    return 0
}

# chaos_guest_charge_mib NAME: its charge in omemd's status, MiB.
chaos_charge_mib() {
    local bytes
    bytes=$(omem_status_get "$1" arbiter.charge_bytes 2>/dev/null) && [ "$bytes" != null ] || { echo '?'; return 1; }
    echo $((bytes / MIB))
}

# ---------------------------------------------------------------- the loads

# chaos_release NAME: end its load's hold (memload frees and exits).
chaos_release() {
    guest_run "$1" "touch /tmp/${JOB[$1]}.release" 15 >/dev/null && RELEASED[$1]=1
}

# chaos_reap NAME: if its load ended, count how; 1 while it still runs.
chaos_reap() {
    local name=$1 status
    [ -n "${JOB[$name]}" ] || return 0
    status=$(guest_job_status "$name" "${JOB[$name]}")
    case $status in
        255|124) return 1 ;;
        0) LOADS_OK=$((LOADS_OK + 1)) ;;
        *)
            LOADS_FAILED=$((LOADS_FAILED + 1))
            not_ok "load ${JOB[$name]} on $name exits 0 (exit $status, t=$(run_s)s)" \
                "$(memload_tail "$name" "${JOB[$name]}" 2>&1)" "$(guest_run "$name" 'klog 8' 10 2>&1)"
            ;;
    esac
    JOB[$name]=
}

# chaos_rotate: the next rotation: release the load two rotations old,
# start one on the next guest in turn.
chaos_rotate() {
    local name grower
    ROTATION=$((ROTATION + 1))
    NEXT_ROTATION=$((SECONDS + CHAOS_ROTATION_S))
    GROWER=
    for name in "${GUESTS[@]}"; do
        [ "${STATE[$name]}" = up ] && [ -n "${JOB[$name]}" ] && [ "${RELEASED[$name]}" = 0 ] &&
            [ "${JOB_ROTATION[$name]}" -le $((ROTATION - 2)) ] && chaos_release "$name"
    done
    grower=${GUESTS[ROTATION % ${#GUESTS[@]}]}
    [ "${STATE[$grower]}" = up ] || return 0
    # The load just released gives its memory back (SURPLUS, unplug) in a
    # second or two under TCG; a grower started at the same instant from
    # its boot RAM alone would have to outrun that (docs/reliability.md,
    # "Chaos run").
    chaos_wait "$CHAOS_GIVEBACK_S" false
    if ! chaos_reap "$grower"; then
        # Still running: released a rotation ago and not done yet, or
        # never released (the guest was stopped at its turn).
        [ "${RELEASED[$grower]}" = 0 ] && chaos_release "$grower"
        LOADS_BUSY=$((LOADS_BUSY + 1))
        return 0
    fi
    JOB[$grower]=load-$ROTATION
    JOB_ROTATION[$grower]=$ROTATION
    RELEASED[$grower]=0
    GROWER_MARK=$(omemd_log_mark)
    if memload_spawn "$grower" "${JOB[$grower]}" "$LOAD_ARGS --release-file /tmp/${JOB[$grower]}.release"; then
        GROWER=$grower
        LOADS_STARTED=$((LOADS_STARTED + 1))
    else
        diag "could not start ${JOB[$grower]} on $grower (t=$(run_s)s)"
        JOB[$grower]=
    fi
}

# chaos_follow_boots: a guest started again after its destroy is up once
# it printed its boot line and its module opened a session with omemd.
chaos_follow_boots() {
    local name
    for name in "${GUESTS[@]}"; do
        case ${STATE[$name]} in
            booting)
                if [ "$(guest_boot_count "$name")" -ge "${BOOTS_WANTED[$name]}" ]; then
                    STATE[$name]=session
                    DEADLINE[$name]=$((SECONDS + SESSION_TIMEOUT))
                elif [ "$SECONDS" -ge "${DEADLINE[$name]}" ]; then
                    not_ok "$name boots again after its destroy (no boot line within ${BOOT_TIMEOUT}s)"
                    STATE[$name]=dead
                fi
                ;;
            session)
                if omem_status_is "$name" session.state open; then
                    ok "$name, destroyed and started again, boots and opens a session with omemd ($((SECONDS - POWERED_ON[$name]))s)"
                    STATE[$name]=up
                elif [ "$SECONDS" -ge "${DEADLINE[$name]}" ]; then
                    not_ok "$name opens a session with omemd within ${SESSION_TIMEOUT}s of its boot after its restart" \
                        "$(omemd_log | grep "vm $name" | tail -n 5)"
                    STATE[$name]=dead
                fi
                ;;
        esac
    done
}

# chaos_tick: what goes on whatever else happens: the rotation when due
# and the restarted guests.
chaos_tick() {
    [ "$SECONDS" -ge "$NEXT_ROTATION" ] && chaos_rotate
    chaos_follow_boots
}

# chaos_wait TIMEOUT COMMAND...: poll COMMAND every 0.25 s, ticking
# between polls, until it succeeds (0) or TIMEOUT seconds passed (1).
chaos_wait() {
    local timeout=$1 start
    start=$(omem_now)
    shift
    until "$@"; do
        awk -v s="$start" -v n="$(omem_now)" -v t="$timeout" 'BEGIN { exit !(n - s >= t) }' && return 1
        chaos_tick
        sleep 0.25
    done
}

# ---------------------------------------------------------------- recovery

CONVERGE_RECORD=
chaos_agrees() {
    CONVERGE_RECORD=$(chaos_probe_once)
}

# chaos_converge WHAT RECOVERED: from RECOVERED (omem_now), how long until
# omemd's status and libvirt agree on every VM; checked against
# CHAOS_RECOVERY_S, and the worst kept.
chaos_converge() {
    local what=$1 recovered=$2 took
    if chaos_wait 30 chaos_agrees; then
        took=$("$OMEM_PYTHON" -c 'import json, sys; r = json.loads(sys.argv[1]); print("%.1f" % max(0.0, r["t"] - float(sys.argv[2])))' \
            "$CONVERGE_RECORD" "$recovered")
        if awk -v a="$took" -v b="$WORST_RECOVERY" 'BEGIN { exit !(a > b) }'; then
            WORST_RECOVERY=$took
            WORST_RECOVERY_WHAT=$what
        fi
        if awk -v a="$took" -v b="$CHAOS_RECOVERY_S" 'BEGIN { exit !(a <= b) }'; then
            ok "$what: omemd's requested/plugged match libvirt's for every VM ${took}s after the recovery"
        else
            not_ok "$what: omemd's requested/plugged match libvirt's within ${CHAOS_RECOVERY_S}s of the recovery (took ${took}s)"
        fi
    else
        WORST_RECOVERY=30
        WORST_RECOVERY_WHAT="$what, never within 30s"
        not_ok "$what: omemd's requested/plugged match libvirt's within 30s of the recovery" \
            "last probe: $("$OMEM_PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1]).get("why"))' "$CONVERGE_RECORD" 2>&1)"
    fi
}

# ---------------------------------------------------------------- faults

# fault_begin KIND TEXT: count it and say so; sets FAULT_START.
fault_begin() {
    FAULTS=$((FAULTS + 1))
    FAULTS_BY_KIND[$1]=$(( ${FAULTS_BY_KIND[$1]:-0} + 1 ))
    FAULT_KIND=$1
    FAULT_START=$(omem_now)
    diag "fault $FAULTS at t=$(run_s)s: $1: $2"
}

# fault_end RECOVERED: the fault's window for the analysis.
fault_end() {
    chaos_event "{\"event\": \"fault\", \"kind\": \"$FAULT_KIND\", \"start\": $FAULT_START, \"recovered\": $1}"
}

# chaos_omemd_alive WHEN: omemd never exits by itself.
chaos_omemd_alive() {
    if kill -0 "$OMEMD_PID" 2>/dev/null; then
        return 0
    fi
    not_ok "omemd still runs $1" "$(omemd_log | tail -n 10)"
    OMEMD_PID=
    CHAOS_OMEMD_MARK=$(omemd_log_mark)
    chaos_omemd_start || bail_out "omemd does not start again: $(omemd_log | tail -n 5)"
}

any_guest_coming_back() {
    local name
    for name in "${GUESTS[@]}"; do
        case ${STATE[$name]} in booting|session) return 0 ;; esac
    done
    return 1
}

all_sessions_open() {
    local name
    for name in "${GUESTS[@]}"; do
        [ "${STATE[$name]}" = up ] || continue
        omem_status_is "$name" session.state open || return 1
    done
}

fault_omemd_kill() {
    local recovered start
    chaos_omemd_alive "before fault $FAULTS" || return
    fault_begin omemd-kill "kill -9 omemd (pid $OMEMD_PID), start it again"
    chaos_note_hwm
    CHAOS_OMEMD_MARK=$(omemd_log_mark)
    omemd_kill9
    start=$(omem_now)
    if chaos_omemd_start; then
        recovered=$(omem_now)
        ok "omemd started again after kill -9 answers its status ($(omem_elapsed "$start")s)"
    else
        not_ok "omemd starts again after kill -9" "$(omemd_log | tail -n 5)"
        bail_out "no omemd, nothing else to test"
    fi
    chaos_converge "omemd kill -9" "$recovered"
    if chaos_wait "$SESSION_TIMEOUT" all_sessions_open; then
        ok "every running guest's session is open again ($(omem_elapsed "$recovered")s after the restart)"
    else
        not_ok "every running guest's session is open again within ${SESSION_TIMEOUT}s" \
            "$(omemd_log_since "$CHAOS_OMEMD_MARK" | tail -n 8)"
    fi
    fault_end "$recovered"
}

fault_libvirtd_restart() {
    local mark output recovered foreign
    # Another user's guests would lose their libvirtd for a while too.
    foreign=$(guest_foreign_domains)
    if [ -n "$foreign" ]; then
        diag "libvirtd restart left out at t=$(run_s)s: other domains run on this libvirtd: $foreign"
        LIBVIRTD_SKIPPED=$((LIBVIRTD_SKIPPED + 1))
        return
    fi
    fault_begin libvirtd-restart "ci/libvirtd restart"
    mark=$(omemd_log_mark)
    if ! output=$("$top_srcdir/ci/libvirtd" restart 2>&1); then
        not_ok "ci/libvirtd restart" "$output"
        fault_end "$(omem_now)"
        return
    fi
    diag "$output"
    if chaos_wait "$RECONNECT_TIMEOUT" omemd_log_has "reconnected to libvirt" "$mark"; then
        recovered=$(omem_now)
        ok "omemd reconnects to the restarted libvirtd ($(omem_elapsed "$FAULT_START")s after the restart began)"
    else
        recovered=$(omem_now)
        not_ok "omemd reconnects to the restarted libvirtd within ${RECONNECT_TIMEOUT}s" "$(omemd_log_since "$mark" | tail -n 8)"
    fi
    chaos_omemd_alive "after the libvirtd restart"
    chaos_converge "libvirtd restart" "$recovered"
    fault_end "$recovered"
}

grower_rotated() {
    [ "$ROTATION" -gt "$1" ] && [ -n "$GROWER" ] && [ "${STATE[$GROWER]}" = up ]
}

fault_destroy() {
    local victim mark committed charge output destroyed after_committed after_charges doc
    # The next grower, right after it started: destroy it mid-grant.
    chaos_wait $((CHAOS_ROTATION_S + 5)) grower_rotated "$ROTATION" || return
    victim=$GROWER
    mark=$GROWER_MARK
    fault_begin destroy "virsh destroy $victim as it grows, start it again"
    OOM_PAST[$victim]=$(( ${OOM_PAST[$victim]:-0} + $(omem_guest_oom_kills "$victim" 2>/dev/null || echo 0) ))
    if chaos_wait 20 omemd_log_has "vm $victim: DEMAND" "$mark"; then
        diag "$(omemd_log_since "$mark" | grep -m1 "vm $victim: DEMAND")"
    else
        diag "no DEMAND from $victim within 20s; destroying it anyway"
    fi
    committed=$(( $(omem_host_status committed_bytes) / MIB ))
    charge=$(chaos_charge_mib "$victim")
    if ! output=$(omem_virsh destroy "$victim" 2>&1); then
        not_ok "virsh destroy $victim" "$output"
        fault_end "$(omem_now)"
        return
    fi
    destroyed=$(omem_now)
    chaos_event "{\"event\": \"destroyed\", \"name\": \"$victim\", \"t\": $destroyed}"
    STATE[$victim]=off
    JOB[$victim]=
    LOADS_LOST=$((LOADS_LOST + 1))
    if poll_until "$CHAOS_DROP_S" not omem_status_lists "$victim"; then
        ok "omemd's status drops the destroyed $victim ($(omem_elapsed "$destroyed")s)"
    else
        not_ok "omemd's status drops the destroyed $victim within ${CHAOS_DROP_S}s" "$(omemd_log | grep "vm $victim" | tail -n 3)"
    fi
    doc=$(omem_status_raw 2>/dev/null)
    read -r after_committed after_charges < <("$OMEM_PYTHON" -c '
import json, sys
doc = json.loads(sys.stdin.read())
print(doc["host"]["committed_bytes"] >> 20, sum((vm.get("arbiter") or {}).get("charge_bytes") or 0 for vm in doc["vms"]) >> 20)' <<<"$doc")
    check "its charge left with it: committed $committed -> ${after_committed:-?} MiB (its charge $charge MiB) = the others' charges (${after_charges:-?} MiB)" \
        test "${after_committed:-x}" = "${after_charges:-y}"
    chaos_converge "destroy of $victim" "$destroyed"
    BOOTS_WANTED[$victim]=$(( $(guest_boot_count "$victim") + 1 ))
    DEADLINE[$victim]=$((SECONDS + BOOT_TIMEOUT))
    POWERED_ON[$victim]=$SECONDS
    STATE[$victim]=booting
    if guest_power_on "$victim" 2>&1; then
        chaos_event "{\"event\": \"power-on\", \"name\": \"$victim\", \"t\": $(omem_now)}"
    else
        not_ok "virsh start $victim again"
        STATE[$victim]=dead
    fi
    fault_end "$destroyed"
}

fault_guest_stop() {
    local up=() victim pid seconds recovered start latency
    local name
    for name in "${GUESTS[@]}"; do
        [ "${STATE[$name]}" = up ] && up+=("$name")
    done
    [ ${#up[@]} -gt 0 ] || return
    chaos_random 0 $((${#up[@]} - 1))
    victim=${up[REPLY]}
    chaos_random 3 8
    seconds=$REPLY
    pid=$(omem_qemu_pid "$victim") || return
    fault_begin guest-stop "SIGSTOP $victim's QEMU (pid $pid) for ${seconds}s"
    kill -STOP "$pid"
    STOPPED_PID=$pid
    STATE[$victim]=stopped
    start=$(omem_now)
    sleep 1
    latency=$(omem_now)
    if omem_status_raw >/dev/null 2>&1; then
        latency=$(omem_elapsed "$latency")
        check "omemd's status answers while $victim's QEMU is stopped (${latency}s)" \
            awk -v l="$latency" 'BEGIN { exit !(l < 2) }'
    else
        not_ok "omemd's status answers while $victim's QEMU is stopped"
    fi
    chaos_wait $((seconds - 1)) false
    kill -CONT "$pid"
    STOPPED_PID=
    recovered=$(omem_now)
    STATE[$victim]=up
    diag "SIGCONT $victim after $(omem_elapsed "$start")s"
    check "$victim answers on its console again" guest_run "$victim" true 30
    chaos_converge "stop of $victim" "$recovered"
    fault_end "$recovered"
}

# The kinds, drawn in seeded shuffles of the whole list.
FAULT_ORDER=()
next_fault_kind() {
    local kinds=("${CHAOS_FAULT_KINDS[@]}") i j t
    if [ ${#FAULT_ORDER[@]} = 0 ]; then
        for ((i = ${#kinds[@]} - 1; i > 0; i--)); do
            chaos_random 0 "$i"
            j=$REPLY
            t=${kinds[i]} kinds[i]=${kinds[j]} kinds[j]=$t
        done
        FAULT_ORDER=("${kinds[@]}")
    fi
    REPLY=${FAULT_ORDER[0]}
    FAULT_ORDER=("${FAULT_ORDER[@]:1}")
}

# ---------------------------------------------------------------- main

guest_require_host
vo_require
omemd_built || bail_out "host-server/omemd is not built; run make"
RUN_START=$(omem_now)
mkdir -p "$OMEM_TEST_LOGDIR"
[ "$CHAOS_OWN_LOGDIR" = 1 ] && find "$OMEM_TEST_LOGDIR" -maxdepth 1 -type f -delete
: >"$CHAOS_EVENTS"
RANDOM=$CHAOS_SEED
diag "chaos run: seed $CHAOS_SEED, $CHAOS_MINUTES minute(s); replay with: tests/chaos/run.sh --minutes $CHAOS_MINUTES --seed $CHAOS_SEED"
CHAOS_FAULT_KINDS=(omemd-kill destroy guest-stop)
if guest_libvirtd_ours; then
    CHAOS_FAULT_KINDS+=(libvirtd-restart)
else
    skip "libvirtd restarts" "libvirtd was not started by ci/libvirtd; the run leaves it alone"
fi

guest_start a --boot-mib "$BOOT_MIB" --vmem-mib "$VMEM_MIB" || bail_out "could not start A"
GUESTS=("$GUEST" "${OMEM_DOMAIN_PREFIX}b-$$" "${OMEM_DOMAIN_PREFIX}c-$$")
guest_launch "${GUESTS[1]}" guest_domain_xml || bail_out "could not start B"
guest_launch "${GUESTS[2]}" guest_domain_xml || bail_out "could not start C"
guest_boot_ok "A, B and C boot" "$RUN_START" "$BOOT_TIMEOUT" client "${GUESTS[@]}"
CHAOS_NAMES=$(IFS=,; echo "${GUESTS[*]}")
for name in "${GUESTS[@]}"; do
    STATE[$name]=up JOB[$name]='' RELEASED[$name]=1 JOB_ROTATION[$name]=0 OOM_PAST[$name]=0
done

CHAOS_CONFIG=$(mktemp)
omem_remove_at_exit "$CHAOS_CONFIG"
printf '[host]\nvm_overhead = %dM\n[metrics]\nlisten = 127.0.0.1:0\n' "$OVERHEAD_MIB" >"$CHAOS_CONFIG"
chmod 0644 "$CHAOS_CONFIG"
CHAOS_METRICS_PORT_FILE=$OMEM_TEST_LOGDIR/metrics.port
CHAOS_OMEMD_MARK=0
chaos_omemd_start || bail_out "omemd does not start: $(omemd_log | tail -n 5)"
if poll_until "$SESSION_TIMEOUT" all_sessions_open; then
    ok "omemd (budget $BUDGET_MIB MiB: 3 x ($BOOT_MIB boot + $OVERHEAD_MIB overhead) + $CHAOS_POOL_MIB) opens a session with every guest"
else
    not_ok "omemd opens a session with every guest" "$(omemd_log | tail -n 10)"
    bail_out "the run needs every session"
fi
omem_sampler_start chaos_sampler || bail_out "cannot start the sampler"

LOAD_START=$(omem_now)
END=$((SECONDS + CHAOS_MINUTES * 60))
chaos_random "$CHAOS_FAULT_GAP_MIN" "$CHAOS_FAULT_GAP_MAX"
NEXT_FAULT=$((SECONDS + CHAOS_WARMUP_S + REPLY - CHAOS_FAULT_GAP_MIN))
while [ "$SECONDS" -lt "$END" ]; do
    chaos_tick
    if [ "$SECONDS" -ge "$NEXT_FAULT" ]; then
        next_fault_kind
        case $REPLY in
            omemd-kill) fault_omemd_kill ;;
            libvirtd-restart) fault_libvirtd_restart ;;
            destroy) fault_destroy ;;
            guest-stop) fault_guest_stop ;;
        esac
        chaos_random "$CHAOS_FAULT_GAP_MIN" "$CHAOS_FAULT_GAP_MAX"
        NEXT_FAULT=$((SECONDS + REPLY))
    fi
    sleep 0.5
done
LOAD_SECONDS=$(omem_elapsed "$LOAD_START")
diag "faults over at t=$(run_s)s; releasing the loads"

# ---- the end: loads released and reaped, guests back, last checks.
chaos_wait "$BOOT_TIMEOUT" not any_guest_coming_back
for name in "${GUESTS[@]}"; do
    [ "${STATE[$name]}" = up ] && [ -n "${JOB[$name]}" ] && [ "${RELEASED[$name]}" = 0 ] && chaos_release "$name"
done
for name in "${GUESTS[@]}"; do
    [ "${STATE[$name]}" = up ] || continue
    poll_until 60 chaos_reap "$name" || not_ok "the last load on $name ends after its release" "$(memload_tail "$name" "${JOB[$name]}")"
done
chaos_omemd_alive "at the end of the run"
# Not a recovery: the released loads are being given back, and libvirt's
# <current> trails each unplug by up to a second, so agreement is only
# required once the give-back settles (within 30 s).
END_START=$(omem_now)
if chaos_wait 30 chaos_agrees; then
    ok "end of the run: omemd's requested/plugged match libvirt's for every VM once the give-back settled ($(omem_elapsed "$END_START")s)"
else
    not_ok "end of the run: omemd's requested/plugged match libvirt's within 30s" \
        "last probe: $("$OMEM_PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1]).get("why"))' "$CONVERGE_RECORD" 2>&1)"
fi
check "$LOADS_STARTED loads started; every finished one exited 0 ($LOADS_OK ok, $LOADS_FAILED failed, $LOADS_LOST lost with a destroyed guest)" \
    test "$LOADS_FAILED" = 0 -a "$LOADS_STARTED" -gt 0
oom_lines=0 oom_counts=
for name in "${GUESTS[@]}"; do
    lines=$(grep -c -E 'Out of memory|invoked oom-killer|oom-kill:' "$(guest_console_log "$name")")
    oom_lines=$((oom_lines + lines))
    count=$(omem_guest_oom_kills "$name" 2>/dev/null || echo '?')
    [ "$count" != '?' ] && count=$((count + OOM_PAST[$name]))
    oom_counts="$oom_counts $count"
done
check "no OOM kill in any guest (oom_kill A B C:$oom_counts; $oom_lines OOM lines on the consoles)" \
    test "$oom_lines" = 0 -a "$(echo "$oom_counts" | tr -d ' ')" = 000
chaos_note_hwm
omem_sampler_stop
cp "$OMEM_SAMPLES" "$OMEM_TEST_LOGDIR/samples.jsonl"

declare -A FIGURE
while read -r kind first rest; do
    case $kind in
        CHECK) if [ "$first" = 0 ]; then ok "$rest"; else not_ok "$rest"; fi ;;
        FIGURE) FIGURE[$first]=$rest ;;
        '#') diag "$first $rest" ;;
    esac
done < <(chaos_analyse "$CHAOS_EVENTS")
max_hwm_kib=${FIGURE[max_hwm_kib]:-0}
[ "$MAX_HWM_KIB" -gt "$max_hwm_kib" ] && max_hwm_kib=$MAX_HWM_KIB
check "omemd's RSS stays bounded: max VmHWM across its $((OMEMD_STARTS)) start(s) $((max_hwm_kib / 1024)) MiB <= $CHAOS_RSS_LIMIT_MIB MiB" \
    test "$max_hwm_kib" -le $((CHAOS_RSS_LIMIT_MIB * 1024))
reclaim_lines=$(omemd_log | grep -c -E 'vm [^:]*: RECLAIM ')
# A cycle: omemd took memory back from one guest for another ("vm Y: X
# -> SHRINK", X one of ours), which the grant to X then handed out.
cycles=$(omemd_log | awk -v prefix="$OMEM_DOMAIN_PREFIX" '
    $3 == "vm" && index($5, prefix) == 1 && $6 == "->" && $7 == "SHRINK" && $4 != $5 ":" { n++ }
    END { print n + 0 }')
give_backs=$(omemd_log | grep -c -E 'vm [^:]*: SURPLUS .* -> SHRINK')

faults_by_kind=
for kind in omemd-kill libvirtd-restart destroy guest-stop; do
    faults_by_kind="$faults_by_kind $kind ${FAULTS_BY_KIND[$kind]:-0},"
done
diag "---- figures"
diag "seed                 $CHAOS_SEED (tests/chaos/run.sh --minutes $CHAOS_MINUTES --seed $CHAOS_SEED)"
diag "duration             $(run_s) s in all, $LOAD_SECONDS s of load and faults"
diag "guests               ${#GUESTS[@]} x ($BOOT_MIB MiB boot + $VMEM_MIB MiB virtio-mem); budget $BUDGET_MIB MiB; load $CHAOS_LOAD every ${CHAOS_ROTATION_S}s in turn"
diag "cycles               $cycles grant/reclaim cycles (memory taken from one guest for another), $(awk -v c="$cycles" -v s="$LOAD_SECONDS" 'BEGIN { printf "%.1f", c * 60 / s }') a minute"
diag "reclaims             ${FIGURE[reclaims]:-?} RECLAIMs (metrics, summed over ${FIGURE[omemd_instances]:-?} omemd instance(s); $reclaim_lines RECLAIM log lines); $give_backs give-backs of a freed load (SURPLUS)"
diag "grants               ${FIGURE[grants]:-?}"
diag "resizes              ${FIGURE[resizes]:-?}; libvirt: ${FIGURE[libvirt]:-?}"
diag "loads                $LOADS_STARTED started, $LOADS_OK exited 0, $LOADS_FAILED failed, $LOADS_LOST lost to a destroy, $LOADS_BUSY turns skipped (previous load not done)"
diag "faults               $FAULTS:${faults_by_kind%,}; $LIBVIRTD_SKIPPED libvirtd restart(s) left out (other domains ran)"
diag "checks               $((TAP_COUNT - TAP_FAILED)) passed, $TAP_FAILED failed"
diag "omemd max RSS        VmHWM $((max_hwm_kib / 1024)) MiB, sampled VmRSS $(( ${FIGURE[max_rss_kib]:-0} / 1024 )) MiB, over $OMEMD_STARTS start(s)"
diag "worst recovery       ${WORST_RECOVERY}s ($WORST_RECOVERY_WHAT); slowest status read ${FIGURE[status_read_max_s]:-?}s"
diag "samples              ${FIGURE[samples]:-?}"
done_testing
