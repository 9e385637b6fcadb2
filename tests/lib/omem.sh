# tests/lib/omem.sh — omemd and outsourcing helpers for real-guest scripts.
#
# Sourced after tests/lib/guest.sh by the outsourcing scenarios
# (tests/e2e/outsourcing.sh), the benchmarks (bench/*.sh) and the demo
# (ci/demo).  guest.sh boots and drives guests; this file adds what the
# outsourcing loop needs around them: omemd started and stopped with its own
# run dir, its log and status socket read, the figures a scenario checks
# (plugged size, the QEMU process's RssShmem, guest OOM kills), a balloon
# baseline guest for the benchmarks, and a few small numeric helpers.
#
# omemd runs in the foreground as a host helper of the script (host_spawn),
# so guest_cleanup stops it like any other helper.  Its run dir is
# $OMEM_TEST_DIR/omemd-$$ (under /var/tmp/omem-tests: QEMU, running as
# libvirt-qemu, must traverse it to reach RUN_DIR/vm/UUID.sock), removed by
# omemd_cleanup.  OMEM_STATUS_SOCKET is exported so virt-omem reads this
# omemd's status, whatever its libvirt URI.
#
# Only this script's guests.  omemd_start passes --domains
# "omemtest-*-$$" (OMEMD_DOMAINS): the script's own domains, whatever their
# label (guest_start names them omemtest-LABEL-$$), and no other script's.
# So scripts that start omemd may run beside each other and beside the
# other real-guest scripts (make -j check, ci/demo): each omemd has its own
# run dir, sockets and status, and leaves the others' guests alone.  An
# omemd started without --domains (by hand, or systemd's) would take this
# script's guests too; omemd_start warns about one but does not stop it.
#
# API:
#   omemd_built                      true if host-server/omemd exists
#   omemd_start [OMEMD ARGS...]      start omemd for this script's guests
#                                    (sets OMEMD_PID, OMEMD_RUN_DIR)
#   omemd_wait_log REGEX TIMEOUT     wait for a line in omemd's log (from start)
#   omemd_log_since MARK             omemd's log from byte MARK (omemd_log_mark)
#   omemd_kill9 / omemd_stop         SIGKILL now / SIGTERM, bounded
#   omem_status_get NAME EXPR        one figure of omemd's status for NAME
#   omem_host_status EXPR            one figure of the status's host object
#   omem_session_state NAME          the guest module's debugfs session state
#   omem_wait_session NAME TIMEOUT   wait until the guest's session is open
#   omem_plugged_mib NAME            virtio-mem <current> in MiB (libvirt)
#   omem_requested_mib NAME          virtio-mem <requested> in MiB (libvirt)
#   omem_plugged_at_least/_at_most NAME MIB, omem_pool_at_least MIB
#                                    conditions for poll_until
#   omem_found_plugged_mib NAME MARK the plugged size a (re)started omemd found
#   omem_qemu_pid NAME               the VM's QEMU PID
#   omem_rss_shmem_kib NAME          RssShmem of that QEMU (guest RAM, memfd)
#   omem_guest_oom_kills NAME        the guest's oom_kill counter (/proc/vmstat)
#   omem_balloon_guest_start LABEL BOOT_MIB CURRENT_MIB
#                                    boot a balloon baseline guest (no virtio-mem)
#   omem_median / omem_ratio         small numeric helpers (awk)
#   vo ARGS...                       virt-omem on this script's libvirt URI
# shellcheck shell=bash

: "${OMEMD:=$top_builddir/host-server/omemd}"
: "${OMEM_VIRT_OMEM:=$top_builddir/libvirt-driver/virt-omem/virt-omem}"
# The domains this script's omemd manages: its own guests only.
: "${OMEMD_DOMAINS:=${OMEM_DOMAIN_PREFIX}*-$$}"
OMEMD_PID=
OMEMD_RUN_DIR=
OMEMD_NAME=omemd        # host helper name: its log is $(host_log_base omemd).{out,err}
OMEMD_STARTS=0
OMEMD_LOG_BASES=()      # one per start: BASE.out, BASE.err

vo() {
    "$OMEM_VIRT_OMEM" -c "$OMEM_URI" "$@"
}

omemd_built() {
    [ -x "$OMEMD" ]
}

# omemd_unfiltered: PIDs of omemd processes this script did not start that
# run without --domains, so may manage this script's guests too.
omemd_unfiltered() {
    local pid
    for pid in $(pgrep -x omemd); do
        [ "$pid" = "$OMEMD_PID" ] && continue
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- '--domains' ||
            printf '%s ' "$pid"
    done
}

# omemd_log: omemd's log so far (stdout and stderr of every start, in order).
omemd_log() {
    local base
    for base in "${OMEMD_LOG_BASES[@]:+${OMEMD_LOG_BASES[@]}}"; do
        cat "$base.err" "$base.out" 2>/dev/null
    done
}

# omemd_log_mark: a position in omemd's log for omemd_log_since (a byte
# count; logs only grow).
omemd_log_mark() {
    omemd_log | wc -c
}

omemd_log_since() {
    omemd_log | tail -c +"$(($1 + 1))"
}

# omemd_start [ARGS...]: start omemd in the foreground with a run dir of
# this script, connected to qemu:///system at log level info, managing
# only $OMEMD_DOMAINS, plus ARGS (e.g. --budget 1536M; a --domains there
# wins: omemd takes the last one).  Each start logs to its own files
# ($(host_log_base omemd.N).{out,err}, N counting starts), so a restart
# keeps the old log and omemd_log reads them all in order.
# Returns once omemd runs and its status socket answers (15 s), so the
# caller may read the status at once; 1 with a reason on stderr otherwise.
omemd_start() {
    omemd_built || { echo "omemd_start: $OMEMD is not built; run make" >&2; return 1; }
    local other
    other=$(omemd_unfiltered)
    [ -z "$other" ] ||
        echo "omemd_start: warning: omemd pid $other runs without --domains: it may manage this script's guests too" >&2
    OMEMD_RUN_DIR=${OMEMD_RUN_DIR:-$OMEM_TEST_DIR/omemd-$$}
    mkdir -p "$OMEMD_RUN_DIR" && chmod 0755 "$OMEMD_RUN_DIR" || return 1
    export OMEM_STATUS_SOCKET=$OMEMD_RUN_DIR/status.sock
    OMEMD_STARTS=$((OMEMD_STARTS + 1))
    OMEMD_LOG_BASES+=("$(host_log_base "$OMEMD_NAME.$OMEMD_STARTS")")
    host_spawn "$OMEMD_NAME.$OMEMD_STARTS" "$OMEMD" --foreground --log-level info \
        --run-dir "$OMEMD_RUN_DIR" --connect "$OMEM_URI" --domains "$OMEMD_DOMAINS" "$@"
    OMEMD_PID=$HOST_PID
    local start=$SECONDS
    until omem_status_raw >/dev/null 2>&1; do
        if ! kill -0 "$OMEMD_PID" 2>/dev/null; then
            echo "omemd_start: omemd exited at once: $(omemd_log | tail -n 5)" >&2
            return 1
        fi
        if [ $((SECONDS - start)) -ge 15 ]; then
            echo "omemd_start: omemd's status socket $OMEM_STATUS_SOCKET does not answer after 15s" >&2
            return 1
        fi
        sleep 0.2
    done
}

# omemd_wait_log REGEX TIMEOUT [MARK]: wait until omemd's log (after byte
# MARK, default 0) has a line matching the ERE; prints it.
omemd_wait_log() {
    local regex=$1 timeout=$2 mark=${3:-0} start=$SECONDS
    until omemd_log_since "$mark" | grep -m1 -E -- "$regex"; do
        if [ $((SECONDS - start)) -ge "$timeout" ]; then
            echo "omemd_wait_log: no line matching '$regex' in omemd's log within ${timeout}s" >&2
            return 1
        fi
        sleep 0.2
    done
}

# omemd_kill9: SIGKILL omemd now (the restart scenario); leaves its run dir.
omemd_kill9() {
    [ -n "$OMEMD_PID" ] || return 0
    kill -KILL "$OMEMD_PID" 2>/dev/null
    wait "$OMEMD_PID" 2>/dev/null
    OMEMD_PID=
}

# omemd_stop: SIGTERM, bounded wait, SIGKILL; prints omemd's exit status.
omemd_stop() {
    local status=0
    [ -n "$OMEMD_PID" ] || return 0
    if kill -0 "$OMEMD_PID" 2>/dev/null; then
        kill -TERM "$OMEMD_PID" 2>/dev/null
        local i
        for _ in $(seq 50); do
            kill -0 "$OMEMD_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$OMEMD_PID" 2>/dev/null
    fi
    wait "$OMEMD_PID" 2>/dev/null || status=$?
    OMEMD_PID=
    echo "$status"
}

# omemd_cleanup: stop omemd and remove its run dir (call from the script's
# own cleanup, before guest_cleanup removes the domains).
omemd_cleanup() {
    omemd_stop >/dev/null
    [ -n "$OMEMD_RUN_DIR" ] && rm -rf "$OMEMD_RUN_DIR"
    return 0
}

# The status reader: one JSON document from the socket (docs/status.md),
# bounded like virt-omem's client (2 s).  Arguments: SOCKET [VM-NAME EXPR
# | --host EXPR | --raw].  EXPR is a dotted path (session.state,
# guest.mem_free_bytes); prints the value, "null" for null or absent.
OMEM_STATUS_READER='
import json, socket, sys
path = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.settimeout(2)
sock.connect(path)
data = b""
while True:
    chunk = sock.recv(65536)
    if not chunk:
        break
    data += chunk
    if len(data) > 4 << 20:
        sys.exit("status document larger than 4 MiB")
doc = json.loads(data)
if len(sys.argv) < 3 or sys.argv[2] == "--raw":
    print(json.dumps(doc, indent=1))
    sys.exit(0)
def walk(obj, expr):
    for part in expr.split("."):
        if not isinstance(obj, dict) or obj.get(part) is None:
            return None
        obj = obj[part]
    return obj
if sys.argv[2] == "--host":
    value = walk(doc.get("host"), sys.argv[3])
else:
    vms = [vm for vm in doc.get("vms", []) if vm.get("name") == sys.argv[2]]
    if not vms:
        sys.exit("no VM %s in the status" % sys.argv[2])
    value = walk(vms[0], sys.argv[3])
print("null" if value is None else json.dumps(value) if isinstance(value, (dict, list)) else value)
'

omem_status_raw() {
    "$OMEM_PYTHON" -c "$OMEM_STATUS_READER" "${OMEM_STATUS_SOCKET:?no omemd started}" --raw
}

# omem_status_get NAME EXPR: one figure of VM NAME in omemd's status.
omem_status_get() {
    "$OMEM_PYTHON" -c "$OMEM_STATUS_READER" "${OMEM_STATUS_SOCKET:?no omemd started}" "$1" "$2"
}

# omem_host_status EXPR: budget_bytes, committed_bytes or available_bytes.
omem_host_status() {
    "$OMEM_PYTHON" -c "$OMEM_STATUS_READER" "${OMEM_STATUS_SOCKET:?no omemd started}" --host "$1"
}

# omem_session_state NAME: the session state omem_client.ko reports in the
# guest (idle, hello, open, closed), or nothing.
omem_session_state() {
    guest_run "$1" omem_status 30 2>/dev/null | sed -n 's/^state: //p'
}

omem_session_is_open() {
    [ "$(omem_session_state "$1")" = open ]
}

# omem_wait_session NAME TIMEOUT: wait until the guest's module has an open
# session (with omemd or omem-ivshmem-serve).
omem_wait_session() {
    poll_until "$2" omem_session_is_open "$1"
}

# omem_device_xpath NAME FIELD: one <target> child of the virtio-mem device
# in the live XML, in KiB.
omem_device_kib() {
    omem_virsh dumpxml "$1" --xpath \
        "/domain/devices/memory[@model='virtio-mem']/target/$2/text()" 2>/dev/null
}

# omem_plugged_mib NAME: plugged size (<current>) in MiB, libvirt's view.
omem_plugged_mib() {
    local kib
    kib=$(omem_device_kib "$1" current) && [ -n "$kib" ] || return 1
    echo $((kib / 1024))
}

# omem_plugged_at_least NAME MIB / omem_plugged_at_most NAME MIB: libvirt's
# plugged size against MIB (false when it cannot be read).
omem_plugged_at_least() {
    local plugged
    plugged=$(omem_plugged_mib "$1") && [ "$plugged" -ge "$2" ]
}

omem_plugged_at_most() {
    local plugged
    plugged=$(omem_plugged_mib "$1") && [ "$plugged" -le "$2" ]
}

# omem_pool_at_least MIB: omemd's arbiter pool (what a grant may take now,
# status host.pool_bytes) has MIB.
omem_pool_at_least() {
    local pool
    pool=$(omem_host_status pool_bytes) && [ "$pool" != null ] && [ $((pool >> 20)) -ge "$1" ]
}

# omem_found_plugged_mib NAME MARK: the plugged size in omemd's "vm NAME:
# managed (...)" line after byte MARK of its log, in MiB ("-" when there
# is none): what an omemd found when it started.
omem_found_plugged_mib() {
    omemd_log_since "$2" | "$OMEM_PYTHON" -c '
import re, sys
name = sys.argv[1]
for line in sys.stdin:
    m = re.search(r"vm %s: managed .*plugged ([0-9.]+) (MiB|GiB)" % re.escape(name), line)
    if m:
        value = float(m.group(1)) * (1024 if m.group(2) == "GiB" else 1)
        print(int(round(value)))
        sys.exit(0)
print("-")' "$1"
}

# omem_requested_mib NAME: requested size in MiB, what omemd last asked.
omem_requested_mib() {
    local kib
    kib=$(omem_device_kib "$1" requested) && [ -n "$kib" ] || return 1
    echo $((kib / 1024))
}

# omem_qemu_pid NAME: the PID of the VM's QEMU (libvirt's pid file).
omem_qemu_pid() {
    local pid
    pid=$(cat "/run/libvirt/qemu/$1.pid" 2>/dev/null) && [ -n "$pid" ] || {
        echo "omem_qemu_pid: no /run/libvirt/qemu/$1.pid" >&2
        return 1
    }
    echo "$pid"
}

# omem_rss_shmem_kib NAME: RssShmem of the VM's QEMU, in kB: the guest RAM
# it holds (memfd shared backing), without TCG's code cache that RSS has.
omem_rss_shmem_kib() {
    local pid
    pid=$(omem_qemu_pid "$1") || return 1
    awk '$1 == "RssShmem:" { print $2; found = 1 } END { exit !found }' "/proc/$pid/status"
}

# omem_guest_oom_kills NAME: how many processes the guest's OOM killer
# killed since boot (/proc/vmstat oom_kill).
omem_guest_oom_kills() {
    guest_run "$1" 'grep "^oom_kill " /proc/vmstat' 30 | awk '{ print $2; found = 1 } END { exit !found }'
}

# omem_guest_memfree_mib NAME: MemFree of the guest in MiB.
omem_guest_meminfo_mib() {
    local kib
    kib=$(guest_meminfo "$1" "$2") || return 1
    echo $((kib / 1024))
}

# omem_balloon_domain_xml NAME BOOT_MIB CURRENT_MIB: the balloon baseline:
# the test guest's shape (q35 TCG, 1 vCPU, same kernel and initramfs)
# without virtio-mem, BOOT_MIB of RAM of which a virtio balloon leaves
# CURRENT_MIB to the guest at boot (libvirt sets the balloon target).
omem_balloon_domain_xml() {
    local name=$1 boot=$2 current=$3 dir
    dir=$(guest_rundir "$name")
    cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>$boot</memory>
  <currentMemory unit='MiB'>$current</currentMemory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$OMEM_TEST_DIR/img/vmlinuz</kernel>
    <initrd>$OMEM_TEST_DIR/img/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet loglevel=4 panic=-1</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <serial type='unix'>
      <source mode='bind' path='$dir/console.sock'/>
      <target port='0'/>
    </serial>
    <memballoon model='virtio'/>
  </devices>
</domain>
EOF
}

# omem_balloon_guest_start LABEL BOOT_MIB CURRENT_MIB: define and start a
# balloon baseline guest omemtest-LABEL-$$ with the harness's console
# reader, so guest_run and guest_cleanup work on it as on any test guest.
# The image must exist (guest_start builds it).  Sets GUEST_BALLOON.
omem_balloon_guest_start() {
    local name=$OMEM_DOMAIN_PREFIX$1-$$
    guest_launch "$name" omem_balloon_domain_xml "$2" "$3" || return 1
    GUEST_BALLOON=$name
}

# omem_balloon_actual_mib NAME: the balloon's "actual" (what the guest has
# now, as QEMU last heard from its driver), in MiB.
omem_balloon_actual_mib() {
    omem_virsh dommemstat "$1" 2>/dev/null | awk '$1 == "actual" { print int($2 / 1024); found = 1 } END { exit !found }'
}

# omem_median VALUES...: the median (mean of the two middle values for an
# even count); nothing for no values.
omem_median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) exit 1
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# omem_ratio A B [DIGITS]: A / B, DIGITS decimals (default 2).
omem_ratio() {
    awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b == 0) print "inf"; else printf "%.*f\n", d, a / b }'
}
