#!/bin/bash
# bench/giveback.sh — what an omem guest holds after its workload: the
# overshoot at a burst's peak, how soon freed memory goes back, and
# whether a workload that keeps coming back makes the guest plug and
# unplug each time (flapping).  One TCG guest per run, the same workload
# under three configurations, interleaved in one invocation:
#
#   static      booted at its max (BOOT + VMEM MiB), nothing resizes it: the
#               baseline for completion, step times and memory-time;
#   omem-fixed  omem with the fixed surplus hold it had before the hold
#               adapted (surplus_hold_ms = surplus_hold_max_ms =
#               surplus_interval_ms = 10000, set through the module's
#               parameters in the guest);
#   omem        omem with the module's defaults (the adaptive hold).
#
# The workload (memload, 64 MiB steps 250 ms apart): one burst to FIRST
# MiB, a 10 s hold, free, 30 s idle; then RETURNS bursts to 448 MiB
# (5 s hold) each GAP s after the last was freed; then 30 s idle.
# bench/overcommit-agent.py samples every VM's committed (boot + plugged)
# and resident (QEMU RssShmem) memory and the guest's used memory every
# second; bench/giveback-report.py turns the run folder into the table.
#
#   bench/giveback.sh [--rounds R] [--returns K] [--gap S] [--out DIR] [--write]
#
# Root, libvirtd (ci/libvirtd start), a build with omemd and the module,
# python3-libvirt.  About 10 minutes with the defaults.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
BENCH_NAME=giveback
# shellcheck source=../tests/lib/guest.sh
. "$top_srcdir/tests/lib/guest.sh"
# shellcheck source=../tests/lib/omem.sh
. "$top_srcdir/tests/lib/omem.sh"
# shellcheck source=lib.sh
. "$top_srcdir/bench/lib.sh"

ROUNDS=1
RETURNS=4
GAP=15
FIRST_MIB=640
OUT=
BOOT_MIB=256
VMEM_MIB=768
MAX_MIB=$((BOOT_MIB + VMEM_MIB))
CONFIGS="static omem-fixed omem"
BOOT_TIMEOUT=240
SESSION_TIMEOUT=120
PARAMS=/sys/module/omem_client/parameters

while [ $# -gt 0 ]; do
    case $1 in
        --rounds) ROUNDS=$2; shift 2 ;;
        --returns) RETURNS=$2; shift 2 ;;
        --gap) GAP=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --write) BENCH_WRITE=1; shift ;;
        -h|--help) sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        *) bench_die "unknown option $1 (see --help)" ;;
    esac
done
for v in "$ROUNDS" "$RETURNS" "$GAP"; do
    case $v in ''|*[!0-9]*) bench_die "--rounds, --returns and --gap take whole numbers, not '$v'" ;; esac
done
[ "$ROUNDS" -ge 1 ] || bench_die "--rounds must be at least 1"

missing=$(bench_guest_missing)
[ -z "$missing" ] || bench_die "cannot start: $missing"

[ -n "$OUT" ] || OUT=$top_builddir/bench/giveback-run
rm -rf "$OUT" && mkdir -p "$OUT" || bench_die "cannot make $OUT"
printf 'run\tconfig\tround\tstatus\treason\n' >"$OUT/runs.tsv"
printf 'run\tt_s\tvm\tcommitted_mib\tresident_mib\tused_mib\ttarget_mib\n' >"$OUT/samples.tsv"
printf 'run\tvm\tjob\tindex\tduration_ms\n' >"$OUT/steps.tsv"
guest_prepare || bench_die "could not build the guest image"

MEMFD="<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>"
# Both shapes back guest RAM with memfd, so RssShmem is the guest RAM the
# host holds (under TCG, RSS also counts the translated code).
xml_static() {
    guest_plain_domain_xml "$1" "$MAX_MIB" "" 1 "" "<memballoon model='virtio'/>" |
        sed "s|^  <vcpu>|  $MEMFD\n  <vcpu>|"
}
xml_omem() {
    guest_plain_domain_xml "$1" "$MAX_MIB" "" 1 "" "" |
        vo convert --boot "${BOOT_MIB}M" --max "${MAX_MIB}M" -
}

# The guest shell command: the first burst, then the returns.
job_command() {
    echo "sh -c 'memload --size ${FIRST_MIB}M --step 64M --interval 250ms --hold 10s --free-step ${FIRST_MIB}M || exit 1; sleep 30; for k in \$(seq 1 $RETURNS); do echo burst \$k; memload --size 448M --step 64M --interval 250ms --hold 5s --free-step 448M || exit 1; sleep $GAP; done; sleep 15'"
}
# Seconds the job runs unhindered, and its deadline (three times that).
JOB_S=$((14 + 30 + RETURNS * (8 + GAP) + 15))
JOB_DEADLINE=$((3 * JOB_S))

VM=
AGENT_PID=
teardown() {
    [ -n "$AGENT_PID" ] && omem_stop_pid "$AGENT_PID"
    AGENT_PID=
    omemd_stop >/dev/null
    if [ -n "$VM" ]; then
        cp "$(guest_console_log "$VM")" "$OUT/$RUN.console.log" 2>/dev/null
        guest_remove_domain "$VM"
    fi
    VM=
}

# one_run CONFIG ROUND: boot, run the job, sample, tear down; a row in
# runs.tsv whatever happened.
one_run() {
    local config=$1 round=$2 status=ok reason= start js oom log xml=xml_omem
    RUN=$config-r$round
    bench_say "run $RUN"
    [ "$config" = static ] && xml=xml_static
    if [ "$config" != static ]; then
        omemd_start --config "$OMEMD_CONFIG" >&2 || { status=failed; reason="omemd did not start"; }
    fi
    VM=${OMEM_DOMAIN_PREFIX}gb-$config-$$
    if [ "$status" = ok ] && ! guest_launch "$VM" "$xml" >"$OUT/boot.err" 2>&1; then
        status=failed; reason="did not start: $(tail -n 1 "$OUT/boot.err")"
    fi
    if [ "$status" = ok ] && ! guest_wait_for "$VM" 'OMEM-GUEST: booted' "$BOOT_TIMEOUT" >/dev/null; then
        status=failed; reason="did not boot"
    fi
    if [ "$status" = ok ] && [ "$config" != static ] && ! omem_wait_session "$VM" "$SESSION_TIMEOUT"; then
        status=failed; reason="opened no session with omemd"
    fi
    if [ "$status" = ok ] && [ "$config" = omem-fixed ]; then
        guest_run "$VM" "echo 10000 > $PARAMS/surplus_hold_ms && echo 10000 > $PARAMS/surplus_hold_max_ms && echo 10000 > $PARAMS/surplus_interval_ms && cat $PARAMS/surplus_hold_max_ms" 30 |
            grep -qx 10000 || { status=failed; reason="cannot set the fixed hold (an older module?)"; }
    fi
    if [ "$status" = ok ]; then
        "$OMEM_PYTHON" "$top_srcdir/bench/overcommit-agent.py" --run "$RUN" \
            --policy "$([ "$config" = static ] && echo static || echo omem)" \
            --budget-mib 1048576 --out "$OUT/samples.tsv" "vm0=$VM:$BOOT_MIB:$MAX_MIB" 2>>"$OUT/agent.err" &
        AGENT_PID=$!
        omem_track_pid "$AGENT_PID"
        sleep 2
        start=$SECONDS
        guest_run "$VM" "spawn job stamped $(job_command)" 30 >/dev/null ||
            { status=failed; reason="could not start the workload"; }
        js=255
        while [ "$status" = ok ] && [ $((SECONDS - start)) -lt "$JOB_DEADLINE" ]; do
            sleep 2
            guest_alive "$VM" || { status=failed; reason="the guest stopped"; break; }
            js=$(guest_job_status "$VM" job)
            [ "$js" = 255 ] || [ "$js" = 124 ] || break
        done
        oom=$(omem_guest_oom_kills "$VM" 2>/dev/null || echo -)
        if [ "$status" = ok ]; then
            log=$(guest_run "$VM" "cat /tmp/job.log" 30)
            printf '%s\n' "$log" >"$OUT/$RUN.job.log"
            bench_parse_steps "$RUN" vm0 250 <<<"$log" >>"$OUT/steps.tsv"
            if [ "$js" = 255 ] || [ "$js" = 124 ]; then status=failed; reason="the workload did not end in ${JOB_DEADLINE} s"
            elif [ "$oom" != 0 ]; then status=failed; reason="oom kill ($oom)"
            elif [ "$js" != 0 ]; then status=failed; reason="the workload exited $js"
            fi
        fi
    fi
    teardown
    printf '%s\t%s\t%s\t%s\t%s\n' "$RUN" "$config" "$round" "$status" "$reason" >>"$OUT/runs.tsv"
    bench_say "run $RUN: $status${reason:+ ($reason)}"
}

OMEMD_CONFIG=$(mktemp)
omem_remove_at_exit "$OMEMD_CONFIG"
printf '[host]\nvm_overhead = 0\n' >"$OMEMD_CONFIG"
omem_at_exit teardown

bench_say "machine: $(bench_machine)"
started=$SECONDS
configs=($CONFIGS)
for ((round = 1; round <= ROUNDS; round++)); do
    # Each round starts with another configuration, so drift hits all alike.
    for ((i = 0; i < ${#configs[@]}; i++)); do
        one_run "${configs[(i + round - 1) % ${#configs[@]}]}" "$round"
    done
done

section=$(mktemp)
omem_remove_at_exit "$section"
{
    echo "Measured with \`bench/giveback.sh --rounds $ROUNDS --returns $RETURNS --gap $GAP\` on $(date -u +%Y-%m-%d): $(bench_machine)."
    echo "One guest, $BOOT_MIB MiB boot, $MAX_MIB MiB max, contract buffer 10 %; workload: a burst to $FIRST_MIB MiB, 10 s hold, free, 30 s idle, then $RETURNS bursts to 448 MiB (5 s hold) $GAP s apart. All runs took $((SECONDS - started)) s."
    echo
    "$OMEM_PYTHON" "$top_srcdir/bench/giveback-report.py" "$OUT" --boot-mib "$BOOT_MIB" --buffer-percent 10 --step-mib 128
} >"$section" || bench_die "the report failed"
cat "$section"
[ "$BENCH_WRITE" = 1 ] && bench_write_section giveback "$section"
exit 0
