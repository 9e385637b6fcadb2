#!/bin/bash
# bench/reaction.sh — how long a guest's workload waits for memory it does
# not have: omem (module DEMAND -> omemd -> virtio-mem plug) beside a
# balloon deflated with `virsh setmem`, same steps, same run.
#
# omem.  One test guest (256 MiB boot, 1536 MiB virtio-mem, omem_client.ko)
# under omemd.  A cycle is two memload runs of STEPS steps of STEP MiB with
# INTERVAL between them, each memload line time-stamped in the guest
# (/proc/uptime, 10 ms):
#   cold  the guest starts from its boot RAM: every step past the first
#         does not fit and waits for the module's DEMAND to be granted and
#         plugged (or is covered by an earlier, anticipating DEMAND);
#   warm  straight after the cold run frees everything, while the memory
#         is still plugged: the same steps, all fitting: the pure cost of
#         touching STEP MiB under TCG.
# A step's reaction is cold minus warm duration of the same step: the time
# the workload waited for memory.  Then memload is gone, the guest gives
# the memory back (SURPLUS), and the next cycle starts from boot RAM again.
# The figure is the median over every step of every cycle, beside the
# median over the steps that really stalled (reaction > 20 ms); the goal
# is <= 250 ms under TCG.
#
# Balloon baseline.  A guest of 256 + STEPS*STEP MiB with a virtio balloon
# (no virtio-mem) booted ballooned down to 256 MiB; `virsh setmem --live`
# raises it STEP MiB at a time and the time from the call to the balloon's
# "actual" reaching the new size (QEMU's query-balloon, polled with virsh
# dommemstat: ~20 ms a call, the figures' resolution) is the deflate time; inflating back to 256
# MiB is timed too.  Same steps, same cycles, on the same machine, in the
# same run.
#
#   bench/reaction.sh [--cycles N] [--steps N] [--step-mib N] [--interval MS]
#                     [--only omem|balloon] [--write]
#
# Root, libvirtd (ci/libvirtd start), a build with omemd and the module.
# Prints a Markdown section; --write puts it into docs/benchmarks.md.
# About 4 minutes under TCG with the defaults.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
BENCH_NAME=reaction
# shellcheck source=../tests/lib/guest.sh
. "$top_srcdir/tests/lib/guest.sh"
# shellcheck source=../tests/lib/omem.sh
. "$top_srcdir/tests/lib/omem.sh"
# shellcheck source=lib.sh
. "$top_srcdir/bench/lib.sh"

CYCLES=3
STEPS=6
STEP_MIB=128
INTERVAL_MS=1000
ONLY=
BOOT_TIMEOUT=120
SESSION_TIMEOUT=60
# The guest must be back on its boot RAM before a cold run; the e2e test
# expects the give-back within 30 s, so this leaves room.
GIVE_BACK_TIMEOUT=90
# Plugged memory under this counts as "back on boot RAM" (the module may
# keep a little for its reserve and buffer).
GIVE_BACK_SLACK_MIB=64
# A step that waited longer than this for memory "stalled"; below it the
# difference is the 10 ms clock and TCG noise.
STALL_MS=20
BALLOON_POLL_TIMEOUT=30

while [ $# -gt 0 ]; do
    case $1 in
        --cycles) CYCLES=$2; shift 2 ;;
        --steps) STEPS=$2; shift 2 ;;
        --step-mib) STEP_MIB=$2; shift 2 ;;
        --interval) INTERVAL_MS=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --write) BENCH_WRITE=1; shift ;;
        -h|--help) sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        *) bench_die "unknown option $1 (see --help)" ;;
    esac
done
case $ONLY in ''|omem|balloon) ;; *) bench_die "--only omem or balloon" ;; esac
PEAK_MIB=$((STEPS * STEP_MIB))

# The exit trap of tests/lib/guest.sh stops omemd (omem.sh registers it)
# and removes the guests.

[ "$(id -u)" = 0 ] || bench_die "needs root (qemu:///system)"
omem_virsh version >/dev/null 2>&1 || bench_die "libvirtd does not answer; ci/libvirtd start"

# ------------------------------------------------------------------ omem

# The guest-side timed memload: "UPTIME start", then each memload line
# prefixed with the uptime it was read at.  read from /proc is a shell
# builtin: no fork between memload's line and its time stamp.
timed_memload() {
    local args=$1
    echo "read -r up _ </proc/uptime; echo \"\$up start\"; memload $args | while IFS= read -r l; do read -r up _ </proc/uptime; echo \"\$up \$l\"; done"
}

# step_durations OUTPUT: one line per growth step, its duration in ms
# (interval excluded), from a timed memload's output.
step_durations() {
    awk -v interval="$INTERVAL_MS" '
        $2 == "start" { last = $1; k = 0; next }
        $2 == "memload:" && $3 == "held" && !done {
            if (k > 0) d = ($1 - last) * 1000 - interval; else d = ($1 - last) * 1000
            printf "%.0f\n", d < 0 ? 0 : d
            last = $1; k++; next }
        $2 == "memload:" && ($3 == "holding" || $3 == "releasing") { done = 1 }'
}

omem_cold=() omem_warm=() omem_reaction=()
run_omem() {
    local cycle cold warm args plugged i c w
    guest_start bench-react || bench_die "could not start the omem guest"
    guest_wait_for "$GUEST" 'OMEM-GUEST: booted.*omem_client=loaded' "$BOOT_TIMEOUT" >/dev/null ||
        bench_die "the omem guest did not boot with omem_client.ko"
    omemd_start || bench_die "omemd did not start"
    omem_wait_session "$GUEST" "$SESSION_TIMEOUT" ||
        bench_die "no session with omemd within ${SESSION_TIMEOUT}s"
    args="--size ${PEAK_MIB}M --step ${STEP_MIB}M --interval ${INTERVAL_MS}ms --hold 0 --free-step ${PEAK_MIB}M --free-interval 0"
    for cycle in $(seq "$CYCLES"); do
        plugged=$(omem_plugged_mib "$GUEST")
        bench_say "omem cycle $cycle: cold run from boot RAM (plugged $plugged MiB)"
        cold=$(guest_run "$GUEST" "$(timed_memload "$args")" 600) ||
            bench_die "cold memload failed: $cold"
        grep -q 'memload: done' <<<"$cold" || bench_die "cold memload did not finish: $cold"
        bench_say "omem cycle $cycle: warm run (plugged $(omem_plugged_mib "$GUEST") MiB)"
        warm=$(guest_run "$GUEST" "$(timed_memload "$args")" 600) ||
            bench_die "warm memload failed: $warm"
        mapfile -t c < <(step_durations <<<"$cold")
        mapfile -t w < <(step_durations <<<"$warm")
        for i in "${!c[@]}"; do
            omem_cold+=("${c[$i]}")
            omem_warm+=("${w[$i]:-0}")
            omem_reaction+=($(( c[i] - ${w[$i]:-0} > 0 ? c[i] - ${w[$i]:-0} : 0 )))
        done
        bench_say "omem cycle $cycle: cold ${c[*]} ms, warm ${w[*]} ms"
        [ "$cycle" = "$CYCLES" ] && break
        poll_until "$GIVE_BACK_TIMEOUT" omem_plugged_at_most "$GUEST" "$GIVE_BACK_SLACK_MIB" ||
            bench_say "warning: still $(omem_plugged_mib "$GUEST") MiB plugged after ${GIVE_BACK_TIMEOUT}s; the next cold run starts with it"
    done
}

# ------------------------------------------------------------------ balloon

# balloon_actual_mib: the balloon's "actual" (QEMU's query-balloon, what
# the guest driver last reported), in MiB.  One virsh call costs ~20 ms
# here: that is the resolution of the balloon figures.
balloon_actual_mib() {
    omem_balloon_actual_mib "$GUEST_BALLOON"
}

# balloon_set MIB: setmem, then poll actual until it is MIB; prints ms.
balloon_set() {
    local want=$1 start now actual
    start=$EPOCHREALTIME
    omem_virsh setmem "$GUEST_BALLOON" "${want}M" --live >/dev/null ||
        bench_die "virsh setmem $GUEST_BALLOON ${want}M failed"
    while :; do
        actual=$(balloon_actual_mib)
        now=$EPOCHREALTIME
        [ "$actual" = "$want" ] && break
        awk -v s="$start" -v n="$now" -v t="$BALLOON_POLL_TIMEOUT" 'BEGIN { exit !(n - s > t) }' &&
            bench_die "balloon stuck at ${actual:-?} MiB, want $want, after ${BALLOON_POLL_TIMEOUT}s"
    done
    awk -v s="$start" -v n="$now" 'BEGIN { printf "%.0f\n", (n - s) * 1000 }'
}

balloon_deflate=() balloon_inflate=()
run_balloon() {
    local cycle k size ms
    # The image is the one guest_start builds; build it when omem did not run.
    "$top_srcdir/tests/guest/mkinitrd.sh" --memload "$top_builddir/tests/guest/memload" \
        --client-module "$top_builddir/guest-client/omem_client.ko" "$OMEM_TEST_DIR/img" >&2 ||
        bench_die "building the guest image failed"
    mkdir -p "$OMEM_TEST_LOGDIR"
    omem_balloon_guest_start bench-balloon $((256 + PEAK_MIB)) 256 ||
        bench_die "could not start the balloon guest"
    guest_wait_for "$GUEST_BALLOON" 'OMEM-GUEST: booted' "$BOOT_TIMEOUT" >/dev/null ||
        bench_die "the balloon guest did not boot"
    balloon_set 256 >/dev/null
    for cycle in $(seq "$CYCLES"); do
        for k in $(seq "$STEPS"); do
            size=$((256 + k * STEP_MIB))
            ms=$(balloon_set "$size")
            balloon_deflate+=("$ms")
        done
        ms=$(balloon_set 256)
        balloon_inflate+=("$ms")
        bench_say "balloon cycle $cycle: deflate ${balloon_deflate[*]: -$STEPS} ms, inflate back $ms ms"
    done
}

# ------------------------------------------------------------------ run

[ "$ONLY" != balloon ] && { omemd_built || bench_die "omemd is not built yet (host-server/omemd); --only balloon measures the baseline alone"; }
[ "$ONLY" != balloon ] && run_omem
[ "$ONLY" != omem ] && run_balloon

fmt() { [ $# -gt 0 ] && omem_median "$@" || echo "–"; }
stalled=()
for r in "${omem_reaction[@]:+${omem_reaction[@]}}"; do
    [ "$r" -gt "$STALL_MS" ] && stalled+=("$r")
done
react=$(fmt "${omem_reaction[@]:+${omem_reaction[@]}}")
react_stalled=$(fmt "${stalled[@]:+${stalled[@]}}")
deflate=$(fmt "${balloon_deflate[@]:+${balloon_deflate[@]}}")
inflate=$(fmt "${balloon_inflate[@]:+${balloon_inflate[@]}}")
max_of() { printf '%s\n' "$@" | sort -g | tail -n 1; }
ratio=–
[ "$react" != – ] && [ "$deflate" != – ] && ratio="$(omem_ratio "$react" "$deflate")×"
ratio_stalled=–
[ "$react_stalled" != – ] && [ "$deflate" != – ] && ratio_stalled="$(omem_ratio "$react_stalled" "$deflate")×"
verdict=
[ "$react" != – ] && verdict=$(awk -v r="$react" -v s="$react_stalled" 'BEGIN {
    m = (s == "–") ? r : s; print (m <= 250) ? "meets the goal (<= 250 ms)" : "misses the goal (<= 250 ms)" }')

section=$(mktemp)
{
cat <<EOF
### Reaction: a workload short of memory, omem vs. balloon

- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(bench_machine)
- Command: \`bench/reaction.sh --cycles $CYCLES --steps $STEPS --step-mib $STEP_MIB --interval $INTERVAL_MS${ONLY:+ --only $ONLY}\`
- $CYCLES cycles x $STEPS steps of $STEP_MIB MiB (peak $PEAK_MIB MiB above a 256 MiB boot), $INTERVAL_MS ms between steps; medians over all steps

| | median (ms) | max (ms) | steps | per step (ms) |
|---|---:|---:|---:|---|
EOF
if [ "${#omem_reaction[@]}" -gt 0 ]; then
    cat <<EOF
| omem: a step's wait for memory (cold − warm) | $react | $(max_of "${omem_reaction[@]}") | ${#omem_reaction[@]} | ${omem_reaction[*]} |
| omem: steps that stalled (> $STALL_MS ms) only | $react_stalled | | ${#stalled[@]} | |
| omem: cold step (touch + wait) | $(fmt "${omem_cold[@]}") | $(max_of "${omem_cold[@]}") | ${#omem_cold[@]} | ${omem_cold[*]} |
| omem: warm step (touch only, memory present) | $(fmt "${omem_warm[@]}") | $(max_of "${omem_warm[@]}") | ${#omem_warm[@]} | ${omem_warm[*]} |
EOF
fi
if [ "${#balloon_deflate[@]}" -gt 0 ]; then
    cat <<EOF
| balloon: \`virsh setmem\` +$STEP_MIB MiB until deflated | $deflate | $(max_of "${balloon_deflate[@]}") | ${#balloon_deflate[@]} | ${balloon_deflate[*]} |
| balloon: \`virsh setmem\` back to 256 MiB (inflate $PEAK_MIB MiB) | $inflate | $(max_of "${balloon_inflate[@]}") | ${#balloon_inflate[@]} | ${balloon_inflate[*]} |
EOF
fi
cat <<EOF
| **ratio omem wait / balloon deflate** | **$ratio** (stalled steps: $ratio_stalled) | | | ${verdict:-omem not measured} |
EOF
} >"$section"
cat "$section"
[ "$BENCH_WRITE" = 1 ] && bench_write_section reaction "$section" && bench_say "wrote $BENCH_DOC"
rm -f "$section"
exit 0
