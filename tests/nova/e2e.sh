#!/bin/bash
# tests/nova/e2e.sh — the nova shim end to end: the domain XML that
# OmemLibvirtDriver wrote for a tiny omem flavor boots as a real TCG guest
# under this host's libvirtd, omemd serves it, and memload inside it gets
# memory.
#
#   1. nova's functional stack (tests/nova/driver_xml.py: nova-api,
#      scheduler, conductor, a compute with OmemLibvirtDriver on
#      fakelibvirt) boots a server of a 1 GiB flavor with omem:min_mb=256
#      and omem:cap_mb=896 from a direct-kernel-boot omem_guest image; the
#      XML the driver handed libvirt is kept.
#   2. tests/nova/host_local.py swaps what names the fake nova host (the
#      domain name, kernel, initrd, the disk dropped, the serial console
#      made the harness's unix socket) and checks every part the transform
#      wrote is the driver's, byte for byte.
#   3. libvirtd defines and starts it; the guest (the harness's busybox
#      initramfs, omem_client.ko loaded) boots on its 256 MiB; libvirt
#      holds the driver's NUMA cell, virtio-mem device, memfd backing and
#      contract.
#   4. omemd (--domains this guest only) attaches its transport, a session
#      opens, omemd reads the flavor's contract; memload takes 512 MiB in
#      64 MiB steps: the guest grows past its boot RAM, no OOM kill, boot
#      + plugged stays within the cap.
# Skips when python3-nova, python3-placement or nova-common, the guest
# kernel, omemd, omem_client.ko or memload are missing, or without root
# and libvirtd.  ~1 minute under TCG.  TAP on stdout.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
# shellcheck source=../lib/omem.sh
. "$top_srcdir/tests/lib/omem.sh"
# shellcheck source=lib.sh
. "$top_srcdir/tests/nova/lib.sh"

# The flavor driver_xml.py makes; the boot RAM is convert's default for
# that max and min (docs/transform.md, "Defaults": down to min).
MAX_MIB=1024
MIN_MIB=256
CAP_MIB=896
BOOT_MIB=256
MIB=1048576
LOAD_MIB=512
BOOT_TIMEOUT=120
ATTACH_TIMEOUT=60
GROW_TIMEOUT=180
# memload holds 512 MiB on a guest that boots with 256 MiB (of which the
# kernel keeps ~140 MiB free): the device must have plugged at least this.
GROW_MIN_PLUGGED_MIB=384
# omemd's budget: the guest's max plus QEMU's overhead (omemd's default
# 128 MiB), so only the contract limits.
BUDGET=$((MAX_MIB + 128))M
CLIENT_MODULE=$top_builddir/guest-client/omem_client.ko
MEMLOAD=$top_builddir/tests/guest/memload

guest_require_host
nova_require placement api-paste
ls /boot/vmlinuz-6.1.*-amd64 >/dev/null 2>&1 ||
    skip_all "no Debian 6.1 guest kernel in /boot (linux-image-amd64, ci/install-deps)"
omemd_built || skip_all "host-server/omemd is not built"
[ -r "$CLIENT_MODULE" ] || skip_all "$CLIENT_MODULE is not built (configure found no kernel build tree)"
[ -x "$MEMLOAD" ] || skip_all "$MEMLOAD is not built"
nova_setup
script_start=$(omem_now)
NAME=${OMEM_DOMAIN_PREFIX}nova-$$
mkdir -p "$OMEM_TEST_LOGDIR"

# ---------------------------------------------------------------- 1. nova

DRIVER_XML=$NOVA_SCRATCH/driver.xml
start=$(omem_now)
if (cd "$NOVA_TEST_DIR" && /usr/bin/python3 -W ignore driver_xml.py "$DRIVER_XML") \
    2>"$OMEM_TEST_LOGDIR/$NAME.nova.err" && [ -s "$DRIVER_XML" ]; then
    ok "nova boots the 1 GiB omem:min_mb=256 server on fakelibvirt; OmemLibvirtDriver's XML is virt-omem convert's ($(omem_elapsed "$start")s)"
else
    not_ok "nova boots the omem server on fakelibvirt and OmemLibvirtDriver writes its XML" \
        "$(tail -n 20 "$OMEM_TEST_LOGDIR/$NAME.nova.err")"
    bail_out "no domain XML from the driver, nothing else to test"
fi

# ---------------------------------------------------------------- 2. the edit

# nova_domain_xml NAME: the driver's XML with only its host-local parts
# made this host's (tests/nova/host_local.py says which and why).
nova_domain_xml() {
    /usr/bin/python3 "$NOVA_TEST_DIR/host_local.py" edit "$DRIVER_XML" "$1" \
        "$OMEM_TEST_DIR/img/vmlinuz" "$OMEM_TEST_DIR/img/initrd.gz" \
        "$(guest_rundir "$1")/console.sock"
}

# The shared boot files, as for guest_start's own domains.
guest_prepare || bail_out "building the guest image failed"

# ---------------------------------------------------------------- 3. boot

start=$(omem_now)
if guest_launch "$NAME" nova_domain_xml 2>"$NOVA_SCRATCH/launch.err"; then
    ok "libvirtd defines and starts the driver's domain as $NAME"
    GUEST=$NAME
else
    not_ok "libvirtd defines and starts the driver's domain" "$(cat "$NOVA_SCRATCH/launch.err")"
    bail_out "the driver's domain does not start, nothing else to test"
fi
EDITED_XML=$(guest_rundir "$GUEST")/domain.xml
if output=$(/usr/bin/python3 "$NOVA_TEST_DIR/host_local.py" compare "$DRIVER_XML" "$EDITED_XML"); then
    ok "what omem wrote (sizes, NUMA cell, virtio-mem, memfd backing, PCI slot, balloon, cmdline, contract) is the driver's byte for byte; only name, kernel, initrd, disk, serial were edited"
else
    not_ok "what omem wrote is the driver's byte for byte" "$output"
fi
if command -v virt-xml-validate >/dev/null 2>&1; then
    check "the edited XML validates with virt-xml-validate" virt-xml-validate "$EDITED_XML" domain
else
    skip "the edited XML validates" "no virt-xml-validate (libvirt-clients)"
fi
guest_boot_ok "the guest boots with omem_client.ko" "$start" "$BOOT_TIMEOUT" client "$GUEST"

# live_value XPATH: a string value of the running domain's XML (virsh's
# own --xpath prints nodes, not values).
LIVE_XML=$NOVA_SCRATCH/live.xml
omem_virsh dumpxml "$GUEST" >"$LIVE_XML" 2>&1
live_value() {
    /usr/bin/python3 "$NOVA_TEST_DIR/host_local.py" value "$LIVE_XML" "$1" 2>&1
}

check "libvirt runs the driver's NUMA cell of $BOOT_MIB MiB" \
    test "$(live_value '/domain/cpu/numa/cell/@memory')" = $((BOOT_MIB * 1024))
check "... its virtio-mem device of $((MAX_MIB - BOOT_MIB)) MiB" \
    test "$(live_value "/domain/devices/memory[@model='virtio-mem']/target/size")" = $(((MAX_MIB - BOOT_MIB) * 1024))
check "... its memfd shared backing" \
    test "$(live_value 'concat(/domain/memoryBacking/source/@type, "/", /domain/memoryBacking/access/@mode)')" = memfd/shared
omem_virsh metadata "$GUEST" urn:omem:contract:1 >"$NOVA_SCRATCH/live-contract.xml" 2>&1
want=$(/usr/bin/python3 "$NOVA_TEST_DIR/host_local.py" contract "$DRIVER_XML" 2>&1)
got=$(/usr/bin/python3 "$NOVA_TEST_DIR/host_local.py" contract "$NOVA_SCRATCH/live-contract.xml" 2>&1)
if [ -n "$want" ] && [ "$want" = "$got" ]; then
    ok "... and the driver's contract (virsh metadata, canonical form without namespace)"
else
    not_ok "... and the driver's contract" "driver: $want" "libvirt: $got"
fi
total=$(omem_guest_meminfo_mib "$GUEST" MemTotal)
check "the guest starts on its boot RAM (MemTotal ${total:-?} MiB <= $BOOT_MIB)" \
    test "${total:-99999}" -le "$BOOT_MIB"

# ---------------------------------------------------------------- 4. omemd

scenario_served() {
    local mark
    mark=$(omemd_log_mark)
    if ! omemd_start --budget "$BUDGET" --domains "$GUEST"; then
        not_ok "omemd starts" "$(omemd_log | tail -n 5)"
        bail_out "no omemd, nothing else to test"
    fi
    ok "omemd starts (budget $BUDGET, --domains $GUEST)"
    omem_check_served "$GUEST" "$ATTACH_TIMEOUT" "$mark"
    local field value want
    for field in boot:$BOOT_MIB min:$MIN_MIB cap:$CAP_MIB max:$MAX_MIB; do
        want=$((${field#*:} * MIB))
        value=$(omem_status_get "$GUEST" "contract.${field%%:*}_bytes" 2>&1)
        check "omemd reads the flavor's contract: ${field%%:*} ${field#*:} MiB" test "$value" = "$want"
    done
}

scenario_memload() {
    local oom_before oom_after plugged total start
    oom_before=$(omem_guest_oom_kills "$GUEST")
    start=$(omem_now)
    memload_spawn "$GUEST" load "--size ${LOAD_MIB}M --step 64M --interval 200ms --hold forever --release-file /tmp/load.release"
    if poll_until "$GROW_TIMEOUT" memload_holding "$GUEST" load; then
        ok "memload takes $LOAD_MIB MiB in 64 MiB steps on the $BOOT_MIB MiB guest ($(omem_elapsed "$start")s)"
    else
        not_ok "memload takes $LOAD_MIB MiB in 64 MiB steps on the $BOOT_MIB MiB guest" \
            "status $(guest_job_status "$GUEST" load) after ${GROW_TIMEOUT}s:" \
            "$(memload_tail "$GUEST" load)" "$(omemd_log | tail -n 10)"
    fi
    oom_after=$(omem_guest_oom_kills "$GUEST")
    check "no OOM kill in the guest (oom_kill $oom_before -> $oom_after)" \
        test "${oom_before:-x}" = "${oom_after:-y}"
    total=$(omem_guest_meminfo_mib "$GUEST" MemTotal)
    check "the guest grew: MemTotal ${total:-?} MiB > $LOAD_MIB MiB" test "${total:-0}" -gt "$LOAD_MIB"
    # libvirt's <current> lags the guest by up to a second.
    poll_until 5 omem_plugged_at_least "$GUEST" "$GROW_MIN_PLUGGED_MIB"
    plugged=$(omem_plugged_mib "$GUEST")
    check "virtio-mem plugged >= $GROW_MIN_PLUGGED_MIB MiB (${plugged:-?} MiB)" \
        test "${plugged:-0}" -ge "$GROW_MIN_PLUGGED_MIB"
    check "boot + plugged stays within the flavor's cap ($BOOT_MIB + ${plugged:-?} <= $CAP_MIB MiB)" \
        test $((BOOT_MIB + ${plugged:-99999})) -le "$CAP_MIB"
    guest_run "$GUEST" "touch /tmp/load.release" 30 >/dev/null
    poll_until 60 guest_job_ended "$GUEST" load
    check "memload frees its $LOAD_MIB MiB and exits 0" test "$(guest_job_status "$GUEST" load)" = 0
}

guest_scenario --keep "omemd serves the driver's domain" scenario_served
guest_scenario --keep "memload grows the guest" scenario_memload

diag "whole nova end-to-end scenario: $(omem_elapsed "$script_start")s"
done_testing
