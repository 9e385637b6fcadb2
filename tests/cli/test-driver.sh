#!/bin/bash
# setmem-outsourced, freeze/thaw/drain/undrain, dommemstat, list and top
# against libvirt's test driver (tests/cli/node.xml: web1 runs with boot
# 512, min 1024, cap 1536, max 2048 MiB and never plugs; db1 is shut off;
# plain is no omem domain), and dommemstat/list merging omemd's status
# from a fixture socket.
. "$(dirname "$0")/lib.sh"

# ---------------------------------------------------------------- setmem

vo_capture setmem-outsourced web1 1800M
expect_out "^Domain 'web1' live contract: cap 1800 MiB \\(min 1024 MiB, max 2048 MiB, shares 500\\)$" \
    "setmem-outsourced on a running domain changes the live contract (--current)"
vo_capture setmem-outsourced web1 1800M --live
expect_out "^Domain 'web1' live contract: cap 1800 MiB" "--live"
vo_capture setmem-outsourced web1 1800M --config
expect_out "^Domain 'web1' persistent contract: cap 1800 MiB" "--config"
vo_capture setmem-outsourced web1 1800M --live --config
expect_out "^Domain 'web1' live and persistent contract: cap 1800 MiB" "--live --config"
vo_capture setmem-outsourced 6695eb01-f6a4-8304-79aa-97f2502e193f 1G
expect_out "^Domain 'web1' live contract: cap 1024 MiB" "the domain may be given by UUID"
vo_capture setmem-outsourced web1 1200M --min 600M --shares 42
expect_out "cap 1200 MiB \\(min 600 MiB, max 2048 MiB, shares 42\\)" "--min and --shares change the contract"
vo_capture setmem-outsourced web1 1638399
expect_rc 0 "a SIZE off the block is accepted"
expect_err "^virt-omem: note: rounded the cap 1638399 KiB down to 1598 MiB: the virtio-mem block is 2 MiB" \
    "... rounded down with a note on stderr"
vo_capture setmem-outsourced web1 1200M --min 1023M
expect_err "rounded min 1023 MiB up to 1024 MiB" "min is rounded up with a note"
vo_capture setmem-outsourced db1 2G
expect_out "^Domain 'db1' persistent contract: cap 2048 MiB" \
    "on a domain that is shut off, --current changes the definition"

vo_capture setmem-outsourced web1 3G
expect_error 2 "a cap beyond max is refused with the numbers" \
    "cap 3072 MiB is beyond the max of 'web1' .*max 2048 MiB.*at most 2048 MiB"
vo_capture setmem-outsourced web1 900M
expect_error 2 "a cap below min is refused with the numbers" \
    "cap 900 MiB is below the min of 'web1' .*min 1024 MiB"
vo_capture setmem-outsourced web1 1G --min 256M
expect_error 2 "a min below boot is refused" "min 256 MiB is below the boot RAM of 'web1' \\(512 MiB\\)"
vo_capture setmem-outsourced web1 1G --min 1500M
expect_error 2 "a min above the cap is refused" "cap 1024 MiB is below the min"
vo_capture setmem-outsourced db1 2G --live
expect_error 2 "--live on a domain that is shut off" "'db1' is not running"
vo_capture setmem-outsourced db1 2G --wait
expect_error 2 "--wait on a domain that is shut off" "not running"

# --wait: web1 has 512 MiB (nothing plugged, ever) and its min is 1024.
start=$(date +%s%N)
vo_capture setmem-outsourced web1 1536M --wait --timeout 1.5
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
expect_rc 3 "--wait times out with exit 3 when the guest never reaches min"
expect_err "^virt-omem: error: timed out after 1.5 s waiting for 'web1': it has 512 MiB \\(boot 512 MiB \\+ plugged 0 MiB, requested 512 MiB\\), the target is 1024 MiB..1536 MiB" \
    "... and prints achieved vs. target"
expect_err "^virt-omem: waiting for 'web1': 512 MiB" "... after progress on stderr"
if [ "$elapsed_ms" -ge 1400 ] && [ "$elapsed_ms" -lt 6000 ]; then
    ok "... after about the timeout (${elapsed_ms} ms)"
else
    not_ok "... after about the timeout" "took ${elapsed_ms} ms"
fi
expect_that "... with one error line" test "$(grep -c '^virt-omem: error:' <<<"$ERR")" = 1
vo_capture setmem-outsourced web1 1G --min 512M --wait --timeout 5
expect_rc 0 "--wait returns 0 at once when the guest is within the new contract"
expect_err "'web1' has 512 MiB, within 512 MiB..1024 MiB" "... and says so"

# ----------------------------------------- freeze, thaw, drain, undrain

# Every run reads node.xml afresh, so a round trip is shown within one run
# (the second DOMAIN sees what the first wrote) and against MAINT, a copy
# of node.xml in which web1 is frozen, db1 (shut off) and app2 (running)
# drain, and broken (running) has a contract of an unknown version.
MAINT=test://$SCRATCH/maint.xml
sed -e "s|<omem:buffer percent='20'/>|&<omem:frozen/>|" \
    -e "s|<omem:contract xmlns:omem='urn:omem:contract:1' version='1'/>|<omem:contract xmlns:omem='urn:omem:contract:1' version='1'><omem:drain/></omem:contract>|" \
    -e '/^<\/node>$/d' "$CLI_DIR/node.xml" >"$SCRATCH/maint.xml"
maint_domain() { # NAME VERSION EXTRA-CONTRACT-ELEMENT
    cat <<EOF
<domain type='test'>
  <name>$1</name>
  <metadata><omem:contract xmlns:omem='urn:omem:contract:1' version='$2'>
    <omem:min unit='MiB'>768</omem:min>$3</omem:contract></metadata>
  <maxMemory slots='2' unit='MiB'>2048</maxMemory>
  <memory unit='MiB'>2048</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <cpu><numa><cell id='0' cpus='0' memory='512' unit='MiB'/></numa></cpu>
  <devices>
    <memory model='virtio-mem'>
      <target><size unit='MiB'>1536</size><node>0</node><block unit='MiB'>2</block>
      <requested unit='MiB'>256</requested></target>
    </memory>
  </devices>
</domain>
EOF
}
{ maint_domain app2 1 '<omem:drain/>'; maint_domain broken 2 ''; echo '</node>'; } >>"$SCRATCH/maint.xml"

vo_capture freeze web1 web1
expect_rc 0 "freeze web1 web1"
expect_that "... freezes it, then finds it frozen (the write reads back)" \
    test "$OUT" = $'web1: frozen\nweb1: already frozen' -a -z "$ERR"
vo_capture thaw web1
expect_out "^web1: not frozen$" "thaw of a domain that is not frozen says so"
vo_capture drain web1 web1
expect_that "drain web1 web1 drains it to min, then finds it draining" \
    test "$RC" = 0 -a "$OUT" = $'web1: draining to min 1024 MiB\nweb1: already draining to min 1024 MiB'
vo_capture undrain web1
expect_out "^web1: not draining$" "undrain of a domain that is not draining says so"
vo_capture freeze 6695eb01-f6a4-8304-79aa-97f2502e193f
expect_out "^web1: frozen$" "freeze takes a UUID and prints the name"
vo_capture drain db1
expect_out "^db1: draining to min 1024 MiB \\(persistent definition\\)$" \
    "drain of a shut off domain changes its definition (--current)"
vo_capture freeze web1 --live --config
expect_out "^web1: frozen \\(live and persistent\\)$" "freeze --live --config"
vo_capture thaw web1 --config
expect_out "^web1: not frozen \\(persistent definition\\)$" "thaw --config"
vo_capture freeze db1 --live
expect_error 2 "freeze --live of a domain that is shut off" "'db1' is not running"
vo_capture drain db1 --wait
expect_error 2 "drain --wait of a domain that is shut off" "--wait watches the running guest, but 'db1'"
vo_capture freeze plain
expect_error 2 "freeze of a domain that is not an omem domain" "domain 'plain': .*no omem contract"
vo_capture freeze no-such web1
expect_rc 1 "freeze of an unknown and a good domain: 1 (one changed, one failed)"
expect_out "^web1: frozen$" "... the good one is frozen"
expect_err "^virt-omem: error: domain 'no-such' not found" "... the unknown one reported"

vo_capture freeze --all
expect_that "freeze --all: the running omem domain only (db1 is shut off, plain is no omem domain)" \
    test "$RC" = 0 -a "$OUT" = "web1: frozen" -a -z "$ERR"
vo_capture drain --all --live --config --wait --timeout 5
expect_rc 0 "drain --all --live --config --wait: waits for the running ones only"
expect_out "^db1: draining to min 1024 MiB \\(persistent definition\\)$" \
    "... and drains the shut-off db1's definition, so it starts drained"
vo_capture drain --all --wait --timeout 5
expect_rc 0 "drain --all --wait"
expect_out "^web1: draining to min 1024 MiB$" "... drains web1"
expect_err "^virt-omem: 'web1' has 512 MiB, at or below its min 1024 MiB \\([0-9.]+ s\\)$" \
    "... and returns at once: the guest is at or below its min"

vo_capture -c "$MAINT" dommemstat web1
expect_out "^frozen: +yes$" "dommemstat shows frozen: yes"
expect_out "^drain: +no$" "... and drain: no"
vo_capture -c "$MAINT" dommemstat app2
expect_out "^drain: +yes$" "dommemstat shows drain: yes"
vo_capture -c "$MAINT" list
expect_out "^ web1 +running, frozen +512 " "list shows a frozen domain's state"
expect_out "^ app2 +running, draining +512 " "list shows a draining domain's state"
expect_out "^ db1 +shut off, draining +1024 " "... also of a definition"
vo_capture -c "$MAINT" thaw web1 web1
expect_that "thaw web1 web1 thaws a frozen domain" test "$RC" = 0 -a "$OUT" = $'web1: thawed\nweb1: not frozen'
vo_capture -c "$MAINT" undrain app2 app2
expect_that "undrain app2 app2 ends a drain" test "$RC" = 0 -a "$OUT" = $'app2: undrained\napp2: not draining'
vo_capture -c "$MAINT" drain db1
expect_out "^db1: already draining to min 1024 MiB \\(persistent definition\\)$" "drain of a draining definition"
vo_capture -c "$MAINT" undrain db1 --config
expect_out "^db1: undrained \\(persistent definition\\)$" "undrain --config"
vo_capture -c "$MAINT" freeze app2
expect_error 2 "freeze of a draining domain is refused" \
    "'app2' is draining to its min \\(live contract\\).*undrain it first with 'virt-omem undrain app2', then freeze it"
vo_capture -c "$MAINT" drain web1
expect_error 2 "drain of a frozen domain is refused" \
    "'web1' is frozen \\(live contract\\).*thaw it first with 'virt-omem thaw web1', then drain it"

vo_capture -c "$MAINT" thaw --all
expect_rc 1 "thaw --all with an unreadable contract fails"
expect_that "... after thawing the others, sorted by name" test "$OUT" = $'app2: not frozen\nweb1: thawed'
one_unreadable_line() {
    [ "$(grep -c . <<<"$ERR")" = 1 ] && grep -q "^virt-omem: error: domain 'broken': .*version is '2'" <<<"$ERR"
}
expect_that "... and reports the unreadable one in one line" one_unreadable_line
vo_capture -c "$MAINT" undrain --all --live
expect_out "^app2: undrained$" "undrain --all --live"
expect_out "^web1: not draining$" "... every running omem domain"
expect_that "... none other" not grep -q -e plain -e db1 <<<"$OUT"
vo_capture -c "$MAINT" undrain --all --config
expect_rc 1 "undrain --all --config with an unreadable contract fails"
expect_that "... after reaching every definition, the shut-off db1's too" \
    test "$OUT" = $'app2: undrained (persistent definition)\ndb1: undrained (persistent definition)\nweb1: not draining (persistent definition)'
vo_capture -c "$MAINT" drain --all --live --config
expect_out "^db1: already draining to min 1024 MiB \\(persistent definition\\)$" \
    "drain --all --live --config: a shut-off domain's definition alone"
expect_out "^app2: already draining to min 768 MiB \\(live and persistent\\)$" "... a running one's both sides"
vo_capture -c "$MAINT" freeze --all
expect_rc 1 "freeze --all with a draining domain among them fails"
expect_out "^web1: already frozen$" "... still does the others"
expect_err "'app2' is draining" "... and says why app2 is refused"

# ------------------------------------------------------------ dommemstat

vo_capture dommemstat web1
expect_rc 0 "dommemstat of a running omem domain"
for line in "boot: +512 MiB" "min: +1024 MiB" "cap: +1536 MiB" "max: +2048 MiB" \
            "shares: +500" "buffer: +20%" "frozen: +no" "drain: +no" "requested: +512 MiB" \
            "plugged: +0 MiB" "total: +512 MiB"; do
    expect_out "^$line$" "dommemstat shows ${line%%:*}"
done
expect_out "^demand: +unknown \\(omemd's status is read only on a local qemu:///system connection\\)$" \
    "demand is unknown on a test:/// connection"
vo_capture dommemstat db1
expect_out "^plugged: +- \\(not running\\)$" "dommemstat of a shut off domain shows no plugged size"
expect_out "^cap: +4096 MiB$" "... and its definition's contract"

# ------------------------------------------------------------ list and top

vo_capture list
expect_rc 0 "list"
expect_out "^ Name +State +Boot +Plugged +Requested +Cap +Min +Max +Demand$" "list prints a header"
expect_out "^ db1 +shut off +1024 +- +- +4096 +1024 +4096 +\\?$" "list shows the shut off omem domain"
expect_out "^ web1 +running +512 +0 +512 +1536 +1024 +2048 +\\?$" "list shows the running omem domain"
expect_that "list leaves out ordinary domains" not grep -q plain <<<"$OUT"

vo_capture top --iterations 2 --interval 0.1
expect_rc 0 "top --iterations 2"
expect_that "top printed the table twice" test "$(grep -c '^ web1 ' <<<"$OUT")" = 2
expect_that "top does not clear the screen when stdout is not a terminal" not grep -q $'\033' <<<"$OUT"

# --------------------------------------------- omemd's status (fixture)

# A one-connection-at-a-time server writing FILE (or garbage) until killed.
SOCKET=$SCRATCH/status.sock
serve() {
    /usr/bin/python3 - "$SOCKET" "$1" <<'PY' &
import os, socket, sys
path, payload = sys.argv[1], open(sys.argv[2], "rb").read()
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(4)
open(path + ".ready", "w").close()
while True:
    connection, _ = server.accept()
    try:
        connection.sendall(payload)
    except OSError:
        pass
    connection.close()
PY
    SERVER=$!
    for _ in $(seq 100); do [ -e "$SOCKET.ready" ] && return 0; sleep 0.05; done
    return 1
}
stop_serving() {
    kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null
    rm -f "$SOCKET" "$SOCKET.ready"
}

if [ -x /usr/bin/python3 ] && serve "$CLI_DIR/status.json"; then
    export OMEM_STATUS_SOCKET=$SOCKET
    vo_capture dommemstat web1
    expect_out "^demand: +700 MiB$" "dommemstat shows omemd's demand"
    expect_out "^guest available: +384 MiB$" "... the guest's available memory"
    expect_out "^session: +open$" "... the session"
    expect_out "^last decision: +grant to 512 MiB at .*: demand 700 MiB \\+ 10% buffer above boot$" \
        "... and the last decision"
    expect_out "^cap: +1536 MiB$" "libvirt stays the source of the contract"
    vo_capture list
    expect_out "^ web1 +running +512 +0 +512 +1536 +1024 +2048 +700$" "list shows demand from omemd"
    expect_out "^ db1 .* \\?$" "... and ? for a VM omemd does not report"
    stop_serving

    printf '{"version": 1, "vms": [' >"$SCRATCH/broken.json"
    serve "$SCRATCH/broken.json"
    vo_capture dommemstat web1
    expect_rc 0 "a broken status falls back to libvirt's figures"
    expect_out "^demand: +unknown \\(omemd's status unreadable\\)$" "... demand unknown"
    if [ "$(grep -c . <<<"$ERR")" = 1 ] && grep -q "^virt-omem: warning: cannot read omemd's status from $SOCKET: the status is not JSON" <<<"$ERR"; then
        ok "... with one warning line"
    else
        not_ok "... with one warning line"; show
    fi
    stop_serving
    unset OMEM_STATUS_SOCKET
else
    not_ok "the fixture status server starts" "no /usr/bin/python3 or it failed"
fi
OMEM_STATUS_SOCKET=$SCRATCH/nobody.sock vo_capture dommemstat web1
expect_out "^demand: +unknown \\(omemd not running\\)$" "no socket: demand unknown (omemd not running)"
expect_that "... without a warning" test -z "$ERR"

done_testing
