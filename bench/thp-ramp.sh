#!/bin/bash
# bench/thp-ramp.sh — what transparent huge pages are worth to an omem
# guest: a fast memory ramp in a static guest beside an omem guest of the
# same size, with THP as omem_client.ko leaves it and with THP as the
# kernel leaves a small boot.
#
#   static  a guest booted with its whole memory (BOOT_STATIC MiB): its
#           kernel starts THP in its built-in mode;
#   omem    a guest booted with 256 MiB (transparent_hugepage=always on
#           its command line) and VMEM MiB of virtio-mem, all
#           plugged before the ramps (no omemd: only the page size
#           differs), in two THP states, switched through sysfs between
#           rounds:
#     restored  what the module set at load (guest-client/omem_thp.c);
#     small     the state the kernel's small-boot check leaves (enabled
#               and defrag never, use_zero_page and khugepaged/defrag 0),
#               i.e. the guest before the module did this.
# Each round runs the three ramps of every workload, the two omem ones in
# ABBA order across rounds.  The workloads (memload --size SIZE --step 64M,
# exit at once) are the one the figure was tuned on and two it was not:
#   fast    anonymous memory, no pause: as fast as the guest can touch it;
#   paced   anonymous memory, 100 ms between 64 MiB steps;
#   tmpfs   a file in the guest's tmpfs (shared memory, like page cache
#           that cannot be dropped), no pause.
# Reported: the median ramp time of each, its ratio to the static guest's
# median, and the THP faults (thp_fault_alloc) and page faults (pgfault)
# one ramp took.
#
#   bench/thp-ramp.sh [--rounds N] [--size-mib N] [--workloads "fast paced tmpfs"] [--write]
#
# Root, libvirtd (ci/libvirtd start), a build with the module.  Prints a
# Markdown section; --write puts it into docs/benchmarks.md.  About 3
# minutes under TCG with the defaults.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
BENCH_NAME=thp-ramp
# shellcheck source=../tests/lib/guest.sh
. "$top_srcdir/tests/lib/guest.sh"
# shellcheck source=../tests/lib/omem.sh
. "$top_srcdir/tests/lib/omem.sh"
# shellcheck source=lib.sh
. "$top_srcdir/bench/lib.sh"

ROUNDS=4
SIZE_MIB=512
WORKLOADS="fast paced tmpfs"
BOOT_STATIC_MIB=1024
BOOT_OMEM_MIB=256
VMEM_MIB=$((BOOT_STATIC_MIB - BOOT_OMEM_MIB))
BOOT_TIMEOUT=180
PLUG_TIMEOUT=120
THP_DIR=/sys/kernel/mm/transparent_hugepage

while [ $# -gt 0 ]; do
    case $1 in
        --rounds) ROUNDS=$2; shift 2 ;;
        --size-mib) SIZE_MIB=$2; shift 2 ;;
        --workloads) WORKLOADS=$2; shift 2 ;;
        --write) BENCH_WRITE=1; shift ;;
        -h|--help) sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        *) bench_die "unknown option $1 (see --help)" ;;
    esac
done

# The exit trap of tests/lib/guest.sh destroys and undefines the guests.

[ "$(id -u)" = 0 ] || bench_die "needs root (qemu:///system)"
omem_virsh version >/dev/null 2>&1 || bench_die "libvirtd does not answer; ci/libvirtd start"

# workload_args WORKLOAD: memload's options for it.
workload_args() {
    case $1 in
        fast) echo "--size ${SIZE_MIB}M --step 64M --hold 0" ;;
        paced) echo "--size ${SIZE_MIB}M --step 64M --interval 100ms --hold 0" ;;
        tmpfs) echo "--size ${SIZE_MIB}M --step 64M --hold 0 --mode tmpfs" ;;
        *) bench_die "unknown workload $1 (fast, paced, tmpfs)" ;;
    esac
}

# ramp NAME WORKLOAD: one ramp in guest NAME; prints "MS THP_FAULTS
# PAGE_FAULTS", or says why and returns 1.  read from /proc is a shell builtin: nothing forks between
# the stamps.
ramp() {
    local out
    out=$(guest_run "$1" "v0=\$(grep -E '^(thp_fault_alloc|pgfault) ' /proc/vmstat); read -r t0 _ </proc/uptime; memload $(workload_args "$2") >/dev/null || echo FAILED; read -r t1 _ </proc/uptime; v1=\$(grep -E '^(thp_fault_alloc|pgfault) ' /proc/vmstat); echo \$t0 \$t1 \$v0 \$v1" 600) ||
        { bench_say "memload in $1 failed: $out"; return 1; }
    case $out in *FAILED*) bench_say "memload in $1 failed: $out"; return 1 ;; esac
    # t0 t1 pgfault N thp_fault_alloc N pgfault N thp_fault_alloc N
    awk '{ printf "%.0f %d %d\n", ($2 - $1) * 1000, $10 - $6, $8 - $4 }' <<<"$out"
}

# thp_state NAME restored|small: put guest NAME's THP into that state.
RESTORED_STATE=
thp_state() {
    case $2 in
        small)
            guest_run "$1" "echo never >$THP_DIR/enabled; echo never >$THP_DIR/defrag; echo 0 >$THP_DIR/use_zero_page; echo 0 >$THP_DIR/khugepaged/defrag" 30 >/dev/null ;;
        restored)
            guest_run "$1" "$RESTORED_STATE" 30 >/dev/null ;;
    esac
}

median() {
    sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

guest_start bench-thp-static --boot-mib "$BOOT_STATIC_MIB" --vmem-mib 128 ||
    bench_die "could not start the static guest"
STATIC=$GUEST
# transparent_hugepage=always changes nothing for Debian's kernel (its
# default) and shows in the module's log line that the small-boot check
# wiped it too.
guest_start bench-thp-omem --boot-mib "$BOOT_OMEM_MIB" --vmem-mib "$VMEM_MIB" \
    --cmdline transparent_hugepage=always ||
    bench_die "could not start the omem guest"
OMEM=$GUEST
guest_wait_for "$STATIC" 'OMEM-GUEST: booted' "$BOOT_TIMEOUT" >/dev/null ||
    bench_die "the static guest did not boot"
guest_wait_for "$OMEM" 'OMEM-GUEST: booted.*omem_client=loaded' "$BOOT_TIMEOUT" >/dev/null ||
    bench_die "the omem guest did not boot with omem_client.ko"
guest_set_requested "$OMEM" "${VMEM_MIB}MiB" || bench_die "could not plug the omem guest"
guest_wait_plugged "$OMEM" $((VMEM_MIB * 1024)) "$PLUG_TIMEOUT" ||
    bench_die "the omem guest did not plug $VMEM_MIB MiB"
# A tmpfs is sized when it is mounted: the omem guest's /tmp was sized
# from its boot RAM, so it is grown to its RAM now, as an admin of a
# small-boot guest must (the static guest's is already that size).
for guest in "$STATIC" "$OMEM"; do
    guest_run "$guest" "mount -o remount,size=100% /tmp" 30 >/dev/null ||
        bench_die "could not grow $guest's /tmp"
done

static_thp=$(guest_run "$STATIC" "cat $THP_DIR/enabled" 30)
restored_thp=$(guest_run "$OMEM" "cat $THP_DIR/enabled" 30)
module_line=$(guest_run "$OMEM" "dmesg | grep 'omem_client: transparent hugepages'" 30)
# The module's state as commands, to switch back to it after "small".
RESTORED_STATE=$(guest_run "$OMEM" "for f in defrag use_zero_page khugepaged/defrag enabled; do v=\$(sed 's/.*\[\(.*\)\].*/\1/' $THP_DIR/\$f); echo \"echo \$v >$THP_DIR/\$f;\"; done" 30 | tr '\n' ' ')
bench_say "static THP: $static_thp; omem THP after the module: $restored_thp"
bench_say "static MemTotal $(guest_meminfo "$STATIC" MemTotal) kB, omem MemTotal $(guest_meminfo "$OMEM" MemTotal) kB"

results=$(mktemp)
for workload in $WORKLOADS; do
    workload_args "$workload" >/dev/null
done
for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then order="restored small"; else order="small restored"; fi
    for workload in $WORKLOADS; do
        figures=$(ramp "$STATIC" "$workload") || bench_die "the static guest's $workload ramp failed"
        echo "$workload static $figures" >>"$results"
        for state in $order; do
            thp_state "$OMEM" "$state"
            figures=$(ramp "$OMEM" "$workload") || bench_die "the omem guest's $workload ramp failed"
            echo "$workload $state $figures" >>"$results"
        done
        thp_state "$OMEM" restored
    done
    bench_say "round $round: $(tail -n $((3 * $(wc -w <<<"$WORKLOADS"))) "$results" | tr '\n' ';')"
done
thp_state "$OMEM" restored

figure() {  # figure WORKLOAD KIND COLUMN: median of COLUMN over those ramps
    awk -v w="$1" -v k="$2" -v c="$3" '$1 == w && $2 == k { print $c }' "$results" | median
}
section=$(mktemp)
{
    echo "### THP in a small-boot guest: memory ramp, static vs. omem"
    echo
    echo "$(date -u +%Y-%m-%d), \`bench/thp-ramp.sh --rounds $ROUNDS --size-mib $SIZE_MIB\`; $(bench_machine)."
    echo "Static guest: $BOOT_STATIC_MIB MiB boot, THP \`$static_thp\`. omem guest: $BOOT_OMEM_MIB MiB boot + $VMEM_MIB MiB plugged before the ramps;"
    echo "the module's log line: \`${module_line#*omem_client: }\`."
    echo "memload --size ${SIZE_MIB}M --step 64M: fast (no pause), paced (100 ms between steps), tmpfs (a tmpfs file, no pause); medians of $ROUNDS ramps each, one run."
    echo
    echo "| workload | guest | THP | ramp (ms) | × static | THP faults | page faults |"
    echo "|---|---|---|---|---|---|---|"
    for workload in $WORKLOADS; do
        static_ms=$(figure "$workload" static 3)
        for kind in static restored small; do
            ms=$(figure "$workload" "$kind" 3)
            case $kind in
                static) label="static"; thp="kernel's own" ;;
                restored) label="omem, module loaded"; thp="restored by omem_client.ko" ;;
                small) label="omem, before the fix"; thp="as the small boot left it" ;;
            esac
            echo "| $workload | $label | $thp | $ms | $(awk -v a="$ms" -v b="$static_ms" 'BEGIN { printf "%.2f", a / b }') | $(figure "$workload" "$kind" 4) | $(figure "$workload" "$kind" 5) |"
        done
    done
} >"$section"
cat "$section"
echo
bench_say "raw: $(tr '\n' ';' <"$results")"
[ "$BENCH_WRITE" = 1 ] && bench_write_section thp-ramp "$section" && bench_say "wrote $BENCH_DOC"
rm -f "$section" "$results"
exit 0
