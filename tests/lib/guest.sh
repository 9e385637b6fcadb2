# tests/lib/guest.sh — real-guest test harness, sourced by tests/e2e/*.sh.
#
# A scenario script boots one TCG guest through the host's libvirtd
# (qemu:///system), drives it over its serial console and checks what the
# guest and libvirt see.  It prints TAP (ok/not ok, plan at the end).
#
# Sharing a guest.  A TCG boot costs seconds, so a script boots its guest
# once and runs all its scenarios against it: a scenario is a shell
# function, run in order by guest_scenario, which reports one TAP line per
# check and leaves the guest as it found it (requested size back to 0, no
# <shmem> attached).  Add a related scenario as a function in an existing
# script; add a new script only for a different guest configuration.
# Scripts do not share guests with each other: make check may run them in
# parallel (make -j), and each owns its guest from define to undefine.
#
# Names and files.  Every domain is "omemtest-LABEL-PID" (PID of the
# script), so a domain left by a crashed run is recognised and removed by
# the next run, while a running script's guest is never touched.
#   /var/tmp/omem-tests/img/          kernel + initramfs (tests/guest/mkinitrd.sh),
#                                     shared, rebuilt when an input changes
#   /var/tmp/omem-tests/run/DOMAIN/   runtime files: console socket, the
#                                     console input FIFO, ivshmem sockets,
#                                     XML; removed by guest_cleanup
#   $OMEM_TEST_LOGDIR/DOMAIN.console.log  everything the guest printed; kept
#   $OMEM_TEST_LOGDIR/DOMAIN.NAME.{out,err}  output of host helpers; kept
#   $OMEM_TEST_LOGDIR/DOMAIN.dmesg   the guest's kernel log, when a check failed
# QEMU runs as libvirt-qemu: the img and run folders are world-traversable.
#
# Cleanup.  Sourcing this file installs guest_cleanup as the EXIT, INT and
# TERM trap: it destroys and undefines every domain the script made, stops
# the console readers and host helpers it started (by PID: SIGTERM, bounded
# wait, SIGKILL) and removes the runtime folders, even when a check failed.
#
# Console protocol (tests/guest/init): the harness writes "ID COMMAND" to
# the guest's serial port; the guest answers "OMEM-BEGIN ID", the output,
# "OMEM-DONE ID STATUS".  A console reader (/usr/bin/python3, stdlib only)
# connects to QEMU's serial socket, appends every byte the guest prints to
# the console log and forwards what the harness writes into a FIFO.
#
# API (GUEST is set by guest_start; functions take the domain name):
#   guest_require_host                skip the whole script unless root + libvirtd
#   guest_start LABEL [--boot-mib N] [--vmem-mib N] [--vcpus N] [--cmdline TEXT]
#   guest_power_on NAME               start a defined guest again after a
#                                     destroy, with a new console reader
#   guest_boot_count NAME             boot lines on its console log so far
#   guest_libvirtd_ours               ci/libvirtd started the running libvirtd
#   guest_foreign_domains             running domains of other scripts or users
#   guest_domain_xml NAME             print the domain XML (the one place to swap
#                                     for `virt-omem convert` later)
#   guest_wait_for NAME REGEX TIMEOUT wait for a console line (ERE)
#   guest_boot_ok DESCRIPTION START TIMEOUT CLIENT NAME...  the boot check,
#                                     or bail out
#   guest_run NAME COMMAND [TIMEOUT]  run a shell command line in the guest,
#                                     print its output, return its status
#   guest_meminfo NAME FIELD          MemTotal|MemFree|MemAvailable in kB
#   guest_set_requested NAME SIZE     virtio-mem requested size (e.g. 256MiB)
#   guest_plugged_kib NAME            virtio-mem <current> from the live XML
#   guest_wait_plugged NAME KIB TIMEOUT  wait until <current> is KIB
#   guest_attach_shmem NAME SOCKET [SHMEM_NAME]   live-attach ivshmem-doorbell
#   guest_detach_shmem NAME [SHMEM_NAME]          live-detach it, wait until gone
#   guest_scenario [--keep] DESCRIPTION FUNCTION  run one scenario, reset
#                                     the guest after (not with --keep)
#   host_spawn NAME COMMAND...        start a host helper (sets HOST_PID)
#   host_wait_line NAME REGEX TIMEOUT wait for a line on a helper's stdout
#   host_stop PID                     stop a helper now (SIGTERM, then SIGKILL)
#   omem_at_exit FUNCTION             run FUNCTION at exit, before guest_cleanup
#   omem_remove_at_exit PATH...       remove scratch files at exit
#   guest_cleanup                     (trap) undo everything
# TAP (ok, not_ok, check, skip, diag, bail_out, done_testing...) comes from
# tests/lib/tap.sh, virt-omem (vo) from tests/lib/virt-omem.sh.
# shellcheck shell=bash

[ -n "${OMEM_GUEST_LOADED:-}" ] && return 0
OMEM_GUEST_LOADED=1
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${OMEM_TEST_DIR:=/var/tmp/omem-tests}"
: "${OMEM_TEST_LOGDIR:=$top_builddir/tests/e2e/logs}"
# virsh on a busy TCG host answers in well under a second; a hung libvirtd
# must fail the test rather than stall make check.
: "${OMEM_VIRSH_TIMEOUT:=60}"

OMEM_DOMAIN_PREFIX=omemtest-
OMEM_URI=qemu:///system
OMEM_PYTHON=/usr/bin/python3
OMEM_VIRT_OMEM_URI=$OMEM_URI
# shellcheck source=tap.sh
. "$top_srcdir/tests/lib/tap.sh"
# shellcheck source=virt-omem.sh
. "$top_srcdir/tests/lib/virt-omem.sh"

GUEST=
OMEM_GUESTS=()          # domains this script defined
OMEM_HOST_PIDS=()       # host helpers this script started (and readers)
HOST_PID=
OMEM_CLEANED=0
OMEM_CLEANUP_HOOKS=()   # omem_at_exit functions, run last first
OMEM_CLEANUP_PATHS=()   # omem_remove_at_exit files and folders

# ---------------------------------------------------------------- helpers

omem_virsh() {
    local status=0
    timeout "$OMEM_VIRSH_TIMEOUT" virsh -q -c "$OMEM_URI" "$@" || status=$?
    [ "$status" = 124 ] && echo "virsh $1 timed out after ${OMEM_VIRSH_TIMEOUT}s" >&2
    return "$status"
}

# omem_now: seconds since the epoch with milliseconds, for timings.
omem_now() {
    date +%s.%3N
}

# omem_elapsed START: seconds since START (from omem_now), 0.1 s precision.
omem_elapsed() {
    awk -v start="$1" -v now="$(omem_now)" 'BEGIN { printf "%.1f", now - start }'
}

# poll_until TIMEOUT COMMAND...: run COMMAND every half second until it
# succeeds (0) or TIMEOUT seconds have passed (1), so every wait in a
# scenario is one bounded loop written once.
poll_until() {
    local timeout=$1 start=$SECONDS
    shift
    until "$@"; do
        [ $((SECONDS - start)) -ge "$timeout" ] && return 1
        sleep 0.5
    done
}

# omem_timed KIND DESCRIPTION COMMAND...: run COMMAND between two diag
# lines, "KIND: DESCRIPTION" and "... took Ns" (scenarios, steps).
omem_timed() {
    local kind=$1 description=$2 start
    shift 2
    diag "$kind: $description"
    start=$(omem_now)
    "$@"
    diag "$kind: $description took $(omem_elapsed "$start")s"
}

guest_rundir() {
    echo "$OMEM_TEST_DIR/run/$1"
}

guest_console_log() {
    echo "$OMEM_TEST_LOGDIR/$1.console.log"
}

# guest_require_host: skip the script where real guests cannot run.
guest_require_host() {
    [ "$(id -u)" = 0 ] || skip_all "real-guest tests need root (qemu:///system)"
    command -v virsh >/dev/null 2>&1 || skip_all "virsh not installed (ci/install-deps)"
    [ -x "$OMEM_PYTHON" ] || skip_all "$OMEM_PYTHON not installed"
    omem_virsh version >/dev/null 2>&1 ||
        skip_all "libvirtd does not answer $OMEM_URI; start it with ci/libvirtd start"
}

# omem_stop_pid PID: SIGTERM, up to 10 s for it to exit, then SIGKILL;
# returns its exit status when it is a child of this shell.
omem_stop_pid() {
    local pid=$1 status=0
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        return
    fi
    kill -TERM "$pid" 2>/dev/null
    # bash reaps its exited children at once, so kill -0 fails as soon
    # as the helper is gone.
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null || status=$?
    return "$status"
}

# guest_libvirtd_ours: ci/libvirtd started the running libvirtd (its state
# file), so a script may restart it (ci/libvirtd restart).
guest_libvirtd_ours() {
    "$top_srcdir/ci/libvirtd" status 2>/dev/null | grep -q '^libvirtd: running .*started by ci/libvirtd'
}

# guest_foreign_domains: running domains that are not this script's (whose
# users a libvirtd restart would disturb).
guest_foreign_domains() {
    omem_virsh list --name 2>/dev/null | grep -v -e '^$' -e "^${OMEM_DOMAIN_PREFIX}.*-$$\$" | tr '\n' ' '
}

# guest_remove_domain NAME: destroy and undefine, ignoring "not found".
guest_remove_domain() {
    omem_virsh destroy "$1" >/dev/null 2>&1
    omem_virsh undefine "$1" >/dev/null 2>&1
    rm -rf "$(guest_rundir "$1")"
}

# omem_start_time PID: the process's start time (field 22 of its stat), so
# a recorded PID is only ever signalled while it is still the same process.
omem_start_time() {
    sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

# omem_track_pid PID: remember a process this script started, for
# guest_cleanup and, should this script die without cleaning up, for the
# next script's guest_cleanup_stale.
omem_track_pid() {
    OMEM_HOST_PIDS+=("$1")
    mkdir -p "$OMEM_TEST_DIR/run"
    echo "$1 $(omem_start_time "$1")" >>"$OMEM_TEST_DIR/run/pids-$$"
}

# guest_cleanup_stale: remove domains, processes and runtime folders of
# dead scripts (the PID in their name no longer runs), e.g. after SIGKILL.
guest_cleanup_stale() {
    local domain pid dir file start
    for domain in $(omem_virsh list --all --name 2>/dev/null | grep "^$OMEM_DOMAIN_PREFIX"); do
        pid=${domain##*-}
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && continue
        diag "removing stale domain $domain (its script, pid $pid, is gone)"
        guest_remove_domain "$domain"
    done
    for dir in "$OMEM_TEST_DIR"/run/"$OMEM_DOMAIN_PREFIX"*; do
        [ -d "$dir" ] || continue
        pid=${dir##*-}
        kill -0 "$pid" 2>/dev/null && continue
        rm -rf "$dir"
    done
    for file in "$OMEM_TEST_DIR"/run/pids-*; do
        [ -f "$file" ] || continue
        kill -0 "${file##*-}" 2>/dev/null && continue
        while read -r pid start; do
            if [ -n "$start" ] && [ "$(omem_start_time "$pid")" = "$start" ]; then
                diag "stopping stale helper pid $pid of a dead test script"
                omem_stop_pid "$pid"
            fi
        done <"$file"
        rm -f "$file"
    done
}

# ---------------------------------------------------------------- domain

# guest_domain_xml NAME: the domain XML for guest NAME, from the GUEST_*
# settings guest_start fills in, built the way an operator builds an omem
# domain: an ordinary domain XML piped through `virt-omem convert`, so
# every scenario runs on the project's one transform (docs/transform.md).
# The ordinary domain: q35 + ACPI, TCG; direct kernel boot of the busybox
# initramfs; GUEST_BOOT_MIB + GUEST_VMEM_MIB of RAM; no USB; the serial
# console on a unix socket for the console reader.  convert adds (with
# --boot GUEST_BOOT_MIB, --max the total, min = boot): one NUMA cell of
# boot RAM, one virtio-mem device of GUEST_VMEM_MIB in 2 MiB blocks with
# nothing requested (its region starts at 4 GiB in the guest), memfd
# shared unlocked backing, a free-page-reporting balloon,
# memhp_default_state=online_movable, a pcie-root-port +
# pcie-to-pci-bridge (so the ivshmem <shmem>, a conventional PCI device,
# can be attached live) and the omem contract.  Prints nothing and
# returns non-zero when virt-omem is missing or refuses.
guest_domain_xml() {
    local name=$1
    local total=$((GUEST_BOOT_MIB + GUEST_VMEM_MIB))
    [ -x "$OMEM_VIRT_OMEM" ] || {
        echo "guest_domain_xml: $OMEM_VIRT_OMEM is not built; run make" >&2
        return 1
    }
    guest_plain_domain_xml "$name" "$total" "" "$GUEST_VCPUS" "$GUEST_CMDLINE" "" |
        vo convert --boot "${GUEST_BOOT_MIB}M" --max "${total}M" -
}

# guest_plain_domain_xml NAME MEMORY_MIB CURRENT_MIB VCPUS CMDLINE DEVICES:
# the ordinary domain every test guest starts from (q35 + ACPI, TCG, the
# busybox image's direct kernel boot, no USB, the serial console on a unix
# socket for the console reader), with MEMORY_MIB of RAM (CURRENT_MIB, if
# not empty, for a balloon), CMDLINE added to the kernel's, and DEVICES
# (XML) added to its devices.  no_timer_check: under TCG on a loaded host
# the kernel's check of the IO-APIC timer can miss its ticks and panic at
# boot ("IO-APIC + timer doesn't work"; seen with six guests booting at
# once on two cores).
guest_plain_domain_xml() {
    local name=$1 memory=$2 current=$3 vcpus=$4 cmdline=$5 devices=$6 dir
    dir=$(guest_rundir "$name")
    cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>$memory</memory>${current:+
  <currentMemory unit='MiB'>$current</currentMemory>}
  <vcpu>$vcpus</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$OMEM_TEST_DIR/img/vmlinuz</kernel>
    <initrd>$OMEM_TEST_DIR/img/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet loglevel=4 panic=-1 no_timer_check $cmdline</cmdline>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <serial type='unix'>
      <source mode='bind' path='$dir/console.sock'/>
      <target port='0'/>
    </serial>${devices:+
    $devices}
  </devices>
</domain>
EOF
}

# The console reader: QEMU's serial socket -> log file (CRs dropped), and
# lines written into the FIFO -> the socket.  Exits when QEMU closes the
# socket.  Arguments: SOCKET FIFO LOG.
OMEM_CONSOLE_READER='
import os, select, socket, sys, time
sock_path, fifo_path, log_path = sys.argv[1:4]
deadline = time.monotonic() + 60
while True:
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(sock_path)
        break
    except OSError as error:
        sock.close()
        if time.monotonic() > deadline:
            sys.exit("console reader: cannot connect to %s: %s" % (sock_path, error))
        time.sleep(0.05)
# O_RDWR: the FIFO never reports EOF when a writer closes it.
fifo = os.open(fifo_path, os.O_RDWR | os.O_NONBLOCK)
log = open(log_path, "ab", buffering=0)
while True:
    readable, _, _ = select.select([sock, fifo], [], [])
    if sock in readable:
        data = sock.recv(65536)
        if not data:
            break
        log.write(data.replace(b"\r", b""))
    if fifo in readable:
        data = os.read(fifo, 65536)
        if data:
            sock.sendall(data)
'

# guest_launch NAME XML_FUNCTION [ARGS...]: fresh run folder and console
# log, the domain XML from "XML_FUNCTION NAME ARGS...", define, start, and
# the console reader.  The one way a script boots a guest, whatever its
# XML; the domain is cleaned up by guest_cleanup.
guest_launch() {
    local name=$1 xml_function=$2 dir log output
    shift 2
    dir=$(guest_rundir "$name")
    log=$(guest_console_log "$name")
    rm -rf "$dir"
    mkdir -m 0755 "$dir" || return 1
    : >"$log"
    mkfifo -m 0600 "$dir/console.in" || return 1
    "$xml_function" "$name" "$@" >"$dir/domain.xml" || return 1

    OMEM_GUESTS+=("$name")
    if ! output=$(omem_virsh define "$dir/domain.xml" 2>&1); then
        echo "guest_launch: virsh define $dir/domain.xml failed: $output" >&2
        return 1
    fi
    echo 0 >"$dir/next-id"
    guest_power_on "$name"
}

# guest_power_on NAME: virsh start a defined guest (again, after a destroy:
# same run folder, console log appended to) and a console reader for its
# new QEMU; the old reader ended with the old QEMU.  Does not wait for the
# boot: a restarted guest's boot line is its Nth (guest_boot_count).
guest_power_on() {
    local name=$1 dir log output
    dir=$(guest_rundir "$name")
    log=$(guest_console_log "$name")
    if ! output=$(omem_virsh start "$name" 2>&1); then
        echo "guest_power_on: virsh start $name failed: $output" >&2
        return 1
    fi
    "$OMEM_PYTHON" -c "$OMEM_CONSOLE_READER" "$dir/console.sock" "$dir/console.in" "$log" \
        2>>"$OMEM_TEST_LOGDIR/$name.reader.err" &
    omem_track_pid $!
}

# guest_boot_count NAME: how many times the guest has printed its boot
# line on this console log (once per start).
guest_boot_count() {
    grep -c 'OMEM-GUEST: booted' "$(guest_console_log "$1")" 2>/dev/null
}

# guest_start LABEL [--boot-mib N] [--vmem-mib N] [--vcpus N] [--cmdline TEXT]:
# build the boot files if needed, define and start omemtest-LABEL-$$, start
# its console reader, set GUEST.  Does not wait for the boot: use
# guest_wait_for "$GUEST" 'OMEM-GUEST: booted' TIMEOUT.
guest_start() {
    local label=$1
    shift
    GUEST_BOOT_MIB=256
    GUEST_VMEM_MIB=1536
    GUEST_VCPUS=1
    GUEST_CMDLINE=
    while [ $# -gt 0 ]; do
        case $1 in
            --boot-mib) GUEST_BOOT_MIB=$2; shift 2 ;;
            --vmem-mib) GUEST_VMEM_MIB=$2; shift 2 ;;
            --vcpus) GUEST_VCPUS=$2; shift 2 ;;
            --cmdline) GUEST_CMDLINE=$2; shift 2 ;;
            *) echo "guest_start: unknown option $1" >&2; return 2 ;;
        esac
    done
    local name=$OMEM_DOMAIN_PREFIX$label-$$

    guest_prepare || return 1
    guest_launch "$name" guest_domain_xml || return 1
    GUEST=$name
}

# guest_prepare: what every guest of a scenario shares, before its first
# launch: stale domains of killed runs gone, the folders, and the kernel
# and initramfs (with memload and the module) in $OMEM_TEST_DIR/img.
# guest_start calls it; a scenario with a domain XML of its own calls it
# before guest_launch.
guest_prepare() {
    guest_cleanup_stale
    mkdir -p "$OMEM_TEST_DIR" "$OMEM_TEST_DIR/run" "$OMEM_TEST_LOGDIR" || return 1
    chmod 0755 "$OMEM_TEST_DIR" "$OMEM_TEST_DIR/run"
    "$top_srcdir/tests/guest/mkinitrd.sh" \
        --memload "$top_builddir/tests/guest/memload" \
        --client-module "$top_builddir/guest-client/omem_client.ko" \
        "$OMEM_TEST_DIR/img" >&2 || {
        echo "guest_prepare: building the guest image failed" >&2
        return 1
    }
}

# guest_wait_for NAME REGEX TIMEOUT: wait until a console line matches the
# extended regular expression; prints the first matching line.
guest_wait_for() {
    local name=$1 regex=$2 timeout=$3 log start
    log=$(guest_console_log "$name")
    start=$SECONDS
    while :; do
        grep -m1 -E -- "$regex" "$log" 2>/dev/null && return 0
        if [ $((SECONDS - start)) -ge "$timeout" ]; then
            echo "guest_wait_for: no line matching '$regex' on $name's console within ${timeout}s (see $log)" >&2
            return 1
        fi
        guest_alive "$name" || {
            echo "guest_wait_for: $name is not running any more (see $log)" >&2
            return 1
        }
        sleep 0.2
    done
}

# guest_boot_ok DESCRIPTION START TIMEOUT CLIENT NAME...: wait (TIMEOUT s
# each) for every NAME's boot line; with CLIENT "client", omem_client.ko
# must be loaded in each ("any": either way).  ok "DESCRIPTION (Ns)" with the seconds since
# START (omem_now) and, for one guest, its boot line; else not_ok and bail
# out, as nothing else can be tested.  Sets GUEST_BOOT_LINE to the last
# boot line without its "OMEM-GUEST: " prefix.
guest_boot_ok() {
    local description=$1 start=$2 timeout=$3 client=$4 name line
    shift 4
    for name in "$@"; do
        if ! line=$(guest_wait_for "$name" 'OMEM-GUEST: booted' "$timeout" 2>&1); then
            not_ok "$description" "$name: $line"
            bail_out "$name does not boot, nothing else to test"
        fi
        if [ "$client" = client ] && [[ $line != *omem_client=loaded* ]]; then
            not_ok "$description" "$name: $line"
            bail_out "omem_client.ko is not loaded in $name (built? see configure)"
        fi
        GUEST_BOOT_LINE=${line#OMEM-GUEST: }
    done
    if [ $# = 1 ]; then
        ok "$description ($(omem_elapsed "$start")s): $GUEST_BOOT_LINE"
    else
        ok "$description ($(omem_elapsed "$start")s)"
    fi
}

guest_alive() {
    [ "$(omem_virsh domstate "$1" 2>/dev/null)" = running ]
}

# guest_run NAME COMMAND [TIMEOUT]: run COMMAND (one shell line) in the
# guest, print its output, return its exit status; 124 on timeout.  The
# guest runs commands one at a time: after a timeout the command may still
# be running and later ones queue behind it.
guest_run() {
    local name=$1 command=$2 timeout=${3:-30}
    local dir log id offset start
    case $command in
        *$'\n'*) echo "guest_run: one line only: $command" >&2; return 2 ;;
    esac
    dir=$(guest_rundir "$name")
    log=$(guest_console_log "$name")
    id=$(($(cat "$dir/next-id") + 1))
    echo "$id" >"$dir/next-id"
    id=c$id
    offset=$(stat -c %s "$log")
    printf '%s %s\n' "$id" "$command" >"$dir/console.in"
    start=$SECONDS
    while ! tail -c +"$((offset + 1))" "$log" | grep -q "^OMEM-DONE $id "; do
        if [ $((SECONDS - start)) -ge "$timeout" ]; then
            echo "guest_run: '$command' did not finish within ${timeout}s on $name (see $log)" >&2
            return 124
        fi
        sleep 0.1
    done
    tail -c +"$((offset + 1))" "$log" | awk -v id="$id" '
        $0 == "OMEM-BEGIN " id { inside = 1; next }
        $1 == "OMEM-DONE" && $2 == id { status = $3; exit }
        inside { print }
        END { exit status }'
}

# guest_meminfo NAME FIELD: the guest's FIELD (MemTotal, MemFree,
# MemAvailable) in kB.
guest_meminfo() {
    local output
    output=$(guest_run "$1" meminfo 30) || return 1
    awk -v field="$2:" '$1 == field { print $2; found = 1 } END { exit !found }' <<<"$output"
}

# guest_set_requested NAME SIZE: ask the virtio-mem device for SIZE
# (virsh scaled integer: 256MiB, 1GiB, 0).  Returns at once; the guest
# plugs asynchronously.
guest_set_requested() {
    local output
    if ! output=$(omem_virsh update-memory-device "$1" --live --requested-size "$2" 2>&1); then
        echo "guest_set_requested: $1 to $2 failed: $output" >&2
        return 1
    fi
}

# guest_device_kib NAME FIELD: one <target> child (current, requested,
# size) of the virtio-mem device in NAME's live XML, in KiB; fails
# silently when there is none.
guest_device_kib() {
    local value
    value=$(omem_virsh dumpxml "$1" --xpath "/domain/devices/memory[@model='virtio-mem']/target/$2/text()" 2>/dev/null)
    [ -n "$value" ] && echo "$value"
}

# guest_plugged_kib NAME: what the virtio-mem device has plugged now, in
# KiB, from the live XML (<current>, which lags the guest by up to ~1 s).
guest_plugged_kib() {
    guest_device_kib "$1" current && return 0
    echo "guest_plugged_kib: no virtio-mem <current> in $1's live XML" >&2
    return 1
}

# guest_wait_plugged NAME KIB TIMEOUT: wait until <current> equals KIB.
guest_wait_plugged() {
    local name=$1 want=$2 timeout=$3
    poll_until "$timeout" guest_plugged_is "$name" "$want" && return 0
    echo "guest_wait_plugged: $name has $(guest_plugged_kib "$name" 2>/dev/null || echo '?') KiB plugged, not $want, after ${timeout}s" >&2
    return 1
}

# guest_plugged_is NAME KIB: libvirt's <current> is KIB.
guest_plugged_is() {
    [ "$(guest_plugged_kib "$1")" = "$2" ]
}

# guest_shmem_xml SOCKET SHMEM_NAME: the ivshmem-doorbell device.  No
# <size> (the server sets it); <msi> needs <server path>.
guest_shmem_xml() {
    cat <<EOF
<shmem name='$2'>
  <model type='ivshmem-doorbell'/>
  <server path='$1'/>
  <msi vectors='2' ioeventfd='off'/>
</shmem>
EOF
}

# guest_attach_shmem NAME SOCKET [SHMEM_NAME]: attach the ivshmem-doorbell
# device live (not in the persistent definition).  QEMU connects to SOCKET
# during the attach, so the server must already listen and let
# libvirt-qemu connect.
guest_attach_shmem() {
    local name=$1 socket=$2 shmem=${3:-omem0} dir output
    dir=$(guest_rundir "$name")
    guest_shmem_xml "$socket" "$shmem" >"$dir/shmem-$shmem.xml"
    if ! output=$(omem_virsh attach-device "$name" "$dir/shmem-$shmem.xml" --live 2>&1); then
        # QEMU (and so the guest) blocks until the server's handshake.
        echo "guest_attach_shmem: attaching <shmem name='$shmem'> ($socket) to $name failed: $output" \
             "(a hang here means the server accepted nothing or sent no handshake)" >&2
        return 1
    fi
}

# guest_detach_shmem NAME [SHMEM_NAME]: detach it live and wait (30 s) until
# the guest has released it and it left the live XML.
guest_detach_shmem() {
    local name=$1 shmem=${2:-omem0} dir output
    dir=$(guest_rundir "$name")
    if ! output=$(omem_virsh detach-device "$name" "$dir/shmem-$shmem.xml" --live 2>&1); then
        echo "guest_detach_shmem: detaching <shmem name='$shmem'> from $name failed: $output" >&2
        return 1
    fi
    poll_until 30 not guest_has_shmem "$name" "$shmem" && return 0
    echo "guest_detach_shmem: <shmem name='$shmem'> still in $name's live XML after 30s" >&2
    return 1
}

# guest_has_shmem NAME [SHMEM_NAME]: true if the live XML has it.
guest_has_shmem() {
    omem_virsh dumpxml "$1" 2>/dev/null | grep -q "<shmem name='${2:-omem0}'>"
}

# guest_reset NAME: bring a guest back to its boot state between scenarios:
# no <shmem>, nothing requested.  Unplug is asynchronous and may stall
# while the guest holds memory; the next scenario must not assume 0.
guest_reset() {
    local name=$1
    if guest_has_shmem "$name"; then
        guest_detach_shmem "$name" || return 1
    fi
    guest_set_requested "$name" 0
}

# guest_scenario [--keep] DESCRIPTION FUNCTION [ARGS...]: run one scenario
# function against the shared guest; it reports its own checks.
# Afterwards the guest is reset (not with --keep: where omemd owns the
# <shmem> and the requested size); a guest that no longer runs or answers
# ends the script.
guest_scenario() {
    local reset=1 description
    if [ "$1" = --keep ]; then
        reset=0
        shift
    fi
    description=$1
    shift
    omem_timed scenario "$description" "$@"
    guest_alive "$GUEST" || bail_out "guest $GUEST stopped during '$description'"
    if [ "$reset" = 1 ]; then
        guest_reset "$GUEST" >&2 || diag "resetting $GUEST after '$description' failed"
    fi
    guest_run "$GUEST" true 30 >/dev/null ||
        bail_out "guest $GUEST no longer answers after '$description'"
}

# ---------------------------------------------------------------- host helpers

# host_log_base NAME: where helper NAME's output goes, without .out/.err:
# beside the guest's console log.
host_log_base() {
    echo "$OMEM_TEST_LOGDIR/${GUEST:-omem-script-$$}.$1"
}

# host_spawn NAME COMMAND...: run a host-side helper in the background;
# stdout to $(host_log_base NAME).out, stderr to .err.  Sets HOST_PID;
# guest_cleanup stops it.
host_spawn() {
    local name=$1 base
    shift
    base=$(host_log_base "$name")
    mkdir -p "$OMEM_TEST_LOGDIR"
    "$@" >"$base.out" 2>"$base.err" &
    HOST_PID=$!
    omem_track_pid "$HOST_PID"
}

# host_wait_line NAME REGEX TIMEOUT: wait until helper NAME's stdout has a
# line matching REGEX; fails early if the helper PID (HOST_PID) exited.
host_wait_line() {
    local name=$1 regex=$2 timeout=$3 base start=$SECONDS
    base=$(host_log_base "$name")
    until grep -q -E -- "$regex" "$base.out" 2>/dev/null; do
        if ! kill -0 "$HOST_PID" 2>/dev/null; then
            echo "host_wait_line: $name exited before printing '$regex': $(tail -n 5 "$base.err" 2>/dev/null)" >&2
            return 1
        fi
        if [ $((SECONDS - start)) -ge "$timeout" ]; then
            echo "host_wait_line: $name printed no '$regex' within ${timeout}s (see $base.err)" >&2
            return 1
        fi
        sleep 0.1
    done
}

host_stop() {
    omem_stop_pid "$1"
}

# ---------------------------------------------------------------- cleanup

# omem_at_exit FUNCTION: have the exit trap run FUNCTION before
# guest_cleanup; the last registered runs first (omem.sh registers
# omemd_cleanup, so a script's own hook runs while omemd still runs).
omem_at_exit() {
    OMEM_CLEANUP_HOOKS+=("$1")
}

# omem_remove_at_exit PATH...: have the exit trap remove PATH (a scratch
# file or folder of the script) after the hooks.
omem_remove_at_exit() {
    OMEM_CLEANUP_PATHS+=("$@")
}

# guest_cleanup: run the omem_at_exit hooks, then destroy + undefine every
# domain this script made, stop its readers and helpers, remove runtime
# folders.  Safe to call twice.
guest_cleanup() {
    local name pid i
    [ "$OMEM_CLEANED" = 1 ] && return 0
    OMEM_CLEANED=1
    for ((i = ${#OMEM_CLEANUP_HOOKS[@]} - 1; i >= 0; i--)); do
        "${OMEM_CLEANUP_HOOKS[i]}"
    done
    for name in "${OMEM_GUESTS[@]:+${OMEM_GUESTS[@]}}"; do
        # A failed run shows the console's tail and keeps the guest's
        # kernel log beside its console log.
        if [ "$TAP_FAILED" -gt 0 ]; then
            diag "last lines of $(guest_console_log "$name"):"
            tail -n 20 "$(guest_console_log "$name")" 2>/dev/null | sed 's/^/#   /'
            if guest_alive "$name"; then
                guest_run "$name" dmesg 15 >"$OMEM_TEST_LOGDIR/$name.dmesg" 2>&1
            fi
        fi
        guest_remove_domain "$name"
    done
    for pid in "${OMEM_HOST_PIDS[@]:+${OMEM_HOST_PIDS[@]}}"; do
        omem_stop_pid "$pid"
    done
    rm -f "$OMEM_TEST_DIR/run/pids-$$"
    for name in "${OMEM_CLEANUP_PATHS[@]:+${OMEM_CLEANUP_PATHS[@]}}"; do
        rm -rf -- "$name"
    done
}

trap guest_cleanup EXIT
trap 'guest_cleanup; exit 130' INT
trap 'guest_cleanup; exit 143' TERM
