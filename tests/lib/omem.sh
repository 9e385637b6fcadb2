# tests/lib/omem.sh — omemd and outsourcing helpers for real-guest scripts.
#
# Sourced by the real-guest scenarios (tests/e2e/*.sh), the benchmarks
# (bench/*.sh) and the demo (ci/demo); it sources tests/lib/guest.sh
# itself.  guest.sh boots and drives guests; this file adds what the
# outsourcing loop needs around them: omemd started and stopped with its own
# run dir, its log and status socket read, the figures a scenario checks
# (plugged size, the QEMU process's RssShmem, guest OOM kills, the guest
# module's status), the guest's memload jobs, a background sampler, a
# balloon baseline guest for the benchmarks, and a few small numeric
# helpers.  Each helper exists once here: a scenario script keeps only what
# is its own.
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
#   omem_status_lists NAME           omemd's status lists VM NAME
#   omem_status_is NAME EXPR VALUE   one figure of the status is VALUE
#   omem_client_field NAME FIELD     one field of the guest module's status
#   omem_client_state_is NAME STATE  the guest module's session state is STATE
#   omem_guests_oom_kills NAME...    their OOM kill counters, "?" unanswered
#   omem_sampler_start FUNCTION      run FUNCTION in the background, writing
#                                    samples to $OMEM_SAMPLES, until exit
#   memload_spawn NAME JOB ARGS      memload ARGS as guest job JOB
#   guest_job_status / _ended / _running NAME JOB   a spawned job's state
#   memload_log / _tail / _holding / _settled NAME JOB   its memload's output
#   omem_balloon_guest_start LABEL BOOT_MIB CURRENT_MIB
#                                    boot a balloon baseline guest (no virtio-mem)
#   omem_median / omem_ratio         small numeric helpers (awk)
# Sourcing it sources guest.sh (if not yet), and registers omem_cleanup
# with omem_at_exit: the exit trap stops the sampler and omemd before the
# guests go.
# shellcheck shell=bash

[ -n "${OMEM_OMEM_LOADED:-}" ] && return 0
OMEM_OMEM_LOADED=1
# shellcheck source=guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/guest.sh"

: "${OMEMD:=$top_builddir/host-server/omemd}"
# The domains this script's omemd manages: its own guests only.
: "${OMEMD_DOMAINS:=${OMEM_DOMAIN_PREFIX}*-$$}"
OMEMD_PID=
OMEMD_RUN_DIR=
OMEMD_NAME=omemd        # host helper name: its log is $(host_log_base omemd).{out,err}
OMEMD_STARTS=0
OMEMD_LOG_BASES=()      # one per start: BASE.out, BASE.err
OMEM_SAMPLER_PID=
OMEM_SAMPLES=

# omem_cleanup: the exit trap's part for this file: the sampler, then omemd.
omem_cleanup() {
    omem_sampler_stop
    omemd_cleanup
}
omem_at_exit omem_cleanup

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
    omem_stop_pid "$OMEMD_PID" || status=$?
    OMEMD_PID=
    echo "$status"
}

# omemd_cleanup: stop omemd and remove its run dir (the exit trap calls
# it, through omem_cleanup, before guest_cleanup removes the domains).
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

# omem_status_lists NAME: omemd's status has a VM NAME.
omem_status_lists() {
    omem_status_get "$1" name >/dev/null 2>&1
}

# omem_status_is NAME EXPR VALUE: omemd's status says VALUE for EXPR of VM
# NAME (session.state open, contract.drain False, ...).
omem_status_is() {
    [ "$(omem_status_get "$1" "$2" 2>/dev/null)" = "$3" ]
}

# omem_client_field NAME FIELD: one "FIELD: value" of omem_client.ko's
# debugfs status in the guest (state, version, generation, errors_received,
# denies, sessions_opened...), or nothing.
omem_client_field() {
    guest_run "$1" omem_status 30 2>/dev/null | sed -n "s/^$2: //p"
}

# omem_session_state NAME: the session state omem_client.ko reports in the
# guest (idle, hello, open, closed), or nothing.
omem_session_state() {
    omem_client_field "$1" state
}

# omem_client_state_is NAME STATE: the guest module's session is STATE.
omem_client_state_is() {
    [ "$(omem_session_state "$1")" = "$2" ]
}

# omem_check_served GUEST TIMEOUT MARK: two checks, each within TIMEOUT
# seconds: omemd attached its transport device to GUEST (its log line
# after byte MARK), and the guest's module opened a session with it.
omem_check_served() {
    local guest=$1 timeout=$2 mark=$3
    if omemd_wait_log "vm $guest: transport attached" "$timeout" "$mark" >/dev/null; then
        ok "omemd attaches its transport device to the running guest"
    else
        not_ok "omemd attaches its transport device to the running guest" "$(omemd_log | tail -n 10)"
    fi
    if omem_wait_session "$guest" "$timeout"; then
        ok "the guest's module opens a session with omemd"
    else
        not_ok "the guest's module opens a session with omemd" \
            "$(guest_run "$guest" omem_status 2>&1)" "$(guest_run "$guest" 'klog 10' 2>&1)"
    fi
}

# omem_wait_session NAME TIMEOUT: wait until the guest's module has an open
# session (with omemd or omem-ivshmem-serve).
omem_wait_session() {
    poll_until "$2" omem_client_state_is "$1" open
}

# omem_device_mib NAME FIELD: guest_device_kib in MiB.
omem_device_mib() {
    local kib
    kib=$(guest_device_kib "$1" "$2") || return 1
    echo $((kib / 1024))
}

# omem_plugged_mib NAME: plugged size (<current>) in MiB, libvirt's view.
omem_plugged_mib() {
    omem_device_mib "$1" current
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
    omem_device_mib "$1" requested
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

# omem_guests_oom_kills NAME...: their OOM kill counters, one line ("?"
# for a guest that does not answer).
omem_guests_oom_kills() {
    local name out=
    for name in "$@"; do
        out="$out $(omem_guest_oom_kills "$name" || echo '?')"
    done
    echo "${out# }"
}

# omem_guest_meminfo_mib NAME FIELD: guest_meminfo in MiB.
omem_guest_meminfo_mib() {
    local kib
    kib=$(guest_meminfo "$1" "$2") || return 1
    echo $((kib / 1024))
}

# ---------------------------------------------------------------- samples

# omem_sampler_start FUNCTION: a fresh $OMEM_SAMPLES file and FUNCTION (a
# loop appending one line per sample to it) in the background; stopped by
# omem_sampler_stop or at exit.
omem_sampler_start() {
    OMEM_SAMPLES=$(mktemp) || return 1
    omem_remove_at_exit "$OMEM_SAMPLES"
    "$1" &
    OMEM_SAMPLER_PID=$!
    omem_track_pid "$OMEM_SAMPLER_PID"
}

omem_sampler_stop() {
    [ -n "$OMEM_SAMPLER_PID" ] && omem_stop_pid "$OMEM_SAMPLER_PID"
    OMEM_SAMPLER_PID=
}

# ---------------------------------------------------------------- guest jobs

# memload_spawn NAME JOB ARGS: start "memload ARGS" in guest NAME as the
# background job JOB (its output in the guest's /tmp/JOB.log).
memload_spawn() {
    guest_run "$1" "spawn $2 memload $3" 30 >/dev/null
}

# guest_job_status NAME JOB: the exit status of job JOB, 255 while it runs
# (124: the guest did not answer).
guest_job_status() {
    local status=0
    guest_run "$1" "finished $2" 30 >/dev/null || status=$?
    echo "$status"
}

# guest_job_ended NAME JOB: the guest says JOB has ended (an unanswered
# question is no answer).
guest_job_ended() {
    local status
    status=$(guest_job_status "$1" "$2")
    [ "$status" != 255 ] && [ "$status" != 124 ]
}

guest_job_running() {
    [ "$(guest_job_status "$1" "$2")" = 255 ]
}

# memload_log NAME JOB: what job JOB's memload printed so far.
memload_log() {
    guest_run "$1" "cat /tmp/$2.log" 30
}

memload_tail() {
    memload_log "$1" "$2" | tail -n 3
}

# memload_holding NAME JOB: it has taken its whole size and holds it.
memload_holding() {
    memload_log "$1" "$2" | grep -q '^memload: holding'
}

# memload_settled NAME JOB: it holds its size, or it ended (failed).
memload_settled() {
    memload_holding "$1" "$2" || guest_job_ended "$1" "$2"
}

# ---------------------------------------------------------------- balloon

# omem_balloon_domain_xml NAME BOOT_MIB CURRENT_MIB: the balloon baseline:
# the test guest's shape (q35 TCG, 1 vCPU, same kernel and initramfs)
# without virtio-mem, BOOT_MIB of RAM of which a virtio balloon leaves
# CURRENT_MIB to the guest at boot (libvirt sets the balloon target).
omem_balloon_domain_xml() {
    guest_plain_domain_xml "$1" "$2" "$3" 1 "" "<memballoon model='virtio'/>"
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
