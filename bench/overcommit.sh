#!/bin/bash
# bench/overcommit.sh — the overcommit report: the same TCG guests and the
# same workloads under four memory policies, interleaved in one
# invocation, on one host budget:
#
#   static   every VM booted at its max (BOOT + VMEM MiB); nothing resizes
#            it: the no-overcommit reference;
#   balloon  every VM with max RAM and a virtio balloon (free page
#            reporting on) that starts inflated down to BOOT MiB, driven by
#            a host policy with oVirt MOM's default rules
#            (bench/overcommit-agent.py);
#   vmem     omem's guest shape (BOOT MiB boot RAM, VMEM MiB of virtio-mem)
#            driven by the same MOM rules through libvirt's virtio-mem
#            requested size: what an operator builds with libvirt alone;
#   omem     the same guest shape, omem_client.ko and omemd with the budget.
#
# Scenarios (each VM's workload is a guest shell command; memload grows in
# 64 MiB steps):
#   a  one VM: growth to 640 MiB (500 ms between steps), a 20 s hold,
#      free, then a minute idle;
#   b  density: N VMs, each three bursts to 448 MiB (250 ms between
#      steps, 10 s hold), one every BURST_PERIOD s, the VMs out of phase,
#      on a budget smaller than the sum of their peaks; N is raised from 2
#      while a policy keeps every run good (static is not run where N × max
#      does not fit: a failure by arithmetic, still a row);
#   c  page cache beside anonymous memory: one VM reads 640 MiB of its
#      virtio disk (clean page cache) and idles, the other then grows
#      anonymous memory to 640 MiB; the budget fits one of them;
#   d  fast growth: 640 MiB with no pause between steps, a 10 s hold.
# A run fails on a guest OOM kill, a workload that does not exit 0 or does
# not end in time, a guest that stops running, or the host's committed
# memory (as the agent samples it) above the budget.
#
# Everything lands in a run folder (runs.tsv, samples.tsv, jobs.tsv,
# steps.tsv, each guest's console log, and after each run its job log,
# its kernel's virtio_mem and OOM lines (RUN.vmI.dmesg) and, for omem, the
# module's status (RUN.vmI.status)); bench/overcommit-report.py turns it
# into the Markdown section and the plots (docs/img/overcommit-*.png).
#
#   bench/overcommit.sh [--quick] [--scenarios "a b c d"] [--policies "..."]
#                       [--max-n N] [--rounds R] [--out DIR] [--write]
#
# --quick: scenario a with a 10 s hold and 15 s idle, and d (under 5
# minutes).  Root, libvirtd (ci/libvirtd start), a build with omemd and the
# module, python3-libvirt and python3-matplotlib.  About 40 minutes.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
BENCH_NAME=overcommit
# shellcheck source=../tests/lib/guest.sh
. "$top_srcdir/tests/lib/guest.sh"
# shellcheck source=../tests/lib/omem.sh
. "$top_srcdir/tests/lib/omem.sh"
# shellcheck source=lib.sh
. "$top_srcdir/bench/lib.sh"

QUICK=0
SCENARIOS="a b c d"
POLICIES="static balloon vmem omem"
MAX_N=6
ROUNDS=1
OUT=
BOOT_MIB=256
VMEM_MIB=768
MAX_MIB=$((BOOT_MIB + VMEM_MIB))
BUDGET_A=$MAX_MIB
BUDGET_B=2304
BUDGET_C=1408
BURST_PERIOD=30
HOLD_A=20s IDLE_A=60 IDLE_OTHER=20
BOOT_TIMEOUT=240
SESSION_TIMEOUT=120

while [ $# -gt 0 ]; do
    case $1 in
        --quick) QUICK=1; SCENARIOS="a d"; shift ;;
        --scenarios) SCENARIOS=$2; shift 2 ;;
        --policies) POLICIES=$2; shift 2 ;;
        --max-n) MAX_N=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --write) BENCH_WRITE=1; shift ;;
        -h|--help) sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        *) bench_die "unknown option $1 (see --help)" ;;
    esac
done
[ "$QUICK" = 1 ] && { HOLD_A=10s; IDLE_A=15; IDLE_OTHER=5; }
for s in $SCENARIOS; do
    case $s in a|b|c|d) ;; *) bench_die "unknown scenario $s (a, b, c, d)" ;; esac
done
for p in $POLICIES; do
    case $p in static|balloon|vmem|omem) ;; *) bench_die "unknown policy $p (static, balloon, vmem, omem)" ;; esac
done

# Everything a scenario needs, checked before the first guest boots, each
# missing part named.
missing=$(bench_guest_missing)
"$OMEM_PYTHON" -c 'import matplotlib' 2>/dev/null || missing="${missing:+$missing; }python3-matplotlib"
[ -z "$missing" ] || bench_die "cannot start: $missing"

[ -n "$OUT" ] || OUT=$top_builddir/bench/overcommit-run
rm -rf "$OUT" && mkdir -p "$OUT" || bench_die "cannot make $OUT"
printf 'run\tscenario\tpolicy\tn\tround\tbudget_mib\tstatus\treason\n' >"$OUT/runs.tsv"
printf 'run\tt_s\tvm\tcommitted_mib\tresident_mib\tused_mib\ttarget_mib\n' >"$OUT/samples.tsv"
printf 'run\tvm\tjob\tstatus\tcompletion_s\toom_kills\n' >"$OUT/jobs.tsv"
printf 'run\tvm\tjob\tindex\tduration_ms\n' >"$OUT/steps.tsv"
DISK=$OMEM_TEST_DIR/overcommit-disk-$$.raw
omem_remove_at_exit "$DISK"
guest_prepare || bench_die "could not build the guest image"

# ---------------------------------------------------------------- guests

MEMFD="<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>"

# disk_xml WITH: the scenario's virtio disk (scenario c), or nothing.
disk_xml() {
    [ "$1" = 1 ] || return 0
    echo "<disk type='file' device='disk'><driver name='qemu' type='raw' cache='none'/><source file='$DISK'/><target dev='vda' bus='virtio'/></disk>"
}

# The domain XML of each policy: NAME DISK (1 or 0).  All four use memfd
# shared guest RAM, so RssShmem is the guest RAM the host holds.
xml_static() {
    guest_plain_domain_xml "$1" "$MAX_MIB" "" 1 "" \
        "<memballoon model='virtio'/>$(disk_xml "$2")" |
        sed "s|^  <vcpu>|  $MEMFD\n  <vcpu>|"
}
xml_balloon() {
    guest_plain_domain_xml "$1" "$MAX_MIB" "$BOOT_MIB" 1 "" \
        "<memballoon model='virtio' freePageReporting='on'/>$(disk_xml "$2")" |
        sed "s|^  <vcpu>|  $MEMFD\n  <vcpu>|"
}
xml_vmem() {
    guest_plain_domain_xml "$1" "$MAX_MIB" "" 1 "" "$(disk_xml "$2")" |
        vo convert --boot "${BOOT_MIB}M" --max "${MAX_MIB}M" -
}
xml_omem() {
    xml_vmem "$@"
}

RUN_VMS=()
RUN=

# run_boot POLICY N DISK: define and start N guests for POLICY (the first
# with the scenario's disk when DISK is 1), wait for their boot (and, for
# omem, their sessions).  Fills RUN_VMS.
run_boot() {
    local policy=$1 n=$2 disk=$3 i name
    RUN_VMS=()
    for ((i = 0; i < n; i++)); do
        name=${OMEM_DOMAIN_PREFIX}oc-$policy-$i-$$
        # Listed first, so a launch that fails half-way is torn down too.
        RUN_VMS+=("$name")
        # Only the first VM has the disk: QEMU locks its image.
        guest_launch "$name" "xml_$policy" "$([ "$i" = 0 ] && echo "$disk" || echo 0)" || return 1
    done
    for name in "${RUN_VMS[@]}"; do
        guest_wait_for "$name" 'OMEM-GUEST: booted' "$BOOT_TIMEOUT" >/dev/null || {
            echo "$name did not boot"; return 1; }
    done
    if [ "$policy" = balloon ]; then
        # libvirt inflates the balloon to <currentMemory> once the guest's
        # driver is up: the workload starts from the boot size.
        for name in "${RUN_VMS[@]}"; do
            poll_until 60 balloon_settled "$name" || {
                echo "$name's balloon did not inflate to $BOOT_MIB MiB"; return 1; }
        done
    fi
    if [ "$policy" = omem ]; then
        for name in "${RUN_VMS[@]}"; do
            omem_wait_session "$name" "$SESSION_TIMEOUT" || {
                echo "$name opened no session with omemd"; return 1; }
        done
    fi
}

balloon_settled() {
    local actual
    actual=$(omem_balloon_actual_mib "$1") && [ "$actual" -le $((BOOT_MIB + 4)) ]
}

run_teardown() {
    local name
    [ -n "${AGENT_PID:-}" ] && omem_stop_pid "$AGENT_PID"
    AGENT_PID=
    omemd_stop >/dev/null
    for name in "${RUN_VMS[@]:+${RUN_VMS[@]}}"; do
        cp "$(guest_console_log "$name")" "$OUT/$RUN.$name.console.log" 2>/dev/null
        guest_remove_domain "$name"
    done
    RUN_VMS=()
}

# ---------------------------------------------------------------- workloads

# job_command SCENARIO INDEX N: the guest shell command of VM INDEX.
job_command() {
    local scenario=$1 i=$2 n=$3 off
    case $scenario in
        a) echo "memload --size 640M --step 64M --interval 500ms --hold $HOLD_A --free-step 640M" ;;
        d) echo "memload --size 640M --step 64M --hold 10s --free-step 640M" ;;
        b) off=$((i * BURST_PERIOD / n))
           echo "sh -c 'sleep $off; for k in 1 2 3; do echo burst \$k; memload --size 448M --step 64M --interval 250ms --hold 10s --free-step 448M || exit 1; [ \$k = 3 ] || sleep $((BURST_PERIOD - 16)); done'" ;;
        c) if [ "$i" = 0 ]; then
               echo "sh -c 'dd if=/dev/vda of=/dev/null bs=1M count=640 2>&1 | tail -n 1; sleep 75'"
           else
               echo "sh -c 'sleep 15; echo burst 1; memload --size 640M --step 64M --interval 500ms --hold 20s --free-step 640M'"
           fi ;;
    esac
}

# The step interval each scenario's memload pauses, excluded from a
# step's duration.
step_interval_ms() {
    case $1 in a|c) echo 500 ;; b) echo 250 ;; d) echo 0 ;; esac
}

# job_deadline SCENARIO: seconds a job may take at most (three times its
# unhindered length, so a slow policy is measured, a stuck one ends).
job_deadline() {
    case $1 in a) echo 150 ;; b) echo 300 ;; c) echo 300 ;; d) echo 120 ;; esac
}

# idle_after SCENARIO: seconds sampled after the last job ended.
idle_after() {
    case $1 in a) echo "$IDLE_A" ;; *) echo "$IDLE_OTHER" ;; esac
}

# one_run SCENARIO POLICY N ROUND BUDGET: one run, its rows in the files.
one_run() {
    local scenario=$1 policy=$2 n=$3 round=$4 budget=$5
    local status=ok reason= i name vms=() start end deadline left log js oom err peak
    RUN=$scenario-$policy-n$n-r$round
    bench_say "run $RUN (budget $budget MiB)"
    if [ "$policy" = static ] && [ $((n * MAX_MIB)) -gt "$budget" ] && [ "$scenario" = b ]; then
        printf '%s\t%s\t%s\t%s\t%s\t%s\tfailed\thost over budget: %d x %d MiB > %d MiB (not run)\n' \
            "$RUN" "$scenario" "$policy" "$n" "$round" "$budget" "$n" "$MAX_MIB" "$budget" >>"$OUT/runs.tsv"
        return 1
    fi
    if [ "$policy" = omem ]; then
        omemd_start --config "$OMEMD_CONFIG" --budget "${budget}M" >&2 || {
            status=failed; reason="omemd did not start"; }
    fi
    # Not in $(...): the guests' console readers would hold its pipe open.
    if [ "$status" = ok ] && ! run_boot "$policy" "$n" "$([ "$scenario" = c ] && echo 1 || echo 0)" >"$OUT/boot.err" 2>&1; then
        status=failed; reason="did not start: $(tail -n 1 "$OUT/boot.err")"
    fi
    if [ "$status" = ok ]; then
        for ((i = 0; i < n; i++)); do vms+=("vm$i=${RUN_VMS[i]}:$BOOT_MIB:$MAX_MIB"); done
        "$OMEM_PYTHON" "$top_srcdir/bench/overcommit-agent.py" --run "$RUN" --policy "$policy" \
            --budget-mib "$budget" --out "$OUT/samples.tsv" "${vms[@]}" 2>>"$OUT/agent.err" &
        AGENT_PID=$!
        omem_track_pid "$AGENT_PID"
        sleep 2
        start=$(omem_now)
        for ((i = 0; i < n; i++)); do
            guest_run "${RUN_VMS[i]}" "spawn job stamped $(job_command "$scenario" "$i" "$n")" 30 >/dev/null ||
                { status=failed; reason="could not start the workload in vm$i"; }
        done
        deadline=$((SECONDS + $(job_deadline "$scenario")))
        left=$n
        declare -A done_at=()
        while [ "$left" -gt 0 ] && [ "$SECONDS" -lt "$deadline" ]; do
            sleep 1
            for ((i = 0; i < n; i++)); do
                [ -n "${done_at[$i]:-}" ] && continue
                name=${RUN_VMS[i]}
                if ! guest_alive "$name"; then
                    done_at[$i]=lost; left=$((left - 1)); continue
                fi
                js=$(guest_job_status "$name" job)
                if [ "$js" != 255 ] && [ "$js" != 124 ]; then
                    done_at[$i]=$(omem_elapsed "$start"):$js; left=$((left - 1))
                fi
            done
        done
        sleep "$(idle_after "$scenario")"
        for ((i = 0; i < n; i++)); do
            name=${RUN_VMS[i]}
            oom=$(omem_guest_oom_kills "$name" 2>/dev/null || echo '-')
            case ${done_at[$i]:-} in
                lost) js=lost; end=- ;;
                "") js=lost; end=- ;;
                *) js=${done_at[$i]#*:}; end=${done_at[$i]%%:*} ;;
            esac
            printf '%s\tvm%d\tjob\t%s\t%s\t%s\n' "$RUN" "$i" "$js" "$end" "$oom" >>"$OUT/jobs.tsv"
            if guest_alive "$name"; then
                log=$(guest_run "$name" "cat /tmp/job.log" 30)
                printf '%s\n' "$log" >"$OUT/$RUN.vm$i.job.log"
                bench_parse_steps "$RUN" "vm$i" "$(step_interval_ms "$scenario")" <<<"$log" >>"$OUT/steps.tsv"
                # The module's counters after the run (demands, grants,
                # denies, OOM notifications and rescues), for whoever
                # reads a failure.
                [ "$policy" = omem ] &&
                    guest_run "$name" omem_status 30 \
                        >"$OUT/$RUN.vm$i.status" 2>/dev/null
                # The kernel's own account (the console shows errors only).
                guest_run "$name" "dmesg | grep -iE 'virtio_mem|memmap|hotplug|out of memory|page allocation' | tail -n 40" 30 \
                    >"$OUT/$RUN.vm$i.dmesg" 2>/dev/null
            fi
            if [ "$status" = ok ]; then
                if [ -z "${done_at[$i]:-}" ]; then status=failed; reason="workload in vm$i did not finish"
                elif [ "$js" = lost ]; then status=failed; reason="guest vm$i crashed"
                elif [ "$oom" != 0 ] && [ "$oom" != - ]; then status=failed; reason="oom kill in vm$i"
                elif [ "$js" != 0 ]; then status=failed; reason="workload in vm$i exited $js"
                fi
            fi
        done
        unset done_at
        omem_stop_pid "$AGENT_PID"
        AGENT_PID=
        peak=$(awk -F'\t' -v run="$RUN" '$1 == run && $4 != "-" { s[$2] += $4 } END { m = 0; for (t in s) if (s[t] > m) m = s[t]; print m }' "$OUT/samples.tsv")
        if [ "$status" = ok ] && [ "$peak" -gt "$budget" ]; then
            status=failed; reason="host over budget: $peak MiB committed > $budget MiB"
        fi
    fi
    run_teardown
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$RUN" "$scenario" "$policy" "$n" "$round" "$budget" "$status" "$reason" >>"$OUT/runs.tsv"
    bench_say "run $RUN: $status${reason:+ ($reason)}"
    [ "$status" = ok ]
}

# rotate LIST K: LIST rotated left by K, so each round starts with
# another policy and machine noise hits all alike.
rotate() {
    local -a l=($1)
    local k=$(($2 % ${#l[@]})) i out=()
    for ((i = 0; i < ${#l[@]}; i++)); do out+=("${l[(i + k) % ${#l[@]}]}"); done
    echo "${out[*]}"
}

# ---------------------------------------------------------------- main

OMEMD_CONFIG=$(mktemp)
omem_remove_at_exit "$OMEMD_CONFIG"
# The budget is the guests' memory alone, as for the other policies.
printf '[host]\nvm_overhead = 0\n' >"$OMEMD_CONFIG"
AGENT_PID=
omem_at_exit run_teardown

bench_say "machine: $(bench_machine)"
started=$SECONDS
for scenario in $SCENARIOS; do
    if [ "$scenario" = c ]; then
        # Data that is not zeroes, so the guest's page cache really fills.
        [ -s "$DISK" ] || head -c $((700 * 1024 * 1024)) /dev/urandom >"$DISK" || bench_die "cannot write $DISK"
        chmod 0644 "$DISK"
    fi
    for ((round = 1; round <= ROUNDS; round++)); do
        case $scenario in
            a) for p in $(rotate "$POLICIES" "$round"); do one_run a "$p" 1 "$round" "$BUDGET_A"; done ;;
            d) for p in $(rotate "$POLICIES" "$round"); do one_run d "$p" 1 "$round" "$BUDGET_A"; done ;;
            c) for p in $(rotate "$POLICIES" "$round"); do one_run c "$p" 2 "$round" "$BUDGET_C"; done ;;
            b) declare -A alive=()
               for p in $POLICIES; do alive[$p]=1; done
               for ((n = 2; n <= MAX_N; n++)); do
                   for p in $(rotate "$POLICIES" "$((round + n))"); do
                       [ "${alive[$p]}" = 1 ] || continue
                       one_run b "$p" "$n" "$round" "$BUDGET_B" || alive[$p]=0
                   done
               done
               unset alive ;;
        esac
    done
done
bench_say "all runs took $((SECONDS - started)) s"

section=$(mktemp)
omem_remove_at_exit "$section"
{
    echo "Measured with \`bench/overcommit.sh$([ "$QUICK" = 1 ] && echo " --quick")\` on $(date -u +%Y-%m-%d): $(bench_machine)."
    echo "Guests: $BOOT_MIB MiB boot, $MAX_MIB MiB max, one vCPU, the test kernel; budgets: a and d $BUDGET_A MiB, b $BUDGET_B MiB, c $BUDGET_C MiB. All runs took $((SECONDS - started)) s."
    echo
    "$OMEM_PYTHON" "$top_srcdir/bench/overcommit-report.py" "$OUT" --plots "$top_srcdir/docs/img" --img-prefix img
} >"$section" || bench_die "the report failed"
cat "$section"
[ "$BENCH_WRITE" = 1 ] && bench_write_section overcommit "$section"
exit 0
