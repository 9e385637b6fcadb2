#!/bin/bash
# tests/e2e/hostile.sh — omem's promise about hostile guests, end to end: a guest
# that writes garbage, floods demands or lies is rate-limited or cut off
# alone with one log line; omemd never crashes and never grants past a
# contract.
#
# Three small guests under one real omemd: A and C misbehave through
# omem_client.ko's test hook (debugfs inject, guest-client/omem_inject.c),
# B is well-behaved and grows under memload the whole time.  A's cap is
# lowered to CAP_MIB total so "never past the contract" has teeth; a
# sampler follows A's requested and plugged sizes throughout.  C holds
# its memory under memload, for the lie a SURPLUS can tell.  In order:
#   idle-demand  (A, trusted, idle) NORMAL DEMANDs of 128 MiB while
#            plenty is available -> one "trust lowered" line, then A's
#            requested rises by at most one step per 10 s
#            (host-server/arbiter/trust.h)
#   lie      DEMAND of 2^63 bytes -> ERROR; SURPLUS with absurd figures
#            -> clamped (never below min); the session stays open
#   garbage  3 broken slots -> 3 ERRORs, one "refused" log line, still open
#   flood    300 DEMANDs back to back -> DENY RATE, then cut off with one
#            log line; the first DEMAND is granted at most up to the cap
#   garbage  (fresh connection) 10 broken slots -> cut off at error_limit,
#            one log line
#   index    (fresh connection) guest->host head out of range -> cut off,
#            one log line
#   reload   (fresh connection) SIGHUP lowers error_limit to 2 while A's
#            session is open; 3 broken slots now cut A off, one log line
# A cut-off connection is read no more, so before the next misbehaviour
# the test re-attaches A's transport device (detach + attach the same
# <shmem>), which is the documented way back.  At the end: omemd still
# runs, B's memload holds its memory with no OOM kill, B's one session is
# still open, A still runs on what it has.  Last:
#   fake-surplus (C, holding its memory) SURPLUS offering all it has
#            plugged, far over the MemAvailable of its own STATS ->
#            ignored, nothing unplugged; the third such offer gives one
#            "trust lowered" line; C's workload is not OOM-killed
# A boots with transparent_hugepage=never, which the module's THP restore
# (guest-client/omem_thp.c) must keep.
# ~2 min under TCG.  TAP on stdout.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
# shellcheck source=../lib/omem.sh
. "$top_srcdir/tests/lib/omem.sh"

BOOT_MIB=256
A_VMEM_MIB=768
B_VMEM_MIB=512
C_VMEM_MIB=512
CAP_MIB=512              # A's cap, total: at most 256 MiB plugged
A_MAX_PLUGGED_MIB=$((CAP_MIB - BOOT_MIB))
OVERHEAD_MIB=128         # omemd's default vm_overhead
# Beyond the guests' boot RAM and overhead, 768 MiB: B may take all its
# 512 MiB, A keeps room up to its cap; and C's 512 MiB on top.
BUDGET=$((768 + C_VMEM_MIB + 3 * (BOOT_MIB + OVERHEAD_MIB)))M
B_LOAD=448M              # needs ~256 MiB plugged on a 256 MiB guest
C_LOAD=448M              # the same on C: its plugged memory is in use
# omemd's trust (host-server/arbiter/trust.h defaults): one step per interval
# while distrusted.
TRUST_STEP_MIB=128
TRUST_INTERVAL_MS=10000
IDLE_DEMANDS=75          # 15 s at 200 ms
FAKE_SURPLUS_TRIES=4
OFFER_TIMEOUT=10         # an injected SURPLUS reaches omemd's log
B_MIN_PLUGGED_MIB=128
BOOT_TIMEOUT=120
ATTACH_TIMEOUT=60
SETTLE_TIMEOUT=20
INJECT=/sys/kernel/debug/omem_client/inject

inject() {
    guest_run "$A" "echo $1 > $INJECT" 30
}

# cut_off_lines MARK: omemd's log lines about A's cut-off since MARK: the
# cut-off itself and anything else said about a broken ring.
cut_off_lines() {
    omemd_log_since "$1" | grep -E "vm $A: .*(cut off|out of range|broke the)"
}

# reattach: detach A's transport device and attach the same one again:
# QEMU connects anew, omemd starts a fresh session (a new generation).
reattach() {
    local socket generation
    socket=$(omem_virsh dumpxml "$A" | sed -n "s/.*<server path='\([^']*\)'.*/\1/p" | head -n 1)
    generation=$(omem_status_get "$A" session.generation)
    guest_shmem_xml "$socket" omem0 >"$(guest_rundir "$A")/shmem-omem0.xml"
    guest_detach_shmem "$A" omem0 && guest_attach_shmem "$A" "$socket" omem0 &&
        poll_until "$ATTACH_TIMEOUT" session_reopened "$generation" &&
        omem_wait_session "$A" "$ATTACH_TIMEOUT"
}

# session_reopened GENERATION: omemd has A's session open on a later
# connection than GENERATION.
session_reopened() {
    omem_status_is "$A" session.state open &&
        [ "$(omem_status_get "$A" session.generation)" -gt "$1" ] 2>/dev/null
}

# sample: A's requested and plugged MiB, twice a second, into $OMEM_SAMPLES.
sample() {
    while :; do
        echo "$(omem_requested_mib "$A") $(omem_plugged_mib "$A")" >>"$OMEM_SAMPLES"
        sleep 0.5
    done
}

# check_contract WHAT: A never went past its cap or below min (0).
check_contract() {
    local peak
    peak=$(awk 'NF == 2 { if ($1 > m) m = $1; if ($2 > m) m = $2 } END { print m + 0 }' "$OMEM_SAMPLES")
    check "$1: A's requested and plugged never past cap - boot (peak $peak of $A_MAX_PLUGGED_MIB MiB, $(wc -l <"$OMEM_SAMPLES") samples)" \
        test "$peak" -le "$A_MAX_PLUGGED_MIB"
}

# check_bystander WHAT: omemd runs, B's session is untouched.
check_bystander() {
    check "$1: omemd still runs" kill -0 "$OMEMD_PID"
    check "$1: B's session is open in omemd" omem_status_is "$B" session.state open
}

# check_cut_off WHAT WHY MARK: A is cut off for WHY with exactly one line.
check_cut_off() {
    local what=$1 why=$2 mark=$3 lines
    check "$what: omemd cuts A off" poll_until "$SETTLE_TIMEOUT" omem_status_is "$A" session.state cut-off
    lines=$(cut_off_lines "$mark")
    check "$what: exactly one log line about it ($(printf '%s\n' "$lines" | grep -c .))" \
        test "$(printf '%s\n' "$lines" | grep -c .)" = 1
    check "$what: it is the documented line, for '$why'" \
        grep -q "vm $A: cut off (GOODBYE PROTOCOL): the guest $why" <<<"$lines"
    # omemd never blocks on a guest: when A has not read its replies
    # (the flood fills the host->guest ring), the GOODBYE is dropped.
    if poll_until 10 omem_client_state_is "$A" closed; then
        diag "$what: A's module saw the GOODBYE"
    else
        diag "$what: A's module did not get the GOODBYE (state $(omem_session_state "$A"))"
    fi
    check_bystander "$what"
}

errors_received_at_least() {
    [ "$(omem_client_field "$A" errors_received)" -ge "$1" ] 2>/dev/null
}

# trust_lines MARK NAME: omemd's "trust lowered" lines about NAME since MARK.
trust_lines() {
    omemd_log_since "$1" | grep "vm $2: trust lowered: "
}

trust_lowered_seen() {
    [ -n "$(trust_lines "$1" "$2")" ]
}

# check_trust_lowered WHAT NAME MARK: exactly one "trust lowered" line
# about NAME since MARK, none about B.
check_trust_lowered() {
    local what=$1 name=$2 mark=$3 lines
    lines=$(trust_lines "$mark" "$name")
    check "$what: exactly one 'trust lowered' line ($(printf '%s\n' "$lines" | grep -c .))" \
        test "$(printf '%s\n' "$lines" | grep -c .)" = 1
    [ -n "$lines" ] && diag "$what: ${lines#*vm }"
    check "$what: nothing about B's trust" test -z "$(omemd_log_since "$mark" | grep "vm $B: trust")"
    check_bystander "$what"
}

# ---------------------------------------------------------------- scenarios

# A asks for 128 MiB every 200 ms while idle, with its true MemAvailable.
# The first grant plugs; from then on each NORMAL DEMAND claims more than
# half the guest and twice its size available: three strikes in a second.
scenario_idle_demand() {
    local mark rates lowered_at start rise
    mark=$(omemd_log_mark)
    rates=$(mktemp)
    guest_run "$A" "spawn idle sh -c 'echo idle-demand $IDLE_DEMANDS > $INJECT'" 30 >/dev/null
    check "idle-demand: omemd lowers A's trust" \
        omemd_wait_log "vm $A: trust lowered: " 20 "$mark"
    # A's requested size, in ms and MiB, while the DEMANDs go on.
    lowered_at=$(date +%s%3N)
    start=$SECONDS
    while [ $((SECONDS - start)) -lt 12 ]; do
        echo "$(date +%s%3N) $(omem_requested_mib "$A")" >>"$rates"
        sleep 0.5
    done
    # The largest rise between two samples less than an interval apart.
    rise=$(awk -v interval="$TRUST_INTERVAL_MS" '
        $2 != "" { t[NR] = $1; r[NR] = $2 }
        END {
            for (i in t)
                for (j in t)
                    if (t[j] > t[i] && t[j] - t[i] < interval && r[j] - r[i] > m)
                        m = r[j] - r[i]
            print m + 0
        }' "$rates")
    check "idle-demand: after that A's requested rose by at most $TRUST_STEP_MIB MiB per 10 s ($rise MiB, $(wc -l <"$rates") samples from $lowered_at ms)" \
        test "$rise" -le "$TRUST_STEP_MIB"
    rm -f "$rates"
    poll_until 20 guest_job_ended "$A" idle || diag "idle-demand: A's injection still runs"
    check_trust_lowered idle-demand "$A" "$mark"
    check "idle-demand: A's session stays open" omem_status_is "$A" session.state open
    check_contract idle-demand
}

# C holds its plugged memory under memload and offers all of it back,
# far more than the STATS it sent a moment earlier show available.  omemd
# ignores each such offer (nothing of C's is unplugged, so its workload
# loses nothing) and counts it a strike: the third lowers C's trust.
scenario_fake_surplus() {
    local mark try oom_before attempt_mark requested_before requested_after
    mark=$(omemd_log_mark)
    oom_before=$(omem_guest_oom_kills "$C")
    requested_before=$(omem_requested_mib "$C")
    for try in $(seq 1 "$FAKE_SURPLUS_TRIES"); do
        attempt_mark=$(omemd_log_mark)
        guest_run "$C" "echo fake-surplus > $INJECT" 30 >/dev/null
        omemd_wait_log "vm $C: SURPLUS .* -> " "$OFFER_TIMEOUT" "$attempt_mark" >/dev/null
        if poll_until 2 trust_lowered_seen "$mark" "$C"; then
            diag "fake-surplus: trust lowered after $try offers"
            break
        fi
    done
    check "fake-surplus: omemd ignored C's offers as contradicting its STATS ($(grep -c "vm $C: SURPLUS .* -> ignored (offered" <<<"$(omemd_log_since "$mark")"))" \
        test "$(grep -c "vm $C: SURPLUS .* -> ignored (offered .* while its STATS showed" <<<"$(omemd_log_since "$mark")")" -ge 3
    check "fake-surplus: omemd never shrank C on them" \
        test -z "$(grep "vm $C: SURPLUS .* -> SHRINK" <<<"$(omemd_log_since "$mark")")"
    requested_after=$(omem_requested_mib "$C")
    check "fake-surplus: C's requested size was not lowered ($requested_before -> $requested_after MiB)" \
        test "${requested_after:-0}" -ge "${requested_before:-1}"
    check_trust_lowered fake-surplus "$C" "$mark"
    check "fake-surplus: C's memload was not OOM-killed (oom_kill $oom_before -> $(omem_guest_oom_kills "$C"))" \
        test "${oom_before:-x}" = "$(omem_guest_oom_kills "$C")"
    check "fake-surplus: C's memload still runs" guest_job_running "$C" load
}


scenario_lie() {
    local errors mark
    errors=$(omem_client_field "$A" errors_received)
    mark=$(omemd_log_mark)
    inject lie >/dev/null
    check "lie: omemd answers DEMAND 2^63 with ERROR" poll_until 10 errors_received_at_least $((errors + 1))
    sleep 2
    check "lie: A's session stays open" omem_status_is "$A" session.state open
    check "lie: no cut-off line" test -z "$(cut_off_lines "$mark")"
    check_contract lie
    check_bystander lie
}

scenario_garbage_errors() {
    local errors mark refused
    errors=$(omem_client_field "$A" errors_received)
    mark=$(omemd_log_mark)
    inject "garbage 3" >/dev/null
    check "garbage 3: three ERROR replies" poll_until 10 errors_received_at_least $((errors + 3))
    refused=$(omemd_log_since "$mark" | grep -c "vm $A: refused a guest message")
    check "garbage 3: one 'refused' log line ($refused)" test "$refused" = 1
    check "garbage 3: A's session stays open" omem_status_is "$A" session.state open
    check_bystander "garbage 3"
}

scenario_flood() {
    local denies mark
    denies=$(omem_client_field "$A" denies)
    mark=$(omemd_log_mark)
    inject "flood 300" >/dev/null
    check_cut_off "flood" "flooding (rate limit)" "$mark"
    check "flood: DENY replies reached A ($denies -> $(omem_client_field "$A" denies))" \
        test "$(omem_client_field "$A" denies)" -gt "$denies"
    sleep 2
    check_contract flood
}

scenario_garbage_cut_off() {
    local mark
    check "re-attach A's transport: a fresh session opens" reattach
    mark=$(omemd_log_mark)
    inject "garbage 10" >/dev/null
    check_cut_off "garbage 10" "too many protocol errors" "$mark"
}

scenario_index() {
    local mark
    check "re-attach A's transport: a fresh session opens" reattach
    mark=$(omemd_log_mark)
    inject index >/dev/null
    check_cut_off "index" "broke the guest->host ring index" "$mark"
}

# A reload lowers error_limit to 2 while A's session is open: three
# broken slots, harmless under the old limit of 8, now cut A off (the
# open session took the new limit), and B does not notice.
scenario_reload() {
    local mark
    check "re-attach A's transport: a fresh session opens" reattach
    printf '[policy]\nerror_limit = 2\n' >"$CONFIG"
    mark=$(omemd_log_mark)
    kill -HUP "$OMEMD_PID"
    check "reload: omemd applies the new config" omemd_wait_log "config reloaded" 10 "$mark"
    check "reload: A's session stayed open" omem_status_is "$A" session.state open
    mark=$(omemd_log_mark)
    inject "garbage 3" >/dev/null
    check_cut_off "reload, garbage 3" "too many protocol errors" "$mark"
}

# ---------------------------------------------------------------- main

guest_require_host
vo_require
omemd_built || skip_all "host-server/omemd is not built"
# The misbehaviour needs the module's test-only fault injection; without
# it there is nothing to test, so skip before three guests boot for nothing.
CLIENT_MODULE=$top_builddir/guest-client/omem_client.ko
nm "$CLIENT_MODULE" 2>/dev/null | grep -q ' T omem_inject_create$' ||
    skip_all "$CLIENT_MODULE has no fault injection (debugfs inject): configure --enable-fault-injection and make"
script_start=$(omem_now)

guest_start hostile-b --boot-mib "$BOOT_MIB" --vmem-mib "$B_VMEM_MIB" ||
    bail_out "could not start guest B"
B=$GUEST
# A's speed does not matter: it also shows the module keeps a
# transparent_hugepage= choice from the command line (guest-client/omem_thp.c).
guest_start hostile-a --boot-mib "$BOOT_MIB" --vmem-mib "$A_VMEM_MIB" \
    --cmdline transparent_hugepage=never ||
    bail_out "could not start guest A"
A=$GUEST
guest_start hostile-c --boot-mib "$BOOT_MIB" --vmem-mib "$C_VMEM_MIB" ||
    bail_out "could not start guest C"
C=$GUEST
guest_boot_ok "A, B and C boot" "$script_start" "$BOOT_TIMEOUT" client "$A" "$B" "$C"

thp_a() {
    guest_run "$A" "cat /sys/kernel/mm/transparent_hugepage/$1" 30
}
check "A booted with transparent_hugepage=never: THP stays [never] ($(thp_a enabled))" \
    grep -qF '[never]' <<<"$(thp_a enabled)"
check "A: the module still restored what the small boot wiped (defrag $(thp_a defrag))" \
    grep -qF '[madvise]' <<<"$(thp_a defrag)"
check "A: no khugepaged" test -z "$(guest_run "$A" "cat /proc/[0-9]*/comm" 30 | grep -x khugepaged)"

CONFIG=$(mktemp)
omem_remove_at_exit "$CONFIG"
omemd_start --config "$CONFIG" --budget "$BUDGET" || bail_out "omemd does not start: $(omemd_log | tail -n 5)"
if omem_wait_session "$A" "$ATTACH_TIMEOUT" && omem_wait_session "$B" "$ATTACH_TIMEOUT" &&
    omem_wait_session "$C" "$ATTACH_TIMEOUT"; then
    ok "omemd attaches the three guests and their sessions open ($(omem_elapsed "$script_start")s)"
else
    not_ok "omemd attaches the three guests and their sessions open"
    bail_out "no sessions: $(omemd_log | tail -n 10)"
fi
if guest_run "$A" "test -e $INJECT" 30 >/dev/null; then
    ok "A's module has $INJECT"
else
    bail_out "A's module has no $INJECT although $CLIENT_MODULE was built with it"
fi
output=$(vo setmem-outsourced "$A" "${CAP_MIB}M" --live --wait --timeout 30 2>&1) ||
    bail_out "setmem-outsourced $A ${CAP_MIB}M: $output"
check "A capped at $CAP_MIB MiB total: omemd logs A's new contract with that cap" \
    omemd_wait_log "vm $A: contract: min .*, cap $CAP_MIB MiB" 15

B_OOM_BEFORE=$(omem_guest_oom_kills "$B")
B_PLUGGED_BEFORE=$(omem_plugged_mib "$B")
memload_spawn "$B" load "--size $B_LOAD --step 32M --interval 250ms --hold forever"
memload_spawn "$C" load "--size $C_LOAD --step 32M --interval 250ms --hold forever"
omem_sampler_start sample || bail_out "cannot start the sampler"

omem_timed scenario "idle demand" scenario_idle_demand
omem_timed scenario "lie" scenario_lie
omem_timed scenario "garbage under the error limit" scenario_garbage_errors
omem_timed scenario "flood" scenario_flood
omem_timed scenario "garbage past the error limit" scenario_garbage_cut_off
omem_timed scenario "ring index" scenario_index
omem_timed scenario "reload" scenario_reload

poll_until 60 memload_holding "$C" load ||
    diag "C's memload does not hold $C_LOAD yet: $(memload_log "$C" load | tail -n 1)"
omem_timed scenario "fake surplus" scenario_fake_surplus

# ---------------------------------------------------------------- B, A, omemd

if poll_until 60 memload_holding "$B" load; then
    ok "B's memload holds $B_LOAD ($(omem_elapsed "$script_start")s)"
else
    not_ok "B's memload holds $B_LOAD" "$(memload_tail "$B" load)"
fi
plugged=$(omem_plugged_mib "$B")
check "B's DEMANDs were granted: plugged $B_PLUGGED_BEFORE -> $plugged MiB (>= $B_MIN_PLUGGED_MIB)" \
    test "${plugged:-0}" -ge "$B_MIN_PLUGGED_MIB"
check "omemd logged GRANTs for B" grep -q "vm $B: DEMAND .* -> GRANT" <<<"$(omemd_log)"
oom=$(omem_guest_oom_kills "$B")
check "no OOM kill in B (oom_kill $B_OOM_BEFORE -> $oom)" test "${B_OOM_BEFORE:-x}" = "${oom:-y}"
check "B's module kept its one session (sessions_opened $(omem_client_field "$B" sessions_opened))" \
    test "$(omem_client_field "$B" sessions_opened)" = 1
check "B's session is open in the guest" omem_client_state_is "$B" open
check "omemd never cut B off" test -z "$(omemd_log | grep "vm $B: .*cut off")"
check "A still runs and answers" guest_run "$A" true 30
check_contract "throughout"
check "omemd still runs" kill -0 "$OMEMD_PID"
guest_run "$B" "signal load TERM" 30 >/dev/null
diag "whole hostile scenario: $(omem_elapsed "$script_start")s"
done_testing
