#!/bin/bash
# tests/e2e/daemon.sh — omemd's operator-facing surfaces against the real
# libvirtd, without booting a guest (so ~10 s):
#   metrics     GET /metrics on an ephemeral loopback port answers, passes
#               `promtool check metrics` (when installed), says 404 / 405
#               elsewhere; a client that connects and sends nothing does
#               not stop the next scrape
#   sockets     status.sock is 0660 group omem (0600 without the group),
#               admission.sock 0600 root
#   admission   omem-qemu-hook at prepare/begin: an omem domain whose min
#               does not fit is refused with the numbers, one that fits is
#               admitted and its min reserved (status reserved_bytes), min
#               rounds up to the device's block (512 MiB), a
#               plain domain and any other hook operation pass at once,
#               omemd gone -> admitted with a warning and one line in
#               RUN_DIR/admission-fail-open, counted in /metrics after a
#               restart (--fail-closed: refused, not counted)
#   reload      SIGHUP with an unknown key fails with FILE:LINE and keeps
#               the budget; a good file applies the new budget; restart-only
#               keys are reported
#   dry run     omemd --dry-run starts and says so
#   pressure    host_low above the host's MemAvailable: status says the
#               host is short and the pool is empty; and back
# Its omemd manages no domain (--domains matches none), so it may run beside
# the real-guest scripts.  TAP on stdout.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
# shellcheck source=../lib/omem.sh
. "$top_srcdir/tests/lib/omem.sh"

HOOK=$top_builddir/host-server/omem-qemu-hook
MIB=$((1024 * 1024))

# omem_domain NAME UUID MIN: an omem domain XML (boot 512 MiB, max 4 GiB).
omem_domain() {
    printf '<domain type="qemu"><name>%s</name><uuid>%s</uuid><memory unit="MiB">4096</memory><vcpu>1</vcpu><os><type arch="x86_64" machine="q35">hvm</type></os></domain>' \
        "$1" "$2" | vo convert --boot 512M --min "$3" --max 4G -
}

# hook ARGS...: run the hook on this omemd's socket; stderr to $WORK/hook.err.
hook() {
    "$HOOK" --socket "$OMEMD_RUN_DIR/admission.sock" "$@" 2>"$WORK/hook.err"
}

# hook_result STATUS REGEX DESCRIPTION: the last hook run exited STATUS
# ($status) and said REGEX on stderr.
hook_result() {
    if [ "$status" = "$1" ] && grep -q -- "$2" "$WORK/hook.err"; then
        ok "$3"
    else
        not_ok "$3" "exit $status" "$(cat "$WORK/hook.err")"
    fi
}

metrics_get() {
    curl -s -o "$WORK/$2" -w '%{http_code}' -X "$1" "http://127.0.0.1:$METRICS_PORT$3"
}

# ---------------------------------------------------------------- main

guest_require_host
omemd_built || skip_all "host-server/omemd is not built"
[ -x "$HOOK" ] || skip_all "$HOOK is not built"
command -v curl >/dev/null || skip_all "curl is not installed"
WORK=$(mktemp -d)
omem_remove_at_exit "$WORK"
chmod 0755 "$WORK"

cat >"$WORK/omemd.conf" <<EOF
[host]
budget = 2G
[metrics]
listen = 127.0.0.1:0
EOF
OMEMD_DOMAINS="omemtest-daemon-none-$$-*"
if omemd_start --config "$WORK/omemd.conf"; then
    ok "omemd starts with a config file"
else
    not_ok "omemd starts with a config file" "$(omemd_log | tail -n 5)"
    bail_out "no omemd, nothing else to test"
fi
METRICS_PORT=$(omemd_log | sed -n 's/.*metrics: GET \/metrics on .* (port \([0-9]*\)).*/\1/p' | tail -n 1)

# ---- metrics
if [ -z "$METRICS_PORT" ] || [ "$METRICS_PORT" = 0 ]; then
    not_ok "omemd logs its metrics port" "$(omemd_log | tail -n 5)"
else
    ok "omemd serves /metrics on 127.0.0.1:$METRICS_PORT"
    code=$(metrics_get GET metrics.txt /metrics)
    check "GET /metrics answers 200 (got $code)" test "$code" = 200
    check "the document has omem_host_budget_bytes 2 GiB" \
        grep -qx "omem_host_budget_bytes $((2048 * MIB))" "$WORK/metrics.txt"
    if command -v promtool >/dev/null; then
        check "promtool check metrics accepts it" sh -c "promtool check metrics <'$WORK/metrics.txt'"
    else
        skip "promtool check metrics accepts it" "promtool is not installed"
    fi
    code=$(metrics_get GET other.txt /other)
    check "GET /other answers 404 (got $code)" test "$code" = 404
    code=$(metrics_get POST post.txt /metrics)
    check "POST /metrics answers 405 (got $code)" test "$code" = 405
    # A client that connects and says nothing holds a connection, not omemd.
    exec 7<>"/dev/tcp/127.0.0.1/$METRICS_PORT"
    start=$(omem_now)
    code=$(metrics_get GET again.txt /metrics)
    check "a stalled client does not delay the next scrape (got $code in $(omem_elapsed "$start")s)" \
        test "$code" = 200
    exec 7>&-
fi

# ---- sockets
mode=$(stat -c '%a %G' "$OMEMD_RUN_DIR/status.sock")
if getent group omem >/dev/null; then
    check "status.sock is 0660 group omem ($mode)" test "$mode" = "660 omem"
else
    check "status.sock is 0600 without an omem group ($mode)" test "${mode%% *}" = 600
fi
mode=$(stat -c '%a %U' "$OMEMD_RUN_DIR/admission.sock")
check "admission.sock is 0600 root ($mode)" test "$mode" = "600 root"

# ---- admission
uuid_big=6f6d656d-0000-4000-8000-$(printf '%012d' $$)
uuid_fit=6f6d656d-0001-4000-8000-$(printf '%012d' $$)
uuid_more=6f6d656d-0002-4000-8000-$(printf '%012d' $$)
uuid_block=6f6d656d-0003-4000-8000-$(printf '%012d' $$)
OMEMD_DOMAINS_SAVED=$OMEMD_DOMAINS
# The admission answers only for domains this omemd manages: name them so.
big=omemtest-daemon-none-$$-big
fit=omemtest-daemon-none-$$-fit
more=omemtest-daemon-none-$$-more
block=omemtest-daemon-none-$$-block
status=0
omem_domain "$big" "$uuid_big" 3G | hook "$big" prepare begin - || status=$?
hook_result 1 "refused: .*needs 3200 MiB.*free of the 2048 MiB budget" \
    "a domain whose min (3 GiB) does not fit is refused with the numbers"
status=0
omem_domain "$fit" "$uuid_fit" 1G | hook "$fit" prepare begin - || status=$?
check "a domain whose min (1 GiB) fits is admitted (exit $status)" test "$status" = 0
reserved=$(omem_host_status reserved_bytes)
check "its min + overhead is reserved ($((reserved / MIB)) MiB)" test "$reserved" = $((1152 * MIB))
status=0
omem_domain "$more" "$uuid_more" 1G | hook "$more" prepare begin - || status=$?
hook_result 1 "1152 MiB reserved for starting ones" \
    "a second one no longer fits beside the reservation: refused"
# min rounds up to the device's block: 640 MiB over a 512 MiB boot is one
# 512 MiB block, so 1152 MiB with the overhead, which the 896 MiB left
# cannot hold (with 2 MiB blocks, 768 MiB would fit).
status=0
omem_domain "$block" "$uuid_block" 640M | sed 's|<block unit="KiB">2048</block>|<block unit="KiB">524288</block>|' |
    hook "$block" prepare begin - || status=$?
hook_result 1 "needs 1152 MiB (min 640 MiB" \
    "min rounds up to the device's 512 MiB block: needs 1152 MiB, refused"
# A restart between a VM's admission and its start keeps the
# reservation: omemd saves it in its run directory and reads it back
# before anything else is admitted.
omemd_kill9
if omemd_start --config "$WORK/omemd.conf"; then
    reserved=$(omem_host_status reserved_bytes)
    check "after omemd is killed and restarted the reservation still holds ($((reserved / MIB)) MiB)" \
        test "$reserved" = $((1152 * MIB))
    status=0
    omem_domain "$more" "$uuid_more" 1G | hook "$more" prepare begin - || status=$?
    hook_result 1 "1152 MiB reserved for starting ones" \
        "... and the second domain is still refused beside it"
    restored() { omemd_log | grep -q "admission: 1 reservation(s) of VMs not started yet restored"; }
    check "the new omemd says it restored the reservation" restored
else
    not_ok "omemd restarts after SIGKILL" "$(omemd_log | tail -n 5)"
fi
status=0
printf '<domain type="qemu"><name>plain</name><memory unit="MiB">512</memory></domain>' |
    hook plain prepare begin - || status=$?
check "a domain without an omem contract passes (exit $status)" test "$status" = 0
status=0
hook "$big" started begin - </dev/null || status=$?
check "other hook operations pass without asking (exit $status)" test "$status" = 0
admission_logged() {
    omemd_log | grep -q "admission: $big .*refused"
}
if admission_logged; then
    ok "omemd logs each admission decision"
else
    not_ok "omemd logs each admission decision" "$(omemd_log | tail -n 5)"
fi

# ---- reload
budget_before=$(omem_host_status budget_bytes)
printf '[host]\nbudget = 3G\n[policy]\n# a comment\nno_such_key = 1\n' >"$WORK/omemd.conf"
mark=$(omemd_log_mark)
kill -HUP "$OMEMD_PID"
if line=$(omemd_wait_log "reload failed" 10 "$mark"); then
    case $line in
        *"omemd.conf:5: unknown key no_such_key"*) ok "SIGHUP with an unknown key fails with FILE:LINE" ;;
        *) not_ok "SIGHUP with an unknown key fails with FILE:LINE" "$line" ;;
    esac
else
    not_ok "SIGHUP with an unknown key fails with FILE:LINE" "$(omemd_log_since "$mark")"
fi
check "the running budget stays" test "$(omem_host_status budget_bytes)" = "$budget_before"
printf '[host]\nbudget = 3G\n[trust]\nstrikes = 5\n[metrics]\nlisten = 127.0.0.1:1\n' >"$WORK/omemd.conf"
mark=$(omemd_log_mark)
kill -HUP "$OMEMD_PID"
check "a good file is reloaded (omemd logs 'config reloaded')" omemd_wait_log "config reloaded" 10 "$mark"
check "a good file applies the new budget at once" \
    test "$(omem_host_status budget_bytes)" = $((3072 * MIB))
check "a restart-only key is reported as such" \
    grep -q "listen changed .* takes effect when omemd restarts" <(omemd_log_since "$mark")
# Host pressure: with host_low above what this host has, the host is short
# and the pool is empty (tick: within ~1 s of the reload).
printf '[host]\nbudget = 3G\nhost_low = 1T\n' >"$WORK/omemd.conf"
kill -HUP "$OMEMD_PID"
host_short() { [ "$(omem_host_status short)" = True ] && [ "$(omem_host_status pool_bytes)" = 0 ]; }
check "host_low above MemAvailable: the host is short, the pool empty" poll_until 5 host_short
printf '[host]\nbudget = 3G\n' >"$WORK/omemd.conf"
kill -HUP "$OMEMD_PID"
host_fine() { [ "$(omem_host_status short)" = False ] && [ "$(omem_host_status pool_bytes)" -gt 0 ]; }
check "back to the default host_low: not short, the pool back" poll_until 5 host_fine
check "omemd still runs" kill -0 "$OMEMD_PID"

# ---- omemd gone
OMEMD_DOMAINS=$OMEMD_DOMAINS_SAVED
omemd_stop >/dev/null
status=0
omem_domain "$big" "$uuid_big" 3G | hook "$big" prepare begin - || status=$?
hook_result 0 "not reachable" "omemd gone: the hook admits with a warning"
fail_open=$OMEMD_RUN_DIR/admission-fail-open
fail_open_lines() { [ -f "$fail_open" ] && wc -l <"$fail_open" || echo none; }
check "... and appends one line to admission-fail-open ($(fail_open_lines))" \
    test "$(fail_open_lines)" = 1
mode=$(stat -c '%a %U' "$fail_open" 2>&1)
check "admission-fail-open is 0600 root ($mode)" test "$mode" = "600 root"
status=0
omem_domain "$big" "$uuid_big" 3G | "$HOOK" --fail-closed --socket "$OMEMD_RUN_DIR/admission.sock" \
    "$big" prepare begin - 2>/dev/null || status=$?
check "omemd gone, --fail-closed: refused (exit $status)" test "$status" = 1
check "... and not counted as a fail-open ($(fail_open_lines))" test "$(fail_open_lines)" = 1

# ---- dry run
printf '[host]\nbudget = 3G\n[metrics]\nlisten = 127.0.0.1:0\n' >"$WORK/omemd.conf"
# omemd_start runs here, not in check's subshell: omemd stays this shell's helper.
if omemd_start --config "$WORK/omemd.conf" --dry-run; then
    ok "omemd --dry-run starts"
else
    not_ok "omemd --dry-run starts" "$(omemd_log | tail -n 5)"
fi
dry_run_said() {
    omemd_log | grep -q "ready: .*dry run: nothing is resized or attached"
}
check "--dry-run says so when ready" dry_run_said
# The fail-open made while omemd was down is in its metrics after the restart.
METRICS_PORT=$(omemd_log | sed -n 's/.*metrics: GET \/metrics on .* (port \([0-9]*\)).*/\1/p' | tail -n 1)
code=$(metrics_get GET restarted.txt /metrics)
check "after the restart: omem_admission_fail_open_total 1 (got $code, $(grep '^omem_admission_fail_open_total' "$WORK/restarted.txt"))" \
    grep -qx "omem_admission_fail_open_total 1" "$WORK/restarted.txt"

done_testing
