#!/bin/bash
# tests/e2e/arbiter.sh — omemd as the host's global memory arbiter, end to
# end: three real TCG guests with omem_client.ko share one host budget
# under the real omemd and the real libvirtd.  Nothing is mocked.
#
# The budget is the TOTAL host memory for the omem VMs: each VM is charged
# boot + max(requested, plugged) + vm_overhead (docs/architecture.md,
# "The contract, defined once").  Here 3 x (256 MiB boot + 128 MiB overhead)
# plus a pool of POOL_MIB, of which every VM's min (384 MiB total, so 128
# MiB plugged) comes first.  A has 4000 shares, B and C 1000 each: A's fair
# share of what is left after the mins is four times B's.  B and C keep a
# 50 % buffer (their contract, set at define time), and during step 1 a
# surplus hold of ten minutes (a module parameter), so that their own
# give-back (SURPLUS) does not free what only a RECLAIM should.  The guests boot once and every step shares them:
#   0. boot   A, B, C boot in parallel; contracts set live (min 384M, cap =
#             max, shares); omemd --dry-run logs each min raise and
#             touches nothing; omemd starts; every guest reaches its min
#   1. contention  B and C take most of the pool with memload and exit
#             (their memory is idle but plugged); then A grows past what
#             is free, 64 MiB a second: A's growth completes, no OOM kill
#             anywhere, B and C never below min, committed <= budget at
#             every sample, and omemd RECLAIMs from B or C
#   2. omemd restart  kill -9 mid-growth of C and start it again: the
#             plugged sizes it finds are those before (+-1 block), every
#             session re-opens, the growth completes, no OOM kill
#   3. libvirtd restart  (only for a libvirtd ci/libvirtd started; TAP
#             skip otherwise, or when another user's domain runs): the
#             admission hook is installed first (libvirt reads hooks at
#             start); omemd logs "reconnected to libvirt" within 60 s,
#             keeps A, B, C with their plugged sizes, and grants again
#   4. admission  a fourth domain D whose min cannot fit: `virsh start D`
#             fails with the hook's "refused" message and its numbers
#             (skipped when the hook is not built)
#   5. destroyed mid-grant  B is destroyed while it grows: omemd drops it
#             (log + status), committed falls by >= B's boot + plugged
#             within 2 s, omemd runs on, A and C still answer
# A sampler records omemd's committed and budget and the guests' plugged
# sizes (libvirt's view) twice a second throughout.  Cleanup (trap):
# sampler, omemd, the hook file, then the domains (guest_cleanup);
# libvirtd stays running as found (restarted at most).
# About 1 to 1.5 minutes under TCG on two cores.  TAP on stdout.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
# shellcheck source=../lib/omem.sh
. "$top_srcdir/tests/lib/omem.sh"

BOOT_MIB=256
A_VMEM_MIB=1024
BC_VMEM_MIB=768
MIN_MIB=384
FLOOR_MIB=$((MIN_MIB - BOOT_MIB))   # the least plugged a VM at its min has
OVERHEAD_MIB=128                    # [host] vm_overhead, pinned in our config
A_SHARES=4000
BC_SHARES=1000
BC_BUFFER=50                        # percent; B's and C's contract buffer
BLOCK_MIB=2                         # the virtio-mem block
# What is left for growth after the fixed parts (boot + overhead) and the
# mins: B and C together take most of it, A's fair share of it is 2/3.
SHARE_POOL_MIB=1024
BUDGET_MIB=$((3 * (BOOT_MIB + OVERHEAD_MIB) + 3 * FLOOR_MIB + SHARE_POOL_MIB))
MIB=1048576
# B's and C's workload: with their 50 % buffer they plug ~512 MiB each.
BC_LOAD=384M
# A's paced workload: more than is free once B and C grew, less than A's
# fair share (floor + 2/3 of the share pool).
A_LOAD=640M
BOOT_TIMEOUT=180        # three TCG boots at once on two cores
ATTACH_TIMEOUT=60
MIN_TIMEOUT=30
GROW_TIMEOUT=150
RECONNECT_TIMEOUT=60
DROP_TIMEOUT=2          # a stopped VM's charge goes back "at once" (docs/omemd.md, "A VM's life")
HOLD_PARAM=/sys/module/omem_client/parameters/surplus_hold_ms
HOOK_NAME=omemtest-$$
HOOK_DIR=/etc/libvirt/hooks/qemu.d
HOOK=$HOOK_DIR/$HOOK_NAME
OMEM_QEMU_HOOK=$top_builddir/host-server/omem-qemu-hook

HOOK_INSTALLED=0
HOOK_DIRS_MADE=()
OMEMD_CONFIG=
# At exit, before omemd stops (omem.sh) and the domains go.
omem_at_exit arbiter_hook_remove

# arbiter_domain_xml NAME VMEM_MIB BUFFER: the harness's test guest with
# VMEM_MIB of virtio-mem and BUFFER % in its contract (convert writes the
# default 10 %; nothing else sets the buffer).
arbiter_domain_xml() {
    local GUEST_VMEM_MIB=$2 xml
    xml=$(guest_domain_xml "$1") || return 1
    grep -q '<omem:buffer percent="10"/>' <<<"$xml" || {
        echo "arbiter_domain_xml: no <omem:buffer percent=\"10\"/> in the converted XML" >&2
        return 1
    }
    sed "s|<omem:buffer percent=\"10\"/>|<omem:buffer percent=\"$3\"/>|" <<<"$xml"
}

# ---------------------------------------------------------------- guests

all_at_min() {
    local name
    for name in "$A" "$B" "$C"; do
        omem_plugged_at_least "$name" "$FLOOR_MIB" || return 1
    done
}

# load_for NAME EXTRA_MIB: a memload size that makes guest NAME ask for
# about EXTRA_MIB more: what it has available now plus EXTRA_MIB.
load_for() {
    local available
    available=$(omem_guest_meminfo_mib "$1" MemAvailable) || available=128
    echo "$(( (available + $2) / 32 * 32 ))M"
}

# ---------------------------------------------------------------- omemd

# The status figures one sample needs, from one read of the socket
# (omem_status_raw): "committed budget plugged(A) plugged(B) plugged(C)"
# in MiB ("-" for a VM the status does not list, "- -" for the host
# without omemd).
ARBITER_STATUS_SAMPLE='
import json, sys
MIB = 1 << 20
doc = json.load(sys.stdin)
host = doc.get("host") or {}
out = [str(host.get("committed_bytes", "-")), str(host.get("budget_bytes", "-"))]
vms = {vm.get("name"): vm for vm in doc.get("vms", [])}
for name in sys.argv[1:]:
    vm = vms.get(name)
    out.append(str(vm.get("plugged_bytes", 0) // MIB) if vm else "-")
print(" ".join(out))
'

# status_sample: the line above for A, B, C.
status_sample() {
    local doc
    if ! doc=$(omem_status_raw 2>/dev/null); then
        echo "- - - - -"
        return 0
    fi
    "$OMEM_PYTHON" -c "$ARBITER_STATUS_SAMPLE" "$A" "$B" "$C" <<<"$doc"
}

# sample: twice a second, "SECONDS committed budget sA sB sC lA lB lC"
# (s: omemd's plugged, l: libvirt's) into $OMEM_SAMPLES.
sample() {
    local name libvirt
    while :; do
        libvirt=
        for name in "$A" "$B" "$C"; do
            libvirt="$libvirt $(omem_plugged_mib "$name" 2>/dev/null || echo -)"
        done
        echo "$(omem_now) $(status_sample)$libvirt" >>"$OMEM_SAMPLES"
        sleep 0.5
    done
}

# samples_since LINE: the samples after line LINE (wc -l at the start).
samples_since() {
    tail -n +"$(($1 + 1))" "$OMEM_SAMPLES"
}

sample_mark() {
    wc -l <"$OMEM_SAMPLES"
}

# check_budget WHAT MARK: committed <= budget in every sample since MARK
# in which omemd answered.
check_budget() {
    local verdict
    verdict=$(samples_since "$2" | awk '$2 != "-" && $3 != "-" {
            n++
            if ($2 > peak) peak = $2
            if ($2 > $3) over++
            budget = $3 }
        END { printf "%d %d %d %d\n", n, over, peak / 1048576, budget / 1048576 }')
    set -- "$1" $verdict
    check "$1: committed <= budget in every sample ($2 samples, $3 over; peak $4 of $5 MiB)" \
        test "$2" -gt 0 -a "$3" = 0
}

# check_min WHAT MARK COLUMN NAME: libvirt's plugged of NAME (sample column
# COLUMN) never below the min's FLOOR_MIB since MARK.
check_min() {
    local low
    low=$(samples_since "$2" | awk -v c="$3" '$c != "-" { if (low == "" || $c < low) low = $c }
        END { print (low == "" ? "-" : low) }')
    check "$1: $4 never below its min (lowest plugged $low MiB, floor $FLOOR_MIB)" \
        test "$low" != - -a "$low" -ge "$FLOOR_MIB"
}

status_lists_all() {
    omem_status_lists "$A" && omem_status_lists "$B" && omem_status_lists "$C"
}

# plugged_steady: libvirt's plugged of A, B, C the same over 3 s, so a
# comparison across a restart is not upset by a give-back in flight.
plugged_steady() {
    local first
    first=$(libvirt_plugged)
    sleep 3
    [ "$first" = "$(libvirt_plugged)" ]
}

libvirt_plugged() {
    local name out=
    for name in "$A" "$B" "$C"; do
        out="$out $(omem_plugged_mib "$name" || echo -)"
    done
    echo "${out# }"
}

available_mib() {
    local bytes
    bytes=$(omem_host_status available_bytes 2>/dev/null) && [ "$bytes" != null ] || { echo '?'; return 1; }
    echo $((bytes / MIB))
}

committed_mib() {
    local bytes
    bytes=$(omem_host_status committed_bytes) && [ "$bytes" != null ] || return 1
    echo $((bytes / MIB))
}

# ---------------------------------------------------------------- the hook

# arbiter_hook_install: the admission hook for this script's domains only
# (any other domain is let through untouched), before libvirtd restarts.
arbiter_hook_install() {
    local dir
    for dir in /etc/libvirt/hooks "$HOOK_DIR"; do
        [ -d "$dir" ] && continue
        mkdir -m 0755 "$dir" || return 1
        HOOK_DIRS_MADE=("$dir" "${HOOK_DIRS_MADE[@]:+${HOOK_DIRS_MADE[@]}}")
    done
    HOOK_INSTALLED=1
    cat >"$HOOK.tmp" <<EOF || return 1
#!/bin/sh
# Installed by tests/e2e/arbiter.sh (pid $$) for its run; removed by its
# cleanup.  libvirt calls it as: DOMAIN OPERATION SUB-OPERATION EXTRA.
case \$1 in
    $OMEMD_DOMAINS) ;;
    *) exit 0 ;;
esac
exec $OMEM_QEMU_HOOK --socket $OMEMD_RUN_DIR/admission.sock "\$@"
EOF
    chmod 0755 "$HOOK.tmp" && mv -f "$HOOK.tmp" "$HOOK"
}

# arbiter_hook_remove: the hook file, and the folders only if we made them.
arbiter_hook_remove() {
    local dir
    [ "$HOOK_INSTALLED" = 1 ] || return 0
    rm -f "$HOOK" "$HOOK.tmp"
    for dir in "${HOOK_DIRS_MADE[@]:+${HOOK_DIRS_MADE[@]}}"; do
        rmdir "$dir" 2>/dev/null
    done
    HOOK_INSTALLED=0
}

# ---------------------------------------------------------------- 0. boot

# set_contracts: min MIN_MIB, cap = max, shares, live, for A, B and C;
# on a failure, says which on stderr and returns 1.
set_contracts() {
    local name shares max output
    for name in "$A" "$B" "$C"; do
        if [ "$name" = "$A" ]; then
            shares=$A_SHARES max=$((BOOT_MIB + A_VMEM_MIB))
        else
            shares=$BC_SHARES max=$((BOOT_MIB + BC_VMEM_MIB))
        fi
        output=$(vo setmem-outsourced "$name" "${max}M" --min "${MIN_MIB}M" --shares "$shares" --live 2>&1) || {
            echo "setmem-outsourced $name: $output" >&2
            return 1
        }
    done
}

# all_sessions_open: every guest's module has an open session (within
# ATTACH_TIMEOUT each); prints the names of those without one.
all_sessions_open() {
    local name missing=
    for name in "$A" "$B" "$C"; do
        omem_wait_session "$name" "$ATTACH_TIMEOUT" || missing="$missing $name"
    done
    echo "${missing# }"
    [ -z "$missing" ]
}

step_boot() {
    local name adopted output missing
    guest_start a --boot-mib "$BOOT_MIB" --vmem-mib "$A_VMEM_MIB" || bail_out "could not start A"
    A=$GUEST
    B=${OMEM_DOMAIN_PREFIX}b-$$
    C=${OMEM_DOMAIN_PREFIX}c-$$
    guest_launch "$B" arbiter_domain_xml "$BC_VMEM_MIB" "$BC_BUFFER" || bail_out "could not start B"
    guest_launch "$C" arbiter_domain_xml "$BC_VMEM_MIB" "$BC_BUFFER" || bail_out "could not start C"
    guest_boot_ok "A, B and C boot" "$script_start" "$BOOT_TIMEOUT" client "$A" "$B" "$C"

    if output=$(set_contracts 2>&1); then
        ok "contracts set live: min $MIN_MIB MiB, cap = max, shares A $A_SHARES, B and C $BC_SHARES"
    else
        not_ok "contracts set live" "$output"
        bail_out "the steps need the contracts"
    fi

    OMEMD_CONFIG=$(mktemp)
    omem_remove_at_exit "$OMEMD_CONFIG"
    printf '[host]\nvm_overhead = %dM\n' "$OVERHEAD_MIB" >"$OMEMD_CONFIG"
    chmod 0644 "$OMEMD_CONFIG"

    # --dry-run first: it decides the mins and logs them, and touches
    # nothing (no resize, no transport device).
    omemd_start --config "$OMEMD_CONFIG" --budget "${BUDGET_MIB}M" --dry-run ||
        bail_out "omemd --dry-run does not start: $(omemd_log | tail -n 5)"
    dry_ok=1
    for name in "$A" "$B" "$C"; do
        omemd_wait_log "vm $name: contract -> GROW requested .* \[dry run\]$" 15 >/dev/null || dry_ok=
    done
    check "--dry-run decides each guest's min and logs it as a dry run" test -n "$dry_ok"
    omemd_stop >/dev/null
    dry_touched=
    for name in "$A" "$B" "$C"; do
        [ "$(omem_requested_mib "$name")" = 0 ] || dry_touched="$dry_touched $name:requested"
        omem_virsh dumpxml "$name" | grep -q "<shmem" && dry_touched="$dry_touched $name:shmem"
    done
    check "... and resizes and attaches nothing (${dry_touched:-requested 0, no <shmem>})" test -z "$dry_touched"

    omemd_start --config "$OMEMD_CONFIG" --budget "${BUDGET_MIB}M" ||
        bail_out "omemd does not start: $(omemd_log | tail -n 5)"
    if missing=$(all_sessions_open); then
        ok "omemd (budget $BUDGET_MIB MiB) opens a session with every guest ($(omem_elapsed "$script_start")s)"
    else
        not_ok "omemd (budget $BUDGET_MIB MiB) opens a session with every guest" "no session in: $missing" \
            "$(omemd_log | tail -n 10)"
        bail_out "the steps need every session"
    fi
    check "the status's budget_bytes is the budget" \
        test "$(omem_host_status budget_bytes)" = $((BUDGET_MIB * MIB))
    if poll_until "$MIN_TIMEOUT" all_at_min; then
        ok "every guest reaches its min: plugged A $(omem_plugged_mib "$A"), B $(omem_plugged_mib "$B"), C $(omem_plugged_mib "$C") MiB (>= $FLOOR_MIB)"
    else
        not_ok "every guest reaches its min" \
            "plugged A $(omem_plugged_mib "$A"), B $(omem_plugged_mib "$B"), C $(omem_plugged_mib "$C") MiB" \
            "$(omemd_log | tail -n 10)"
    fi
    diag "committed $(committed_mib) MiB of $BUDGET_MIB"
    # omemd adopts a cap when the requested size changes behind its back;
    # its own GROW to the min must never look like that.
    adopted=$(omemd_log | grep -E 'adopting cap')
    if [ -z "$adopted" ]; then
        ok "omemd keeps every cap while it plugs the mins (no 'adopting cap')"
    else
        not_ok "omemd keeps every cap while it plugs the mins (no 'adopting cap')" "$adopted"
        set_contracts || bail_out "cannot set the contracts again"
        diag "caps set again so that the next steps run on the contracts they expect"
    fi
}

# ---------------------------------------------------------------- 1. contention

step_contention() {
    local oom_before oom_after mark smark start name reclaims fair statuses hold
    oom_before=$(omem_guests_oom_kills "$A" "$B" "$C")
    mark=$(omemd_log_mark)
    smark=$(sample_mark)
    # B and C keep what they took until omemd reclaims it: their own
    # adaptive hold would give it back within seconds.
    hold=$(guest_run "$B" "cat $HOLD_PARAM" 30 | tr -dc 0-9)
    for name in "$B" "$C"; do
        guest_run "$name" "echo 600000 > $HOLD_PARAM" 30 >/dev/null
        memload_spawn "$name" take "--size $BC_LOAD --step 64M --interval 250ms --hold 1s --free-step 1024M"
    done
    poll_until "$GROW_TIMEOUT" guest_job_ended "$B" take && poll_until 30 guest_job_ended "$C" take
    statuses="$(guest_job_status "$B" take) $(guest_job_status "$C" take)"
    if [ "$statuses" = "0 0" ]; then
        ok "B and C take $BC_LOAD each and exit 0"
    else
        not_ok "B and C take $BC_LOAD each and exit 0" "exit status B C: $statuses (255: still running)" \
            "B: $(memload_tail "$B" take)" "C: $(memload_tail "$C" take)"
    fi
    diag "after B and C: plugged B $(omem_plugged_mib "$B"), C $(omem_plugged_mib "$C") MiB;" \
        "committed $(committed_mib) of $BUDGET_MIB MiB, available $(available_mib) MiB"
    for name in "$B" "$C"; do
        fair=$(omem_status_get "$name" arbiter.fair_share_bytes 2>/dev/null)
        [ "$fair" != null ] && diag "$name: fair share $((fair / MIB)) MiB (status)"
    done

    start=$(omem_now)
    memload_spawn "$A" grow "--size $A_LOAD --step 64M --interval 1s --hold forever --release-file /tmp/grow.release"
    if poll_until "$GROW_TIMEOUT" memload_settled "$A" grow && memload_holding "$A" grow; then
        ok "A's paced memload takes $A_LOAD ($(omem_elapsed "$start")s; plugged A $(omem_plugged_mib "$A"), B $(omem_plugged_mib "$B"), C $(omem_plugged_mib "$C") MiB)"
    else
        not_ok "A's paced memload takes $A_LOAD" "status $(guest_job_status "$A" grow): $(memload_tail "$A" grow)" \
            "$(omemd_log_since "$mark" | tail -n 15)"
    fi
    oom_after=$(omem_guests_oom_kills "$A" "$B" "$C")
    check "no OOM kill in A, B or C (oom_kill $oom_before -> $oom_after)" test "$oom_before" = "$oom_after"
    check_min contention "$smark" 8 B
    check_min contention "$smark" 9 C
    check_budget contention "$smark"
    reclaims=$(omemd_log_since "$mark" | grep -E "vm ($B|$C): RECLAIM")
    if [ -n "$reclaims" ]; then
        ok "omemd RECLAIMs from B or C for A ($(printf '%s\n' "$reclaims" | wc -l) line(s))"
        diag "$(printf '%s\n' "$reclaims" | head -n 4)"
    else
        not_ok "omemd RECLAIMs from B or C for A" "no 'RECLAIM' line for B or C; A's decisions:" \
            "$(omemd_log_since "$mark" | grep -E "vm $A: DEMAND" | tail -n 6)" \
            "B and C:" "$(omemd_log_since "$mark" | grep -E "vm ($B|$C):" | tail -n 8)"
    fi
    guest_run "$A" "touch /tmp/grow.release" 30 >/dev/null
    for name in "$B" "$C"; do
        guest_run "$name" "echo ${hold:-3000} > $HOLD_PARAM" 30 >/dev/null
    done
}

# ---------------------------------------------------------------- 2. omemd restart

step_omemd_restart() {
    local oom_before oom_after before after mark start load name b a ok_sizes=1 diffs= plugged requested room missing
    poll_until 60 guest_job_ended "$A" grow
    oom_before=$(omem_guests_oom_kills "$A" "$B" "$C")
    # C grows by up to 320 MiB, within what its device has left.
    start=$(omem_plugged_mib "$C")
    room=$((BC_VMEM_MIB - start - 64))
    load=$(load_for "$C" $((room < 320 ? room : 320)))
    # C is above its fair share: it grows only from a pool with room,
    # which A's own give-back (SURPLUS, after its memload ended) refills.
    poll_until 60 omem_pool_at_least $((room < 320 ? room : 320)) ||
        diag "the pool has only $(( $(omem_host_status pool_bytes) / MIB )) MiB for C's growth"
    memload_spawn "$C" regrow "--size $load --step 32M --interval 500ms --hold forever --release-file /tmp/regrow.release"
    if poll_until 60 omem_plugged_at_least "$C" $((start + 64)); then
        ok "C grows before omemd is killed ($load; plugged $start -> $(omem_plugged_mib "$C") MiB)"
    else
        not_ok "C grows before omemd is killed ($load)" "plugged $(omem_plugged_mib "$C") MiB (was $start)" \
            "$(omemd_log | grep "vm $C" | tail -n 5)"
    fi
    omemd_kill9
    check "the killed omemd is gone: its status socket no longer answers" not omem_status_raw
    # A plug or unplug in flight goes on without omemd, toward what was
    # requested: what the new omemd finds lies between plugged and
    # requested.  A resize the killed omemd had just issued shows in the
    # live XML within a second.
    sleep 1
    before=
    for name in "$A" "$B" "$C"; do
        plugged=$(omem_plugged_mib "$name")
        requested=$(omem_requested_mib "$name")
        before="$before $((requested < plugged ? requested : plugged)):$((requested > plugged ? requested : plugged))"
    done
    diag "omemd killed with SIGKILL while C grows (low:high of plugged, requested A B C:$before MiB)"
    mark=$(omemd_log_mark)
    start=$(omem_now)
    omemd_start --config "$OMEMD_CONFIG" --budget "${BUDGET_MIB}M" ||
        bail_out "omemd does not start again: $(omemd_log | tail -n 5)"
    poll_until 10 status_lists_all
    # What the new omemd found is its "managed" line: read before the
    # guests' new sessions send SURPLUS, which may shrink them at once.
    after=
    for name in "$A" "$B" "$C"; do
        after="$after $(omem_found_plugged_mib "$name" "$mark")"
    done
    after=${after# }
    set -- $before
    for b in "$@"; do
        a=${after%% *}
        after=${after#* }
        diffs="$diffs ${b%:*}->$a"
        if [ "$a" = - ] || [ "$a" -lt $((${b%:*} - BLOCK_MIB)) ] || [ "$a" -gt $((${b#*:} + BLOCK_MIB)) ]; then
            ok_sizes=0
        fi
    done
    check "the new omemd finds the plugged sizes as they were (A B C:$diffs MiB; between plugged and requested, +-1 block)" \
        test "$ok_sizes" = 1
    if missing=$(all_sessions_open); then
        ok "every guest's session re-opens ($(omem_elapsed "$start")s after the restart)"
    else
        not_ok "every guest's session re-opens" "no open session in: $missing" \
            "$(omemd_log_since "$mark" | grep -E "vm (${missing// /|}):" | tail -n 10)"
    fi
    if poll_until "$GROW_TIMEOUT" memload_settled "$C" regrow && memload_holding "$C" regrow; then
        ok "C's growth completes after the restart ($load; plugged $(omem_plugged_mib "$C") MiB)"
    else
        not_ok "C's growth completes after the restart" "status $(guest_job_status "$C" regrow): $(memload_tail "$C" regrow)" \
            "$(omemd_log_since "$mark" | tail -n 10)"
    fi
    oom_after=$(omem_guests_oom_kills "$A" "$B" "$C")
    check "no OOM kill across the restart (oom_kill $oom_before -> $oom_after)" test "$oom_before" = "$oom_after"
    guest_run "$C" "touch /tmp/regrow.release" 30 >/dev/null
}

# ---------------------------------------------------------------- 3. libvirtd restart

step_libvirtd_restart() {
    local foreign before after mark start output name load plugged
    LIBVIRTD_RESTARTED=0
    if ! guest_libvirtd_ours; then
        skip "libvirtd restart" "libvirtd was not started by ci/libvirtd in this run (ci/libvirtd status)"
        return
    fi
    foreign=$(guest_foreign_domains)
    if [ -n "$foreign" ]; then
        skip "libvirtd restart" "other domains run on this libvirtd: $foreign"
        return
    fi
    if [ -x "$OMEM_QEMU_HOOK" ] && [ -S "$OMEMD_RUN_DIR/admission.sock" ]; then
        # Installing is an action; step 4 checks that the hook works.
        if arbiter_hook_install; then
            diag "admission hook installed: $HOOK"
        else
            not_ok "install the admission hook $HOOK"
        fi
    else
        diag "no admission hook: $OMEM_QEMU_HOOK built: $([ -x "$OMEM_QEMU_HOOK" ] && echo yes || echo no)," \
            "$OMEMD_RUN_DIR/admission.sock: $([ -S "$OMEMD_RUN_DIR/admission.sock" ] && echo yes || echo no)"
    fi
    poll_until 30 plugged_steady || diag "plugged sizes still moving: $(libvirt_plugged) MiB"
    before=$(status_sample | cut -d' ' -f3-)
    mark=$(omemd_log_mark)
    start=$(omem_now)
    if ! output=$("$top_srcdir/ci/libvirtd" restart 2>&1); then
        not_ok "ci/libvirtd restart" "$output"
        return
    fi
    LIBVIRTD_RESTARTED=1
    diag "ci/libvirtd restart ($(omem_elapsed "$start")s): $output"
    check "libvirtd answers $OMEM_URI again after the restart" omem_virsh version
    if omemd_wait_log "reconnected to libvirt" "$RECONNECT_TIMEOUT" "$mark" >/dev/null; then
        ok "omemd logs 'reconnected to libvirt' ($(omem_elapsed "$start")s after the restart began)"
    else
        not_ok "omemd logs 'reconnected to libvirt' within ${RECONNECT_TIMEOUT}s" "$(omemd_log_since "$mark" | tail -n 10)"
    fi
    sleep 2
    check "omemd still runs" kill -0 "$OMEMD_PID"
    if omem_status_raw >/dev/null 2>&1; then
        ok "omemd still answers its status socket after the libvirtd restart"
    else
        not_ok "omemd still answers its status socket after the libvirtd restart" \
            "$(omemd_log_since "$mark" | tail -n 5)"
        # The next steps need a working omemd: start a fresh one.
        omemd_kill9
        omemd_start --config "$OMEMD_CONFIG" --budget "${BUDGET_MIB}M" ||
            bail_out "omemd does not start again: $(omemd_log | tail -n 5)"
        poll_until 10 status_lists_all
        diag "omemd killed and started again for the next steps"
    fi
    for name in "$A" "$B" "$C"; do
        check "$name still runs after the restart" guest_alive "$name"
    done
    after=$(status_sample | cut -d' ' -f3-)
    check "the status lists A, B, C with the same plugged sizes (before: $before, after: $after MiB)" \
        test "$before" = "$after"
    # B is above its fair share: it grows only from a pool with room.
    poll_until 60 omem_pool_at_least 192 ||
        diag "the pool has only $(( $(omem_host_status pool_bytes) / MIB )) MiB for B's growth"
    mark=$(omemd_log_mark)
    load=$(load_for "$B" 192)
    plugged=$(omem_plugged_mib "$B")
    memload_spawn "$B" again "--size $load --step 32M --interval 250ms --hold forever --release-file /tmp/again.release"
    if poll_until 60 memload_settled "$B" again && memload_holding "$B" again &&
       omemd_log_since "$mark" | grep -q -E "vm $B: DEMAND .* -> (PARTIAL )?GRANT"; then
        ok "a new DEMAND is granted after the restart (B: $load, plugged $plugged -> $(omem_plugged_mib "$B") MiB)"
    else
        not_ok "a new DEMAND is granted after the restart" "status $(guest_job_status "$B" again): $(memload_tail "$B" again)" \
            "$(omemd_log_since "$mark" | tail -n 10)"
    fi
    guest_run "$B" "touch /tmp/again.release" 30 >/dev/null
}

# ---------------------------------------------------------------- 4. admission

step_admission() {
    local output status=0 dir max=$((BOOT_MIB + A_VMEM_MIB))
    if [ "$HOOK_INSTALLED" != 1 ] || [ "${LIBVIRTD_RESTARTED:-0}" != 1 ]; then
        skip "admission refusal" "the admission hook is not active (not built, no admission socket, or no libvirtd restart)"
        return
    fi
    D=${OMEM_DOMAIN_PREFIX}d-$$
    dir=$(guest_rundir "$D")
    rm -rf "$dir"
    mkdir -m 0755 "$dir" || return
    OMEM_GUESTS+=("$D")
    GUEST_VMEM_MIB=$A_VMEM_MIB guest_domain_xml "$D" >"$dir/domain.xml" &&
        output=$(omem_virsh define "$dir/domain.xml" 2>&1) &&
        output=$(vo setmem-outsourced "$D" "${max}M" --min "${max}M" --config 2>&1) || {
        not_ok "define D with min $max MiB" "$output"
        return
    }
    diag "D needs $max + $OVERHEAD_MIB MiB; $(available_mib) MiB of the budget are left"
    output=$(omem_virsh start "$D" 2>&1) || status=$?
    if [ "$status" != 0 ]; then
        ok "virsh start D fails (exit $status)"
    else
        not_ok "virsh start D fails" "it started: $output"
        omem_virsh destroy "$D" >/dev/null 2>&1
    fi
    diag "virsh start D: $output"
    check "the error carries the hook's refusal with numbers" \
        grep -q -E 'refused.*[0-9]+ (MiB|GiB|bytes)|[0-9]+ (MiB|GiB|bytes).*refused' <<<"$output"
    omem_virsh undefine "$D" >/dev/null 2>&1
}

# ---------------------------------------------------------------- 5. destroyed mid-grant

step_destroy() {
    local mark load committed plugged dropped start output now
    # B must have room to grow: it released its last load (step 3) and
    # gives it back by its own SURPLUS.
    poll_until 60 omem_plugged_at_most "$B" $((BC_VMEM_MIB - 256)) ||
        diag "B still has $(omem_plugged_mib "$B") MiB plugged of $BC_VMEM_MIB"
    mark=$(omemd_log_mark)
    load=$(load_for "$B" 384)
    memload_spawn "$B" doomed "--size $load --step 64M --interval 250ms --hold forever"
    # Destroy it as soon as it asks; granted or deferred, it is mid-decision.
    if omemd_wait_log "vm $B: DEMAND" 30 "$mark" >/dev/null; then
        ok "B asks for memory before the destroy"
    else
        not_ok "B asks for memory before the destroy" "$(omemd_log_since "$mark" | tail -n 5)"
    fi
    diag "B's DEMAND: $(omemd_log_since "$mark" | grep -m1 "vm $B: DEMAND")"
    plugged=$(omem_plugged_mib "$B")
    committed=$(committed_mib)
    start=$(omem_now)
    output=$(omem_virsh destroy "$B" 2>&1) || {
        not_ok "virsh destroy B" "$output"
        return
    }
    diag "B destroyed while it grows (plugged $plugged MiB, committed $committed MiB)"
    check "libvirt no longer runs B" not guest_alive "$B"
    if poll_until "$DROP_TIMEOUT" not omem_status_lists "$B"; then
        ok "the status no longer lists B ($(omem_elapsed "$start")s)"
    else
        not_ok "the status no longer lists B within ${DROP_TIMEOUT}s"
    fi
    now=$(committed_mib) || now=$committed
    dropped=$((committed - now))
    check "committed dropped by >= B's boot + plugged ($dropped >= $((BOOT_MIB + plugged)) MiB)" \
        test "$dropped" -ge $((BOOT_MIB + plugged))
    check "omemd logs that B is no longer managed" \
        omemd_wait_log "vm $B: .*no longer managed" 5 "$mark"
    sleep 1
    check "omemd still runs" kill -0 "$OMEMD_PID"
    check "A still answers" guest_run "$A" true 30
    check "C still answers" guest_run "$C" true 30
    check "the status still lists A and C" status_lists_a_c
}

# ---------------------------------------------------------------- 6. drain

# Maintenance through the metadata: virt-omem drain brings C down to its
# min step by step (no grant meanwhile), undrain lets it ask again.
step_drain() {
    local output status=0 start plugged floor=$((MIN_MIB - BOOT_MIB))
    start=$(omem_now)
    output=$(vo drain "$C" --wait --timeout 90 2>&1) || status=$?
    plugged=$(omem_plugged_mib "$C")
    if [ "$status" = 0 ] && [ "$plugged" -le "$floor" ]; then
        ok "virt-omem drain --wait brings C to its min ($plugged MiB plugged, $(omem_elapsed "$start")s): $output"
    else
        not_ok "virt-omem drain --wait brings C to its min" "exit $status: $output" \
            "plugged $plugged MiB, floor $floor" "$(omemd_log | grep "vm $C" | tail -n 5)"
    fi
    check "the status shows C's contract draining" \
        test "$(omem_status_get "$C" contract.drain)" = True
    output=$(vo undrain "$C" 2>&1) || diag "undrain: $output"
    check "virt-omem undrain clears it ($output)" \
        poll_until 10 omem_status_is "$C" contract.drain False
}

# ---------------------------------------------------------------- 7. reboot

# A reset keeps the QEMU process and the device's requested size; the
# guest's virtio_mem plugs back up to it as it boots, its module says
# HELLO again, and omemd re-evaluates instead of assuming a reset to 0.
step_reboot() {
    local mark requested_before requested_after output status=0 line
    requested_before=$(omem_requested_mib "$A")
    mark=$(omemd_log_mark)
    # The harness's guests have on_reboot=destroy (QEMU's reboot action
    # "shutdown", which a reset obeys too); make this one reset for real.
    omem_virsh qemu-monitor-command "$A" '{"execute":"set-action","arguments":{"reboot":"reset"}}' \
        >/dev/null 2>&1 || diag "set-action reboot=reset failed: the reset may stop A"
    output=$(omem_virsh reset "$A" 2>&1) || status=$?
    check "virsh reset A (exit $status)" test "$status" = 0
    if line=$(omemd_wait_log "vm $A: rebooted" 20 "$mark"); then
        ok "omemd sees the reboot: ${line#*: }"
    else
        not_ok "omemd sees the reboot" "$output" "$(omemd_log_since "$mark" | tail -n 5)"
    fi
    if omemd_wait_log "vm $A: session open" 90 "$mark" >/dev/null; then
        ok "A's module says HELLO again after the reboot"
    else
        not_ok "A's module says HELLO again after the reboot" "$(omemd_log_since "$mark" | tail -n 5)"
    fi
    requested_after=$(omem_requested_mib "$A")
    check "requested survives the reboot inside the contract ($requested_before -> $requested_after MiB, floor $((MIN_MIB - BOOT_MIB)))" \
        test "$requested_after" -ge $((MIN_MIB - BOOT_MIB))
    check "A's plugged follows requested again (plugged $(omem_plugged_mib "$A"), requested $(omem_requested_mib "$A") MiB)" \
        poll_until 30 plugged_matches_requested "$A"
}

status_lists_a_c() {
    omem_status_lists "$A" && omem_status_lists "$C"
}

plugged_matches_requested() {
    [ "$(omem_plugged_mib "$1")" = "$(omem_requested_mib "$1")" ]
}

# ---------------------------------------------------------------- main

guest_require_host
vo_require
omemd_built || skip_all "host-server/omemd is not built"
script_start=$(omem_now)

omem_timed step "0. boot A, B, C; contracts; omemd" step_boot
omem_sampler_start sample || bail_out "cannot start the sampler"
omem_timed step "1. contention: B and C idle above their share, A grows" step_contention
omem_timed step "2. omemd killed mid-growth and restarted" step_omemd_restart
omem_timed step "3. libvirtd restart" step_libvirtd_restart
omem_timed step "4. admission refusal" step_admission
omem_timed step "5. B destroyed mid-grant" step_destroy
omem_timed step "6. C drained for maintenance" step_drain
omem_timed step "7. A reset (reboot, same QEMU)" step_reboot
check_budget "whole run" 0
# omemd's own footprint after all that (docs/benchmarks.md quotes it).
diag "omemd: $(grep -E '^(VmRSS|VmHWM|Threads)' "/proc/$OMEMD_PID/status" 2>/dev/null | tr -s ' \t' ' ' | tr '\n' ' ')"

diag "whole arbiter scenario: $(omem_elapsed "$script_start")s"
done_testing
