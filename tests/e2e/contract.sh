#!/bin/bash
# tests/e2e/contract.sh — the omem contract on a real guest: the domain is
# built by `virt-omem convert` (tests/lib/guest.sh), validates with
# virt-xml-validate, is defined and started on the host's libvirtd; then
# `virt-omem setmem-outsourced --live` down and up changes the live
# contract (dommemstat and `virsh metadata` agree), each change raises
# libvirt's metadata-change event, the definition stays as it was, and
# the guest's plugged size does not move by itself (omemd, which will make
# it follow within 10 s, is not written yet).  One TCG guest, ~30 s.
. "$(dirname "$0")/../lib/guest.sh"

BOOT_TIMEOUT=120
EVENT_TIMEOUT=10
CONTRACT_NS=urn:omem:contract:1
MIB=1048576

# contract_cap NAME live|config: the cap in the contract element, in bytes
# (libomem-virt writes unit="bytes"), or nothing when the element has none.
contract_cap() {
    omem_virsh metadata "$1" "$CONTRACT_NS" "--$2" 2>/dev/null |
        sed -n 's|.*<cap[^>]*unit="bytes"[^>]*>\([0-9]*\)</cap>.*|\1|p'
}

# dommemstat_field NAME FIELD: one "FIELD: value" of virt-omem dommemstat.
dommemstat_field() {
    vo dommemstat "$1" 2>/dev/null | sed -n "s/^$2: *//p"
}

# watch_metadata LABEL: start `virsh event` for one metadata-change of
# GUEST as host helper LABEL (sets EVENT_PID).  virsh prints nothing once
# registered, so give it a moment to connect before the change.
watch_metadata() {
    host_spawn "$1" timeout $((EVENT_TIMEOUT + 5)) virsh -c "$OMEM_URI" event \
        --domain "$GUEST" --event metadata-change --timeout "$EVENT_TIMEOUT"
    EVENT_PID=$HOST_PID
    sleep 1
}

# set_cap SIZE MIB DESCRIPTION: setmem-outsourced --live, then check what
# libvirt holds and that the event came.
set_cap() {
    local size=$1 mib=$2 what=$3 output status=0 start label=event-$2
    watch_metadata "$label"
    start=$(omem_now)
    output=$(vo setmem-outsourced "$GUEST" "$size" --live 2>&1) || status=$?
    if [ "$status" = 0 ] && grep -q "live contract: cap $mib MiB" <<<"$output"; then
        ok "setmem-outsourced $size --live ($what) succeeds ($(omem_elapsed "$start")s)"
    else
        not_ok "setmem-outsourced $size --live ($what) succeeds" "exit $status: $output"
    fi
    check "dommemstat shows cap $mib MiB" test "$(dommemstat_field "$GUEST" cap)" = "$mib MiB"
    check "virsh metadata --live holds cap $((mib * MIB)) bytes" \
        test "$(contract_cap "$GUEST" live)" = $((mib * MIB))
    # virsh exits after the one event: poll its output, not its PID.
    if poll_until "$EVENT_TIMEOUT" grep -q "metadata-change.*$CONTRACT_NS" \
        "$(host_log_base "$label").out"; then
        ok "libvirt sends the metadata-change event for the contract ($(omem_elapsed "$start")s)"
    else
        not_ok "libvirt sends the metadata-change event for the contract" \
            "virsh event printed: $(cat "$(host_log_base "$label").out" "$(host_log_base "$label").err" 2>&1)"
    fi
    host_stop "$EVENT_PID"
}

scenario_contract_live() {
    local plugged_before plugged_after output status=0

    check "dommemstat shows the converted contract: boot 256 MiB" \
        test "$(dommemstat_field "$GUEST" boot)" = "256 MiB"
    check "... max 1024 MiB" test "$(dommemstat_field "$GUEST" max)" = "1024 MiB"
    check "... cap = max before any change" test "$(dommemstat_field "$GUEST" cap)" = "1024 MiB"
    plugged_before=$(guest_plugged_kib "$GUEST")

    set_cap 512M 512 "down"
    set_cap 1G 1024 "up"

    check "the definition's contract keeps no cap (only --live was asked)" \
        test -z "$(contract_cap "$GUEST" config)"
    sleep 2
    plugged_after=$(guest_plugged_kib "$GUEST")
    if [ -n "$plugged_before" ] && [ "$plugged_before" = "$plugged_after" ]; then
        ok "the plugged size does not change by itself ($plugged_after KiB; omemd not running)"
    else
        not_ok "the plugged size does not change by itself" \
            "before ${plugged_before:-?} KiB, after ${plugged_after:-?} KiB"
    fi

    output=$(vo setmem-outsourced "$GUEST" 2G --live 2>&1) || status=$?
    if [ "$status" = 2 ] && grep -q "beyond the max" <<<"$output"; then
        ok "a cap beyond max is refused on the real domain (exit 2)"
    else
        not_ok "a cap beyond max is refused on the real domain (exit 2)" "exit $status: $output"
    fi
    check "... and the live cap is still 1024 MiB" test "$(contract_cap "$GUEST" live)" = $((1024 * MIB))

    status=0
    output=$(vo setmem-outsourced "$GUEST" 512M --live --wait --timeout 5 2>&1) || status=$?
    if [ "$status" = 0 ] && grep -q "has 256 MiB, within 256 MiB..512 MiB" <<<"$output"; then
        ok "--wait returns 0 when the guest is already within the contract"
    else
        not_ok "--wait returns 0 when the guest is already within the contract" "exit $status: $output"
    fi
    status=0
    output=$(vo setmem-outsourced "$GUEST" 768M --min 512M --live --wait --timeout 1 2>&1) ||
        status=$?
    if [ "$status" = 3 ] && grep -q "^virt-omem: error: timed out after 1.0 s waiting for '$GUEST': it has 256 MiB" <<<"$output"; then
        ok "--wait times out with exit 3 when nothing grows the guest to its new min"
    else
        not_ok "--wait times out with exit 3 when nothing grows the guest to its new min" \
            "exit $status: $output"
    fi

    if vo list 2>/dev/null | grep -Eq "^ $GUEST +running +256 +"; then
        ok "list shows the guest"
    else
        not_ok "list shows the guest" "$(vo list 2>&1)"
    fi
}

guest_require_host
vo_require
script_start=$(omem_now)

guest_start contract --boot-mib 256 --vmem-mib 768 || bail_out "could not start the guest (see contract.log)"
xml=$(guest_rundir "$GUEST")/domain.xml
if command -v virt-xml-validate >/dev/null 2>&1; then
    check "the XML built by virt-omem convert validates with virt-xml-validate" \
        virt-xml-validate "$xml" domain
else
    skip "the XML built by virt-omem convert validates" "no virt-xml-validate (libvirt-clients)"
fi
guest_boot_ok "the converted guest boots" "$script_start" "$BOOT_TIMEOUT" any "$GUEST"

guest_scenario "live contract changes" scenario_contract_live

diag "whole contract scenario: $(omem_elapsed "$script_start")s"
done_testing
