#!/bin/bash
# bench/rpc-roundtrip.sh — the omem-rpc round trip in the guest kernel
# against the raw doorbell floor, measured in the same run on one guest.
#
# Boots one test guest (tests/lib/guest.sh), serves its transport — omemd
# when it is built (it finds the guest and attaches the ivshmem device
# itself), else tests/tools/omem-ivshmem-serve attached by hand — waits for
# omem_client.ko's session, then alternates, ROUNDS times, in ABBA order so
# drift on this noisy machine hits both alike:
#   omem_ping TRIPS       PING/PONG through the host's omem-rpc session layer
#   omem_ping TRIPS raw   the guest rings its own doorbell: MMIO -> QEMU ->
#                         eventfd -> MSI-X -> guest IRQ, the floor under any
#                         round trip, without the host process
# Each run reports its own median (docs/guest-client.md, debugfs ping);
# the result is the median of the per-run medians and the ratio
# omem-rpc / raw (goal: <= 1.5).
#
#   bench/rpc-roundtrip.sh [--rounds N] [--trips N] [--transport auto|omemd|serve] [--write]
#
# Root, libvirtd (ci/libvirtd start) and a build (make) are needed.  Prints
# a Markdown section on stdout; --write also puts it into
# docs/benchmarks.md.  About a minute under TCG.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
BENCH_NAME=rpc-roundtrip
# shellcheck source=../tests/lib/guest.sh
. "$top_srcdir/tests/lib/guest.sh"
# shellcheck source=../tests/lib/omem.sh
. "$top_srcdir/tests/lib/omem.sh"
# shellcheck source=lib.sh
. "$top_srcdir/bench/lib.sh"

ROUNDS=5
TRIPS=2000
TRANSPORT=auto
BOOT_TIMEOUT=120
SESSION_TIMEOUT=60
SERVE=${OMEM_IVSHMEM_SERVE:-$top_builddir/tests/tools/omem-ivshmem-serve}

while [ $# -gt 0 ]; do
    case $1 in
        --rounds) ROUNDS=$2; shift 2 ;;
        --trips) TRIPS=$2; shift 2 ;;
        --transport) TRANSPORT=$2; shift 2 ;;
        --write) BENCH_WRITE=1; shift ;;
        -h|--help) sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        *) bench_die "unknown option $1 (see --help)" ;;
    esac
done
case $TRANSPORT in
    auto) if omemd_built; then TRANSPORT=omemd; else TRANSPORT=serve; fi ;;
    omemd|serve) ;;
    *) bench_die "--transport auto, omemd or serve, not '$TRANSPORT'" ;;
esac

# The exit trap of tests/lib/guest.sh stops omemd (omem.sh registers it)
# and removes the guests.

[ "$(id -u)" = 0 ] || bench_die "needs root (qemu:///system)"
omem_virsh version >/dev/null 2>&1 || bench_die "libvirtd does not answer; ci/libvirtd start"

bench_say "booting the guest"
guest_start bench-rpc || bench_die "could not start the guest"
marker=$(guest_wait_for "$GUEST" 'OMEM-GUEST: booted' "$BOOT_TIMEOUT") ||
    bench_die "the guest did not boot (see $(guest_console_log "$GUEST"))"
case $marker in
    *omem_client=loaded*) ;;
    *) bench_die "omem_client.ko is not loaded in the guest: $marker" ;;
esac

case $TRANSPORT in
omemd)
    bench_say "starting omemd; it attaches the transport itself"
    # A benchmark sends PINGs back to back, ~10,000 in a few seconds: far
    # above the per-VM message limit that protects omemd from a flooding
    # guest (2000/s), which would refuse one PING per run.  Raise it here
    # only, so the bench measures latency, not the limiter.
    bench_config=$(guest_rundir "$GUEST")/omemd-bench.conf
    printf '[policy]\nrate_per_s = 100000\nrate_burst = 200000\n' >"$bench_config"
    omemd_start --config "$bench_config" || bench_die "omemd did not start"
    TRANSPORT_TEXT="omemd ($(git -C "$top_srcdir" describe --always --dirty 2>/dev/null || echo build))"
    ;;
serve)
    socket=$(guest_rundir "$GUEST")/ivshmem.sock
    host_spawn ivshmem-serve "$SERVE" --socket "$socket" --allow-uid "$(id -u libvirt-qemu)"
    host_wait_line ivshmem-serve '^READY$' 15 || bench_die "omem-ivshmem-serve did not start"
    guest_attach_shmem "$GUEST" "$socket" omem0 || bench_die "could not attach the ivshmem device"
    TRANSPORT_TEXT="tests/tools/omem-ivshmem-serve (omemd not built yet)"
    ;;
esac
omem_wait_session "$GUEST" "$SESSION_TIMEOUT" ||
    bench_die "no omem-rpc session within ${SESSION_TIMEOUT}s: $(guest_run "$GUEST" omem_status 2>&1)"

# ping KIND: one run of TRIPS round trips; appends its median (µs) to the
# KIND_medians array and its p90 to KIND_p90s.
rpc_medians=() rpc_p90s=() raw_medians=() raw_p90s=()
rpc_failures=0 raw_failures=0
ping() {
    local kind=$1 arg="" output median p90 failures
    [ "$kind" = raw ] && arg=" raw"
    output=$(guest_run "$GUEST" "omem_ping $TRIPS$arg" 300) ||
        bench_die "omem_ping $TRIPS$arg failed: $output"
    failures=$(sed -n 's/.*failures=\([0-9]*\).*/\1/p' <<<"$output")
    median=$(sed -n 's/.*median=\([0-9]*\).*/\1/p' <<<"$output")
    p90=$(sed -n 's/.*p90=\([0-9]*\).*/\1/p' <<<"$output")
    [ -n "$failures" ] && [ -n "$median" ] || bench_die "omem_ping $TRIPS$arg: $output"
    # A trip unanswered within ping_timeout_ms (1 s) is a failure: counted
    # and reported, not fatal, so one stall does not void the run.
    [ "$failures" = 0 ] || bench_say "$kind: $failures of $TRIPS round trips timed out: $output"
    eval "${kind}_failures=\$(( ${kind}_failures + failures ))"
    median=$(awk -v ns="$median" 'BEGIN { printf "%.1f", ns / 1000 }')
    p90=$(awk -v ns="$p90" 'BEGIN { printf "%.1f", ns / 1000 }')
    bench_say "$kind: median $median µs, p90 $p90 µs"
    eval "${kind}_medians+=(\"\$median\"); ${kind}_p90s+=(\"\$p90\")"
}

bench_say "$ROUNDS rounds of $TRIPS round trips each way (transport: $TRANSPORT)"
for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then ping rpc; ping raw; else ping raw; ping rpc; fi
done

rpc=$(omem_median "${rpc_medians[@]}")
raw=$(omem_median "${raw_medians[@]}")
rpc90=$(omem_median "${rpc_p90s[@]}")
raw90=$(omem_median "${raw_p90s[@]}")
ratio=$(omem_ratio "$rpc" "$raw")
# Paired: each round's rpc median over the same round's raw median, so a
# slow phase of the machine cancels out; the median of those.
paired=()
for i in "${!rpc_medians[@]}"; do
    paired+=("$(omem_ratio "${rpc_medians[$i]}" "${raw_medians[$i]}")")
done
paired_ratio=$(omem_median "${paired[@]}")
verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.5) ? "meets the goal (<= 1.5x)" : "misses the goal (<= 1.5x)" }')

section=$(mktemp)
cat >"$section" <<EOF
### omem-rpc round trip vs. raw doorbell

- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(bench_machine)
- Command: \`bench/rpc-roundtrip.sh --rounds $ROUNDS --trips $TRIPS --transport $TRANSPORT\`
- Host end: $TRANSPORT_TEXT; guest: 256 MiB, 1 vCPU, omem_client.ko, interrupt driven
- $ROUNDS rounds x $TRIPS round trips each way, alternated ABBA; figures are the median of the per-run medians

| round trip | median (µs) | p90 (µs) | per-run medians (µs) | timed out (> 1 s) |
|---|---:|---:|---|---:|
| omem-rpc PING/PONG (guest kernel ↔ host) | $rpc | $rpc90 | ${rpc_medians[*]} | $rpc_failures of $((ROUNDS * TRIPS)) |
| raw doorbell (guest ↔ QEMU ↔ guest, the floor) | $raw | $raw90 | ${raw_medians[*]} | $raw_failures of $((ROUNDS * TRIPS)) |
| **ratio omem-rpc / raw** | **${ratio}×** | | $verdict | |
| ratio per round, paired (median) | ${paired_ratio}× | | ${paired[*]} | |
EOF
cat "$section"
[ "$BENCH_WRITE" = 1 ] && bench_write_section rpc-roundtrip "$section" && bench_say "wrote $BENCH_DOC"
rm -f "$section"
exit 0
