#!/bin/bash
# Smoke scenario: the pieces every later scenario stands on work on this
# host.  One TCG guest boots through libvirtd to the test /init; the
# virtio-mem device plugs 256 MiB that the guest's MemTotal shows and
# unplugs it again; the host serves an ivshmem-doorbell socket
# (tests/tools/omem-ivshmem-serve), the <shmem> device is attached live, the
# guest sees PCI 1af4:1110 and its omem_client.ko opens an omem-rpc session
# and answers PINGs; then the server is restarted and the device detached
# and attached again, and the session opens anew.  Before that, the
# module has turned THP back on, as the kernel would have at a larger
# boot.  TAP on stdout.
#
# Run by hand (root, libvirtd running: ci/libvirtd start):
#   top_srcdir=$PWD top_builddir=$PWD tests/e2e/smoke.sh
# OMEM_IVSHMEM_SERVE overrides the server binary (same options, prints
# READY when it listens).
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
# shellcheck source=../lib/omem.sh
. "$top_srcdir/tests/lib/omem.sh"

# Bounds, generous for TCG on two shared cores (a boot takes ~7 s, a
# 256 MiB plug well under a second).
BOOT_TIMEOUT=120
PLUG_TIMEOUT=30
UNPLUG_TIMEOUT=60
SERVER_READY_TIMEOUT=15
PCI_TIMEOUT=30
SESSION_TIMEOUT=30
# Round trips per PING check: enough for a median, a second or two of TCG.
PINGS=200

MIB_KIB=1024
PLUG_KIB=$((256 * MIB_KIB))
IVSHMEM_PCI_ID=1af4:1110

SERVE=${OMEM_IVSHMEM_SERVE:-$top_builddir/tests/tools/omem-ivshmem-serve}

# memtotal_is NAME KIB: the guest's MemTotal is KIB.
memtotal_is() {
    [ "$(guest_meminfo "$1" MemTotal)" = "$2" ]
}

# wait_memtotal NAME WANT_KIB TIMEOUT: poll the guest's MemTotal until it
# is WANT_KIB; prints the last value seen.
wait_memtotal() {
    local status=0
    poll_until "$3" memtotal_is "$1" "$2" || status=1
    guest_meminfo "$1" MemTotal
    return $status
}

# guest_has_pci NAME ID: true if the guest lists PCI vendor:device ID.
guest_has_pci() {
    guest_run "$1" pci 30 | awk -v id="$2" '$2 == id { found = 1 } END { exit !found }'
}

# wait_pci NAME ID PRESENT(1|0) TIMEOUT
wait_pci() {
    if [ "$3" = 1 ]; then
        poll_until "$4" guest_has_pci "$1" "$2"
    else
        poll_until "$4" not guest_has_pci "$1" "$2"
    fi
}

scenario_virtio_mem_plug() {
    local before after start seconds output
    before=$(guest_meminfo "$GUEST" MemTotal) || {
        not_ok "guest reports MemTotal" "guest_meminfo failed"
        return
    }
    diag "MemTotal before plug: $before kB"

    start=$(omem_now)
    if ! output=$(guest_set_requested "$GUEST" 256MiB 2>&1); then
        not_ok "virsh update-memory-device --requested-size 256MiB" "$output"
        return
    fi
    if after=$(wait_memtotal "$GUEST" $((before + PLUG_KIB)) "$PLUG_TIMEOUT"); then
        seconds=$(omem_elapsed "$start")
        ok "requesting 256 MiB grows the guest's MemTotal by 256 MiB (${seconds}s)"
    else
        not_ok "requesting 256 MiB grows the guest's MemTotal by 256 MiB" \
            "MemTotal $before kB before, ${after:-?} kB after ${PLUG_TIMEOUT}s, want $((before + PLUG_KIB))"
    fi
    if guest_wait_plugged "$GUEST" "$PLUG_KIB" 10 2>/dev/null; then
        ok "libvirt's live XML shows 256 MiB plugged"
    else
        not_ok "libvirt's live XML shows 256 MiB plugged" \
            "<current> is $(guest_plugged_kib "$GUEST" 2>&1) KiB, want $PLUG_KIB"
    fi

    start=$(omem_now)
    if ! output=$(guest_set_requested "$GUEST" 0 2>&1); then
        not_ok "virsh update-memory-device --requested-size 0" "$output"
        return
    fi
    if after=$(wait_memtotal "$GUEST" "$before" "$UNPLUG_TIMEOUT"); then
        ok "requesting 0 gives the 256 MiB back ($(omem_elapsed "$start")s)"
    else
        not_ok "requesting 0 gives the 256 MiB back" \
            "MemTotal ${after:-?} kB after ${UNPLUG_TIMEOUT}s, want $before"
    fi
}

# start_server NAME SOCKET: run omem-ivshmem-serve as host helper NAME and
# wait for READY; sets SERVER_PID, or SERVER_ERROR when it fails.  Runs in
# this shell (not in $(...)) so the helper stays this shell's child.
start_server() {
    local name=$1 socket=$2 uid
    SERVER_ERROR=
    if ! uid=$(id -u libvirt-qemu 2>/dev/null); then
        SERVER_ERROR="no libvirt-qemu user on this host (install libvirt-daemon-system)"
        return 1
    fi
    if [ ! -x "$SERVE" ]; then
        SERVER_ERROR="$SERVE is missing: build it (make) or set OMEM_IVSHMEM_SERVE"
        return 1
    fi
    host_spawn "$name" "$SERVE" --socket "$socket" --allow-uid "$uid"
    SERVER_PID=$HOST_PID
    SERVER_ERROR=$(host_wait_line "$name" '^READY$' "$SERVER_READY_TIMEOUT" 2>&1)
}

# stop_server NAME SOCKET: SIGTERM must end the server with status 0 and
# remove its socket.
stop_server() {
    local name=$1 socket=$2 status=0
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" || status=$?
    if [ "$status" = 0 ] && [ ! -e "$socket" ]; then
        ok "the ivshmem server exits 0 on SIGTERM and removes its socket"
    else
        not_ok "the ivshmem server exits 0 on SIGTERM and removes its socket" \
            "exit status $status; socket $( [ -e "$socket" ] && echo still there || echo removed)" \
            "$(tail -n 5 "$(host_log_base "$name").err" 2>/dev/null)"
    fi
}

# check_session NAME LABEL: the guest module opens an omem-rpc session with
# the server and PING/PONG round trips succeed over it.
check_session() {
    local name=$1 label=$2 start result
    if [ "$CLIENT_LOADED" != 1 ]; then
        skip "$label: omem_client.ko opens an omem-rpc session" \
            "omem_client.ko not in the guest (configure found no kernel build tree)"
        skip "$label: PING/PONG round trips over omem-rpc" "omem_client.ko not in the guest"
        return
    fi
    start=$(omem_now)
    if omem_wait_session "$name" "$SESSION_TIMEOUT"; then
        ok "$label: omem_client.ko opens an omem-rpc session, protocol v$(omem_client_field "$name" version), generation $(omem_client_field "$name" generation) ($(omem_elapsed "$start")s)"
    else
        not_ok "$label: omem_client.ko opens an omem-rpc session" \
            "no open session within ${SESSION_TIMEOUT}s:" "$(guest_run "$name" omem_status 30 2>&1)" \
            "$(guest_run "$name" 'klog 10' 30 2>&1)"
        return
    fi
    result=$(guest_run "$name" "omem_ping $PINGS" 60)
    case "$result" in
    "n=$PINGS failures=0 "*)
        ok "$label: $PINGS PING/PONG round trips over omem-rpc (${result#* failures=0 })" ;;
    *)
        not_ok "$label: $PINGS PING/PONG round trips over omem-rpc" "got: $result" ;;
    esac
}

scenario_ivshmem_attach() {
    local socket start reason
    socket=$(guest_rundir "$GUEST")/ivshmem.sock

    if start_server ivshmem-serve "$socket"; then
        ok "the ivshmem server listens on $socket"
    else
        not_ok "the ivshmem server listens" "$SERVER_ERROR"
        not_ok "<shmem> ivshmem-doorbell attaches live" "not attempted: no ivshmem server"
        return
    fi

    start=$(omem_now)
    if ! reason=$(guest_attach_shmem "$GUEST" "$socket" omem0 2>&1); then
        not_ok "<shmem> ivshmem-doorbell attaches live" "$reason"
        return
    fi
    ok "<shmem> ivshmem-doorbell attaches live ($(omem_elapsed "$start")s)"
    if wait_pci "$GUEST" "$IVSHMEM_PCI_ID" 1 "$PCI_TIMEOUT"; then
        ok "the guest sees PCI $IVSHMEM_PCI_ID ($(omem_elapsed "$start")s after attach)"
    else
        not_ok "the guest sees PCI $IVSHMEM_PCI_ID" "not listed within ${PCI_TIMEOUT}s:" \
            "$(guest_run "$GUEST" pci 30 2>&1)" "$(guest_run "$GUEST" 'klog 15' 30 2>&1)"
    fi
    check_session "$GUEST" "first server"

    # omemd's recovery path: QEMU never reconnects to a restarted server,
    # but detaching the device and attaching it again gives a fresh
    # handshake (the guest sees remove() then probe()).
    start=$(omem_now)
    if reason=$(guest_detach_shmem "$GUEST" omem0 2>&1) &&
       wait_pci "$GUEST" "$IVSHMEM_PCI_ID" 0 "$PCI_TIMEOUT"; then
        ok "<shmem> detaches live and leaves the guest ($(omem_elapsed "$start")s)"
    else
        not_ok "<shmem> detaches live and leaves the guest" "$reason"
    fi
    stop_server ivshmem-serve "$socket"

    if ! start_server ivshmem-serve-2 "$socket"; then
        not_ok "a restarted ivshmem server listens" "$SERVER_ERROR"
        return
    fi
    start=$(omem_now)
    if reason=$(guest_attach_shmem "$GUEST" "$socket" omem0 2>&1) &&
       wait_pci "$GUEST" "$IVSHMEM_PCI_ID" 1 "$PCI_TIMEOUT"; then
        ok "a restarted server's device attaches and the guest probes it ($(omem_elapsed "$start")s)"
        check_session "$GUEST" "restarted server"
        guest_detach_shmem "$GUEST" omem0 >/dev/null 2>&1
    else
        not_ok "a restarted server's device attaches and the guest probes it" "$reason"
    fi
    stop_server ivshmem-serve-2 "$socket"
}

THP_DIR=/sys/kernel/mm/transparent_hugepage

# thp_builtin_mode KVER: the THP mode the kernel KVER starts in when it is
# not small (its CONFIG_TRANSPARENT_HUGEPAGE_* choice), from /boot/config-KVER.
thp_builtin_mode() {
    local config=/boot/config-$1
    if grep -q '^CONFIG_TRANSPARENT_HUGEPAGE_ALWAYS=y' "$config" 2>/dev/null; then
        echo always
    elif grep -q '^CONFIG_TRANSPARENT_HUGEPAGE_MADVISE=y' "$config" 2>/dev/null; then
        echo madvise
    elif [ -r "$config" ]; then
        echo never
    fi
}

# guest_khugepaged_runs NAME: the guest has a khugepaged thread.
guest_khugepaged_runs() {
    guest_run "$1" "cat /proc/[0-9]*/comm" 30 | grep -qx khugepaged
}

# The guest boots with 256 MiB, so its kernel starts with THP off; the
# module gives it back the kernel's own default (guest-client/omem_thp.c).
scenario_thp() {
    local kver expected enabled defrag
    if [ "$CLIENT_LOADED" != 1 ]; then
        diag "omem_client.ko is not loaded: no THP check"
        return
    fi
    kver=$(sed -n 's/.* kernel=\([^ ]*\).*/\1/p' <<<"$GUEST_BOOT_LINE")
    expected=$(thp_builtin_mode "$kver")
    if [ -z "$expected" ]; then
        not_ok "THP: the guest kernel's built-in mode is known" "no readable /boot/config-$kver"
        return
    fi
    enabled=$(guest_run "$GUEST" "cat $THP_DIR/enabled" 30)
    check "THP: after the module loads, enabled is the kernel's built-in [$expected] ($enabled)" \
        grep -qF "[$expected]" <<<"$enabled"
    defrag=$(guest_run "$GUEST" "cat $THP_DIR/defrag" 30)
    check "THP: defrag is back to [madvise] ($defrag)" grep -qF "[madvise]" <<<"$defrag"
    check "THP: use_zero_page is back to 1" \
        test "$(guest_run "$GUEST" "cat $THP_DIR/use_zero_page" 30)" = 1
    if [ "$expected" != never ]; then
        check "THP: khugepaged runs" guest_khugepaged_runs "$GUEST"
    fi
    check "THP: the module said what it set, in one line" \
        test "$(guest_run "$GUEST" "dmesg | grep -c 'omem_client: transparent hugepages: enabled $expected (the kernel.s built-in default)'" 30)" = 1
}

guest_require_host
script_start=$(omem_now)

# Its messages (image build, virsh errors) go to stderr, i.e. the test log.
guest_start smoke || bail_out "could not start the guest (see smoke.log)"
guest_boot_ok "the guest boots to /init" "$script_start" "$BOOT_TIMEOUT" any "$GUEST"
case $GUEST_BOOT_LINE in *omem_client=loaded*) CLIENT_LOADED=1 ;; *) CLIENT_LOADED=0 ;; esac

guest_scenario "THP after a small boot" scenario_thp
guest_scenario "virtio-mem plug and unplug" scenario_virtio_mem_plug
guest_scenario "ivshmem-doorbell live attach" scenario_ivshmem_attach

diag "whole smoke scenario: $(omem_elapsed "$script_start")s"
done_testing
