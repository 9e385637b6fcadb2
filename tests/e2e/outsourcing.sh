#!/bin/bash
# tests/e2e/outsourcing.sh — the outsourcing loop end to end: a real TCG
# guest with omem_client.ko, the real omemd, libvirtd's virtio-mem.
#
# One guest (256 MiB boot, 1536 MiB virtio-mem: max 1.75 GiB) is shared by
# the scenarios, in this order, each leaving the guest back on its boot RAM
# with omemd serving it:
#   4. no daemon  the guest boots and works on its boot RAM with no omemd;
#                 omemd started later attaches the device and a session opens
#   1. grow       memload takes 1 GiB in 64 MiB steps: it completes, no
#                 OOM kill in the guest, plugged >= 768 MiB
#   2. give back  memload frees: within 30 s plugged < 256 MiB and the
#                 QEMU's RssShmem (guest RAM; not RSS, which has TCG's code
#                 cache) fell by >= 512 MiB
#   5. restart    omemd is killed (-9) mid-growth and started again: it
#                 re-attaches the transport, plugged is unchanged, the
#                 growth goes on to 1 GiB with no OOM kill
#   3. cap        setmem-outsourced --live caps the guest at 768 MiB total;
#                 memload pushes past it: boot + plugged never exceeds
#                 768 MiB, the guest's own OOM killer kills memload, the
#                 guest lives on
#   6. foreign    `virsh update-memory-device --requested-size` behind
#                 omemd's back: omemd logs it and adopts boot + that size as
#                 the cap in the contract
#   7. stalled    the guest's QEMU is stopped (SIGSTOP) and a raised min
#                 makes omemd resize it: the libvirt call waits on the
#                 stopped QEMU, and meanwhile omemd's status socket answers
#                 within 2 s and a warning names the call that does not
#                 return; once QEMU runs again requested reaches the new
#                 min.  (A second contract change cannot be made then:
#                 libvirt's metadata write waits for the same domain job;
#                 the coalescing is unit/test-actuator's.)
# Scenarios run with guest_scenario --keep: its reset would detach the
# <shmem> and request 0, which is omemd's to do.
#
# omemd_start (tests/lib/omem.sh) limits omemd to this script's guest
# (--domains "omemtest-*-$$"), so the script may run beside other
# real-guest scripts and ci/demo.  about 1.5 minutes under TCG.  TAP on stdout.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
# shellcheck source=../lib/omem.sh
. "$top_srcdir/tests/lib/omem.sh"

BOOT_MIB=256
VMEM_MIB=1536
MIB_KIB=1024
BOOT_TIMEOUT=120
# omemd finds a running omem VM at start and attaches its transport; the
# guest probes the device and says HELLO within a second or two.
ATTACH_TIMEOUT=60
# 1 GiB in 64 MiB steps every 200 ms is ~4 s of touching under TCG, plus
# the plugs; generous for a busy two-core host.
GROW_TIMEOUT=180
GIVE_BACK_TIMEOUT=30     # give-back bound (docs/guest-client.md, "SURPLUS and RECLAIM")
GROW_MIN_PLUGGED_MIB=768
GIVE_BACK_RSS_MIB=512
CAP_MIB=768
FOREIGN_MIB=384
MAX_MIB=$((BOOT_MIB + VMEM_MIB))
# omemd's budget here: all of the guest's max (boot + device + QEMU's
# overhead, omemd's default 128 MiB), so only the contract limits.
OVERHEAD_MIB=128
BUDGET=$((BOOT_MIB + VMEM_MIB + OVERHEAD_MIB))M

# plugged_below MIB: the guest has less than MIB plugged.
plugged_below() {
    omem_plugged_at_most "$GUEST" $(($1 - 1))
}

# ---------------------------------------------------------------- 4. no daemon

scenario_no_daemon() {
    local total plugged status mark
    total=$(omem_guest_meminfo_mib "$GUEST" MemTotal)
    plugged=$(omem_plugged_mib "$GUEST")
    if [ "$plugged" = 0 ] && [ -n "$total" ] && [ "$total" -le "$BOOT_MIB" ]; then
        ok "without omemd the guest runs on its boot RAM (MemTotal $total MiB, plugged 0)"
    else
        not_ok "without omemd the guest runs on its boot RAM" "MemTotal ${total:-?} MiB, plugged ${plugged:-?} MiB"
    fi
    status=0
    guest_run "$GUEST" "memload --size 64M --step 16M --hold 0" 60 >/dev/null || status=$?
    check "a 64 MiB workload runs on boot RAM alone (exit $status)" test "$status" = 0
    check "the module waits for a device: no session" test "$(omem_session_state "$GUEST")" != open

    mark=$(omemd_log_mark)
    if ! omemd_start --budget "$BUDGET"; then
        not_ok "omemd starts" "$(omemd_log | tail -n 5)"
        bail_out "no omemd, nothing else to test"
    fi
    ok "omemd starts (budget $BUDGET)"
    omem_check_served "$GUEST" "$ATTACH_TIMEOUT" "$mark"
    check "omemd's status shows the session open" \
        test "$(omem_status_get "$GUEST" session.state 2>&1)" = open
}

# ---------------------------------------------------------------- 1. grow

# grow NAME INTERVAL: start memload taking 1 GiB in 64 MiB steps.
grow() {
    memload_spawn "$GUEST" "$1" "--size 1024M --step 64M --interval $2 --hold forever --release-file /tmp/$1.release"
}

scenario_grow() {
    local oom_before oom_after plugged start
    oom_before=$(omem_guest_oom_kills "$GUEST")
    start=$(omem_now)
    grow grow 200ms
    if poll_until "$GROW_TIMEOUT" memload_holding "$GUEST" grow; then
        ok "memload takes 1 GiB in 64 MiB steps on a 256 MiB guest ($(omem_elapsed "$start")s)"
    else
        not_ok "memload takes 1 GiB in 64 MiB steps on a 256 MiB guest" \
            "status $(guest_job_status "$GUEST" grow) after ${GROW_TIMEOUT}s:" "$(memload_log "$GUEST" grow | tail -n 5)" \
            "$(omemd_log | tail -n 10)"
    fi
    oom_after=$(omem_guest_oom_kills "$GUEST")
    check "no OOM kill in the guest (oom_kill $oom_before -> $oom_after)" \
        test "${oom_before:-x}" = "${oom_after:-y}"
    # libvirt's <current> lags the guest by up to a second.
    poll_until 5 omem_plugged_at_least "$GUEST" "$GROW_MIN_PLUGGED_MIB"
    plugged=$(omem_plugged_mib "$GUEST")
    check "plugged >= $GROW_MIN_PLUGGED_MIB MiB (it is ${plugged:-?} MiB)" \
        test "${plugged:-0}" -ge "$GROW_MIN_PLUGGED_MIB"
}

# ---------------------------------------------------------------- 2. give back

scenario_give_back() {
    local rss_before rss_after plugged start fell
    rss_before=$(omem_rss_shmem_kib "$GUEST")
    guest_run "$GUEST" "touch /tmp/grow.release" 30 >/dev/null
    poll_until 60 guest_job_ended "$GUEST" grow
    check "memload frees its 1 GiB and exits 0" test "$(guest_job_status "$GUEST" grow)" = 0
    start=$(omem_now)
    if poll_until "$GIVE_BACK_TIMEOUT" plugged_below "$BOOT_MIB"; then
        ok "within ${GIVE_BACK_TIMEOUT}s plugged is under $BOOT_MIB MiB ($(omem_plugged_mib "$GUEST") MiB after $(omem_elapsed "$start")s)"
    else
        not_ok "within ${GIVE_BACK_TIMEOUT}s plugged is under $BOOT_MIB MiB" \
            "plugged $(omem_plugged_mib "$GUEST") MiB" "$(omemd_log | tail -n 10)"
    fi
    # Unplugged blocks are discarded on the host as the unplug completes.
    rss_after=$(omem_rss_shmem_kib "$GUEST")
    fell=$(( (rss_before - rss_after) / MIB_KIB ))
    check "the QEMU's RssShmem fell by >= $GIVE_BACK_RSS_MIB MiB (${rss_before} -> ${rss_after} kB: $fell MiB)" \
        test "$fell" -ge "$GIVE_BACK_RSS_MIB"
}

# ---------------------------------------------------------------- 5. restart

scenario_restart() {
    local oom_before oom_after before after mark start
    oom_before=$(omem_guest_oom_kills "$GUEST")
    grow regrow 500ms
    if ! poll_until 90 omem_plugged_at_least "$GUEST" 256; then
        not_ok "the guest grows past 256 MiB plugged before omemd is killed" \
            "plugged $(omem_plugged_mib "$GUEST") MiB"
        return
    fi
    omemd_kill9
    before=$(omem_plugged_mib "$GUEST")
    diag "omemd killed with SIGKILL mid-growth (plugged $before MiB)"
    check "the killed omemd is gone: its status socket no longer answers" not omem_status_raw
    mark=$(omemd_log_mark)
    start=$(omem_now)
    if ! omemd_start --budget "$BUDGET"; then
        not_ok "omemd starts again" "$(omemd_log | tail -n 5)"
        bail_out "no omemd after the restart"
    fi
    if omemd_wait_log "vm $GUEST: transport attached" "$ATTACH_TIMEOUT" "$mark" >/dev/null &&
       omem_wait_session "$GUEST" "$ATTACH_TIMEOUT"; then
        ok "the new omemd re-attaches the transport and the session opens ($(omem_elapsed "$start")s)"
    else
        not_ok "the new omemd re-attaches the transport and the session opens" \
            "$(omemd_log_since "$mark" | tail -n 10)" "$(guest_run "$GUEST" omem_status 2>&1)"
    fi
    # What the new omemd found is what the guest had: nothing unplugged.
    after=$(omem_found_plugged_mib "$GUEST" "$mark")
    check "the new omemd takes over the plugged size unchanged (before kill $before MiB, found $after MiB)" \
        test "$after" = "$before"
    if poll_until "$GROW_TIMEOUT" memload_holding "$GUEST" regrow; then
        ok "the growth goes on to 1 GiB ($(omem_plugged_mib "$GUEST") MiB plugged)"
    else
        not_ok "the growth goes on to 1 GiB" "status $(guest_job_status "$GUEST" regrow):" \
            "$(memload_log "$GUEST" regrow | tail -n 5)" "$(omemd_log_since "$mark" | tail -n 10)"
    fi
    oom_after=$(omem_guest_oom_kills "$GUEST")
    check "no OOM kill across the restart (oom_kill $oom_before -> $oom_after)" \
        test "${oom_before:-x}" = "${oom_after:-y}"
    guest_run "$GUEST" "signal regrow TERM" 30 >/dev/null
    poll_until 60 guest_job_ended "$GUEST" regrow
    poll_until "$GIVE_BACK_TIMEOUT" plugged_below "$BOOT_MIB" ||
        diag "after the restart scenario $(omem_plugged_mib "$GUEST") MiB are still plugged"
}

# ---------------------------------------------------------------- 3. cap

scenario_cap() {
    local output status=0 peak=0 total plugged requested oom_before oom_after ended
    output=$(vo setmem-outsourced "$GUEST" "${CAP_MIB}M" --live 2>&1) || status=$?
    if [ "$status" != 0 ]; then
        not_ok "setmem-outsourced ${CAP_MIB}M --live" "exit $status: $output"
        return
    fi
    ok "setmem-outsourced ${CAP_MIB}M --live caps the guest at $CAP_MIB MiB total"
    oom_before=$(omem_guest_oom_kills "$GUEST")
    grow capped 200ms
    # Sample boot + plugged (and requested: a plug may lag it) while
    # memload pushes past the cap, until memload ends.
    for _ in $(seq $((GROW_TIMEOUT * 2))); do
        plugged=$(omem_plugged_mib "$GUEST") || plugged=0
        total=$((BOOT_MIB + plugged))
        [ "$total" -gt "$peak" ] && peak=$total
        requested=$(omem_requested_mib "$GUEST") || requested=0
        [ $((BOOT_MIB + requested)) -gt "$peak" ] && peak=$((BOOT_MIB + requested))
        guest_job_ended "$GUEST" capped && { ended=1; break; }
        sleep 0.5
    done
    check "boot + plugged never exceeds the cap (peak $peak MiB, cap $CAP_MIB MiB)" \
        test "$peak" -le "$CAP_MIB"
    oom_after=$(omem_guest_oom_kills "$GUEST")
    status=$(guest_job_status "$GUEST" capped)
    if [ "${ended:-0}" = 1 ] && [ "$status" = 137 ] && [ "${oom_after:-0}" -gt "${oom_before:-0}" ]; then
        ok "the guest's OOM killer kills memload (exit $status, oom_kill $oom_before -> $oom_after)"
    else
        not_ok "the guest's OOM killer kills memload" \
            "memload status $status, oom_kill $oom_before -> $oom_after" "$(memload_tail "$GUEST" capped)" \
            "$(guest_run "$GUEST" 'klog 10' 2>&1)"
        guest_run "$GUEST" "signal capped KILL" 30 >/dev/null
    fi
    check "the guest lives on and answers" guest_run "$GUEST" true 30
    check "omemd still runs" kill -0 "$OMEMD_PID"
    output=$(vo setmem-outsourced "$GUEST" "${MAX_MIB}M" --live 2>&1) ||
        diag "restoring the cap failed: $output"
}

# ---------------------------------------------------------------- 6. foreign

# An operator resizes the device with plain virsh: omemd sees it through
# the size event and adopts boot + that size as the VM's cap, in the
# contract metadata.
scenario_foreign() {
    local mark output status=0 line cap
    mark=$(omemd_log_mark)
    output=$(omem_virsh update-memory-device "$GUEST" --requested-size "${FOREIGN_MIB}MiB" --live 2>&1) ||
        status=$?
    check "virsh update-memory-device --requested-size ${FOREIGN_MIB}MiB --live (exit $status)" \
        test "$status" = 0
    if line=$(omemd_wait_log "vm $GUEST: requested changed to .* outside omemd" 30 "$mark"); then
        ok "omemd notices the foreign resize and says so: ${line#*: }"
    else
        not_ok "omemd notices the foreign resize" "$(omemd_log_since "$mark" | tail -n 5)"
    fi
    cap=$(vo dommemstat "$GUEST" 2>/dev/null | awk '$1 == "cap:" { print $2, $3 }')
    check "the contract's cap is now boot + ${FOREIGN_MIB} MiB ($cap)" \
        test "$(omem_status_get "$GUEST" contract.cap_bytes)" = $(((BOOT_MIB + FOREIGN_MIB) * MIB_KIB * 1024))
    output=$(vo setmem-outsourced "$GUEST" "${MAX_MIB}M" --live 2>&1) ||
        diag "restoring the cap failed: $output"
}

# ---------------------------------------------------------------- 7. stalled

STALL_STATUS_MS=2000   # the status socket's bound while the call waits (it answers in ms)
STALL_WARN_TIMEOUT=30  # the warning comes after 10 s (VM_ACTUATOR_SLOW_MS)
STALL_STEP_MIB=128     # each raise of min: above what is requested, so omemd must grow

# status_ms: how long one read of omemd's status socket takes, in ms
# (5000 and exit 1 when it does not answer within 5 s).
status_ms() {
    local start end
    start=$(date +%s%N)
    timeout 5 "$OMEM_PYTHON" -c "$OMEM_STATUS_READER" "$OMEM_STATUS_SOCKET" --raw >/dev/null 2>&1 ||
        { echo 5000; return 1; }
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}

# requested_at_least MIB: libvirt's requested size of the guest's device.
requested_at_least() {
    local requested
    requested=$(omem_requested_mib "$GUEST" 2>/dev/null) && [ "$requested" -ge "$1" ]
}

scenario_stalled() {
    local qemu mark output status=0 ms worst=0 line min_before requested
    qemu=$(omem_qemu_pid "$GUEST") || { not_ok "the guest's QEMU pid" "not found"; return; }
    min_before=$(omem_status_get "$GUEST" contract.min_bytes)
    requested=$(omem_requested_mib "$GUEST") || { not_ok "the guest's requested size" "unreadable"; return; }
    STALL_MIN1_MIB=$((BOOT_MIB + requested + STALL_STEP_MIB))
    mark=$(omemd_log_mark)
    kill -STOP "$qemu"
    # Whatever happens below, the QEMU runs again.
    output=$(vo setmem-outsourced "$GUEST" "${MAX_MIB}M" --min "${STALL_MIN1_MIB}M" --live 2>&1) || status=$?
    if [ "$status" != 0 ]; then
        kill -CONT "$qemu"
        not_ok "setmem-outsourced --min ${STALL_MIN1_MIB}M --live with the QEMU stopped" "exit $status: $output"
        return
    fi
    ok "setmem-outsourced --min ${STALL_MIN1_MIB}M --live with the QEMU stopped (the metadata needs no QEMU)"
    # omemd raises requested; the resize waits on the stopped QEMU.
    sleep 2
    for _ in 1 2 3 4 5; do
        ms=$(status_ms) || true
        [ "$ms" -gt "$worst" ] && worst=$ms
        sleep 0.5
    done
    check "omemd's status socket answers while the resize waits on the stopped QEMU (worst of 5: $worst ms, bound $STALL_STATUS_MS ms)"         test "$worst" -le "$STALL_STATUS_MS"
    if line=$(omemd_wait_log "vm $GUEST: libvirt has not answered a call for" "$STALL_WARN_TIMEOUT" "$mark"); then
        ok "omemd names the call that does not return: ${line#*: }"
    else
        not_ok "omemd warns about the call that does not return" "$(omemd_log_since "$mark" | tail -n 5)"
    fi
    ms=$(status_ms) || true
    check "... and still answers its status socket ($ms ms)" test "$ms" -le "$STALL_STATUS_MS"
    kill -CONT "$qemu"
    if poll_until 60 requested_at_least $((STALL_MIN1_MIB - BOOT_MIB)); then
        ok "once QEMU runs again, requested reaches the new min ($(omem_requested_mib "$GUEST") MiB)"
    else
        not_ok "requested reaches the new min after SIGCONT"             "requested $(omem_requested_mib "$GUEST") MiB" "$(omemd_log_since "$mark" | tail -n 8)"
    fi
    if line=$(omemd_wait_log "vm $GUEST: libvirt took [0-9.]+ s for one call" 30 "$mark"); then
        ok "the held call's time is logged when it returns: ${line#*: }"
    else
        not_ok "the held call's time is logged" "$(omemd_log_since "$mark" | tail -n 5)"
    fi
    check "the guest answers after SIGCONT" guest_run "$GUEST" true 60
    output=$(vo setmem-outsourced "$GUEST" "${MAX_MIB}M" --min "$((min_before / 1048576))M" --live 2>&1) ||
        diag "restoring min failed: $output"
}

# ---------------------------------------------------------------- main

guest_require_host
vo_require
omemd_built || skip_all "host-server/omemd is not built"
script_start=$(omem_now)

guest_start outsourcing --boot-mib "$BOOT_MIB" --vmem-mib "$VMEM_MIB" ||
    bail_out "could not start the guest"
guest_boot_ok "the guest boots" "$script_start" "$BOOT_TIMEOUT" client "$GUEST"

guest_scenario --keep "no daemon, then omemd" scenario_no_daemon
guest_scenario --keep "grow to 1 GiB" scenario_grow
guest_scenario --keep "give back" scenario_give_back
guest_scenario --keep "omemd restarts mid-growth" scenario_restart
guest_scenario --keep "cap" scenario_cap
guest_scenario --keep "foreign resize adopted as cap" scenario_foreign
guest_scenario --keep "a resize waits on a stopped QEMU" scenario_stalled

diag "whole outsourcing scenario: $(omem_elapsed "$script_start")s"
done_testing
