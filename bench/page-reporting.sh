#!/bin/bash
# bench/page-reporting.sh — what free page reporting returns to the host
# when a guest frees boot RAM, and what it costs the guest.
#
# Unplug returns plugged memory; boot RAM the guest frees stays resident
# on the host (QEMU's RssShmem: guest RAM is shared memfd) unless the
# never-inflated balloon's free page reporting hands it back.  Two guests
# of the same shape (BOOT MiB boot RAM, a small virtio-mem device, the
# transform's balloon), one with freePageReporting='on' (what the
# transform sets) and one with it 'off', side by side in one invocation.
# Each round, in each guest in turn (the other idles):
#   1. memload grows to SIZE MiB in 64 MiB steps with no pause and exits
#      (freeing it all); the host's RssShmem of that QEMU is read right
#      after, and at +2, +5 and +10 s (the kernel reports free 2 MiB
#      blocks 2 s after they gather);
#   2. the same ramp again, timed: with reporting on it touches memory the
#      host took back (each page faults in a fresh one on the host), so
#      the difference in ramp time is what reporting costs an allocating
#      guest.
# Reported: medians over the rounds of the resident memory after the free
# (MiB) at each delay, the ramp time and its ratio to the reporting-off
# guest, and the guest's own count of reported pages where the kernel
# exposes it.
#
#   bench/page-reporting.sh [--rounds N] [--boot-mib N] [--size-mib N]
#                           [--order N] [--write]
#
# --order N: also a third guest whose page_reporting_order is set to N
# (the kernel's default is pageblock order, 9 on x86: 2 MiB) through
# sysfs after boot: on 6.1 the balloon's registration overwrites what the
# command line set, and the section says what the command line left.  Root, libvirtd (ci/libvirtd start), a build with the module.
# Prints a Markdown section; --write puts it into docs/benchmarks.md.
# About 4 minutes under TCG with the defaults.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
BENCH_NAME=page-reporting
# shellcheck source=../tests/lib/guest.sh
. "$top_srcdir/tests/lib/guest.sh"
# shellcheck source=../tests/lib/omem.sh
. "$top_srcdir/tests/lib/omem.sh"
# shellcheck source=lib.sh
. "$top_srcdir/bench/lib.sh"

ROUNDS=3
BOOT_MIB=1536
VMEM_MIB=128
SIZE_MIB=1024
ORDER=
BOOT_TIMEOUT=180
DELAYS="0 2 5 10"

while [ $# -gt 0 ]; do
    case $1 in
        --rounds) ROUNDS=$2; shift 2 ;;
        --boot-mib) BOOT_MIB=$2; shift 2 ;;
        --size-mib) SIZE_MIB=$2; shift 2 ;;
        --order) ORDER=$2; shift 2 ;;
        --write) BENCH_WRITE=1; shift ;;
        -h|--help) sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        *) bench_die "unknown option $1 (see --help)" ;;
    esac
done
for v in "$ROUNDS" "$BOOT_MIB" "$SIZE_MIB" ${ORDER:+"$ORDER"}; do
    case $v in ''|*[!0-9]*) bench_die "not a number: '$v'" ;; esac
done
[ "$SIZE_MIB" -lt "$BOOT_MIB" ] || bench_die "--size-mib must be below --boot-mib"

# The exit trap of tests/lib/guest.sh destroys and undefines the guests.

[ "$(id -u)" = 0 ] || bench_die "needs root (qemu:///system)"
omem_virsh version >/dev/null 2>&1 || bench_die "libvirtd does not answer; ci/libvirtd start"

# reporting_xml NAME on|off: the ordinary omem-shaped domain with the
# balloon's free page reporting as asked.
reporting_xml() {
    guest_domain_xml "$1" | sed -E "s/freePageReporting=[\"']on[\"']/freePageReporting=\"$2\"/"
}

# start_guest LABEL on|off [CMDLINE]: define and start one guest; sets GUEST.
start_guest() {
    local name=$OMEM_DOMAIN_PREFIX$1-$$
    GUEST_BOOT_MIB=$BOOT_MIB GUEST_VMEM_MIB=$VMEM_MIB GUEST_VCPUS=1 GUEST_CMDLINE=${3:-}
    guest_launch "$name" reporting_xml "$2" || return 1
    grep -q "freePageReporting=\"$2\"" "$(guest_rundir "$name")/domain.xml" ||
        bench_die "the domain XML of $name has no freePageReporting=\"$2\""
    GUEST=$name
}

# rss_mib NAME: the QEMU process's RssShmem, in MiB.
rss_mib() {
    local kib
    kib=$(omem_rss_shmem_kib "$1") || return 1
    echo $((kib / 1024))
}

# ramp NAME: one memload ramp; prints its duration in ms by the guest's
# clock, or returns 1.
ramp() {
    local out
    out=$(guest_run "$1" "read -r t0 _ </proc/uptime; memload --size ${SIZE_MIB}M --step 64M --hold 0 >/dev/null || echo FAILED; read -r t1 _ </proc/uptime; echo \$t0 \$t1" 600) ||
        return 1
    case $out in *FAILED*|'') return 1 ;; esac
    awk '{ printf "%.0f\n", ($2 - $1) * 1000 }' <<<"$out"
}

guest_prepare || bench_die "could not build the guest image"
KINDS="on off"
declare -A NAME=()
start_guest pr-on on || bench_die "could not start the reporting guest"
NAME[on]=$GUEST
start_guest pr-off off || bench_die "could not start the non-reporting guest"
NAME[off]=$GUEST
if [ -n "$ORDER" ]; then
    start_guest "pr-order$ORDER" on "page_reporting.page_reporting_order=$ORDER" ||
        bench_die "could not start the order-$ORDER guest"
    NAME[order]=$GUEST
    KINDS="on order off"
fi
for kind in $KINDS; do
    guest_wait_for "${NAME[$kind]}" 'OMEM-GUEST: booted' "$BOOT_TIMEOUT" >/dev/null ||
        bench_die "guest ${NAME[$kind]} did not boot"
done
ORDER_FROM_CMDLINE=
if [ -n "$ORDER" ]; then
    # On 6.1 the balloon's registration overwrites the command line's
    # order (seen: 9 after page_reporting_order=10); sysfs sticks.
    ORDER_FROM_CMDLINE=$(guest_run "${NAME[order]}" "cat /sys/module/page_reporting/parameters/page_reporting_order" 30)
    got=$(guest_run "${NAME[order]}" "echo $ORDER >/sys/module/page_reporting/parameters/page_reporting_order; cat /sys/module/page_reporting/parameters/page_reporting_order" 30)
    [ "$got" = "$ORDER" ] || bench_die "the order-$ORDER guest reports order '$got' after the sysfs write"
    bench_say "order guest: $ORDER_FROM_CMDLINE after page_reporting.page_reporting_order=$ORDER on the command line, $got after the sysfs write"
fi
default_order=$(guest_run "${NAME[on]}" "cat /sys/module/page_reporting/parameters/page_reporting_order 2>/dev/null || echo '?'" 30)
bench_say "guests: ${NAME[*]}; reporting order in the 'on' guest: $default_order"

results=$(mktemp)
for round in $(seq "$ROUNDS"); do
    # Alternate which guest goes first.
    order_kinds=$KINDS
    [ $((round % 2)) = 0 ] && order_kinds=$(tr ' ' '\n' <<<"$KINDS" | tac | tr '\n' ' ')
    for kind in $order_kinds; do
        name=${NAME[$kind]}
        ms=$(ramp "$name") || bench_die "the first ramp in $name failed"
        t0=$SECONDS
        line="$kind $round ramp1 $ms"
        for d in $DELAYS; do
            while [ $((SECONDS - t0)) -lt "$d" ]; do sleep 0.2; done
            line+=" rss$d $(rss_mib "$name")"
        done
        ms=$(ramp "$name") || bench_die "the second ramp in $name failed"
        line+=" ramp2 $ms"
        echo "$line" >>"$results"
        bench_say "round $round: $line"
        sleep 10   # what the second ramp freed settles before the next guest
    done
done

# figure KIND FIELD: the median of FIELD over KIND's rounds, rounded to
# a whole number; "—" when there is none.
figure() {
    local values
    values=$(awk -v k="$1" -v f="$2" '$1 == k { for (i = 3; i < NF; i += 2) if ($i == f) print $(i + 1) }' "$results")
    [ -n "$values" ] || { echo "—"; return; }
    # shellcheck disable=SC2086  # one value per word
    printf '%.0f\n' "$(omem_median $values)"
}
label() {
    case $1 in
        on) echo "reporting on (order $default_order)" ;;
        order) echo "reporting on, order $ORDER" ;;
        off) echo "reporting off" ;;
    esac
}
section=$(mktemp)
{
    echo "### Free page reporting: boot RAM the guest frees"
    echo
    echo "$(date -u +%Y-%m-%d), \`bench/page-reporting.sh --rounds $ROUNDS --boot-mib $BOOT_MIB --size-mib $SIZE_MIB${ORDER:+ --order $ORDER}\`; $(bench_machine)."
    echo "Guests: $BOOT_MIB MiB boot RAM, $VMEM_MIB MiB virtio-mem (nothing plugged), one vCPU, the test kernel, memfd shared backing; side by side, one working at a time."
    [ -n "$ORDER" ] && echo "The order-$ORDER guest had \`page_reporting.page_reporting_order=$ORDER\` on its command line and read $ORDER_FROM_CMDLINE after boot (the balloon's registration sets it); $ORDER was written to \`/sys/module/page_reporting/parameters/page_reporting_order\` before the rounds."
    echo "memload --size ${SIZE_MIB}M --step 64M, no pause, then exit (it frees everything). Host resident: the QEMU process's RssShmem after the exit, at each delay; ramp 2 runs after the +10 s reading, into memory the host may have taken back. Medians of $ROUNDS rounds."
    echo
    printf '| guest | resident after the free, +0 s (MiB) | +2 s | +5 s | +10 s | ramp 1 (ms) | ramp 2 (ms) | ramp 2 × off |\n'
    printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
    off2=$(figure off ramp2)
    for kind in $KINDS; do
        r2=$(figure "$kind" ramp2)
        printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(label "$kind")" \
            "$(figure "$kind" rss0)" "$(figure "$kind" rss2)" "$(figure "$kind" rss5)" \
            "$(figure "$kind" rss10)" "$(figure "$kind" ramp1)" "$r2" \
            "$(awk -v a="$r2" -v b="$off2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "—" }')"
    done
} >"$section"
cat "$section"
echo
bench_say "raw: $(tr '\n' ';' <"$results")"
[ "$BENCH_WRITE" = 1 ] && bench_write_section page-reporting "$section" && bench_say "wrote $BENCH_DOC"
rm -f "$section" "$results"
exit 0
