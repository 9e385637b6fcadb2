#!/bin/bash
# setmem-outsourced, dommemstat, list and top against libvirt's test
# driver (tests/cli/node.xml: web1 runs with boot 512, min 1024, cap 1536,
# max 2048 MiB and never plugs; db1 is shut off; plain is no omem domain),
# and dommemstat/list merging omemd's status from a fixture socket.
. "$(dirname "$0")/lib.sh"

# ---------------------------------------------------------------- setmem

vo setmem-outsourced web1 1800M
expect_out "^Domain 'web1' live contract: cap 1800 MiB \\(min 1024 MiB, max 2048 MiB, shares 500\\)$" \
    "setmem-outsourced on a running domain changes the live contract (--current)"
vo setmem-outsourced web1 1800M --live
expect_out "^Domain 'web1' live contract: cap 1800 MiB" "--live"
vo setmem-outsourced web1 1800M --config
expect_out "^Domain 'web1' persistent contract: cap 1800 MiB" "--config"
vo setmem-outsourced web1 1800M --live --config
expect_out "^Domain 'web1' live and persistent contract: cap 1800 MiB" "--live --config"
vo setmem-outsourced 6695eb01-f6a4-8304-79aa-97f2502e193f 1G
expect_out "^Domain 'web1' live contract: cap 1024 MiB" "the domain may be given by UUID"
vo setmem-outsourced web1 1200M --min 600M --shares 42
expect_out "cap 1200 MiB \\(min 600 MiB, max 2048 MiB, shares 42\\)" "--min and --shares change the contract"
vo setmem-outsourced web1 1638399
expect_rc 0 "a SIZE off the block is accepted"
expect_err "^virt-omem: note: rounded the cap 1638399 KiB down to 1598 MiB: the virtio-mem block is 2 MiB" \
    "... rounded down with a note on stderr"
vo setmem-outsourced web1 1200M --min 1023M
expect_err "rounded min 1023 MiB up to 1024 MiB" "min is rounded up with a note"
vo setmem-outsourced db1 2G
expect_out "^Domain 'db1' persistent contract: cap 2048 MiB" \
    "on a domain that is shut off, --current changes the definition"

vo setmem-outsourced web1 3G
expect_error 2 "a cap beyond max is refused with the numbers" \
    "cap 3072 MiB is beyond the max of 'web1' .*max 2048 MiB.*at most 2048 MiB"
vo setmem-outsourced web1 900M
expect_error 2 "a cap below min is refused with the numbers" \
    "cap 900 MiB is below the min of 'web1' .*min 1024 MiB"
vo setmem-outsourced web1 1G --min 256M
expect_error 2 "a min below boot is refused" "min 256 MiB is below the boot RAM of 'web1' \\(512 MiB\\)"
vo setmem-outsourced web1 1G --min 1500M
expect_error 2 "a min above the cap is refused" "cap 1024 MiB is below the min"
vo setmem-outsourced db1 2G --live
expect_error 2 "--live on a domain that is shut off" "'db1' is not running"
vo setmem-outsourced db1 2G --wait
expect_error 2 "--wait on a domain that is shut off" "not running"

# --wait: web1 has 512 MiB (nothing plugged, ever) and its min is 1024.
start=$(date +%s%N)
vo setmem-outsourced web1 1536M --wait --timeout 1.5
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
[ "$(grep -c '^virt-omem: error:' <<<"$ERR")" = 1 ] && ok "... with one error line" ||
    not_ok "... with one error line" "$ERR"
vo setmem-outsourced web1 1G --min 512M --wait --timeout 5
expect_rc 0 "--wait returns 0 at once when the guest is within the new contract"
expect_err "'web1' has 512 MiB, within 512 MiB..1024 MiB" "... and says so"

# ------------------------------------------------------------ dommemstat

vo dommemstat web1
expect_rc 0 "dommemstat of a running omem domain"
for line in "boot: +512 MiB" "min: +1024 MiB" "cap: +1536 MiB" "max: +2048 MiB" \
            "shares: +500" "buffer: +20%" "requested: +512 MiB" "plugged: +0 MiB" \
            "total: +512 MiB"; do
    expect_out "^$line$" "dommemstat shows ${line%%:*}"
done
expect_out "^demand: +unknown \\(omemd's status is read only on a local qemu:///system connection\\)$" \
    "demand is unknown on a test:/// connection"
vo dommemstat db1
expect_out "^plugged: +- \\(not running\\)$" "dommemstat of a shut off domain shows no plugged size"
expect_out "^cap: +4096 MiB$" "... and its definition's contract"

# ------------------------------------------------------------ list and top

vo list
expect_rc 0 "list"
expect_out "^ Name +State +Boot +Plugged +Requested +Cap +Min +Max +Demand$" "list prints a header"
expect_out "^ db1 +shut off +1024 +- +- +4096 +1024 +4096 +\\?$" "list shows the shut off omem domain"
expect_out "^ web1 +running +512 +0 +512 +1536 +1024 +2048 +\\?$" "list shows the running omem domain"
if grep -q plain <<<"$OUT"; then not_ok "list leaves out ordinary domains"; else ok "list leaves out ordinary domains"; fi

vo top --iterations 2 --interval 0.1
expect_rc 0 "top --iterations 2"
[ "$(grep -c '^ web1 ' <<<"$OUT")" = 2 ] && ok "top printed the table twice" ||
    not_ok "top printed the table twice" "$OUT"
if grep -q $'\033' <<<"$OUT"; then
    not_ok "top does not clear the screen when stdout is not a terminal"
else
    ok "top does not clear the screen when stdout is not a terminal"
fi

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
    vo dommemstat web1
    expect_out "^demand: +700 MiB$" "dommemstat shows omemd's demand"
    expect_out "^guest available: +384 MiB$" "... the guest's available memory"
    expect_out "^session: +open$" "... the session"
    expect_out "^last decision: +grant to 512 MiB at .*: demand 700 MiB \\+ 10% buffer above boot$" \
        "... and the last decision"
    expect_out "^cap: +1536 MiB$" "libvirt stays the source of the contract"
    vo list
    expect_out "^ web1 +running +512 +0 +512 +1536 +1024 +2048 +700$" "list shows demand from omemd"
    expect_out "^ db1 .* \\?$" "... and ? for a VM omemd does not report"
    stop_serving

    printf '{"version": 1, "vms": [' >"$SCRATCH/broken.json"
    serve "$SCRATCH/broken.json"
    vo dommemstat web1
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
OMEM_STATUS_SOCKET=$SCRATCH/nobody.sock vo dommemstat web1
expect_out "^demand: +unknown \\(omemd not running\\)$" "no socket: demand unknown (omemd not running)"
[ -z "$ERR" ] && ok "... without a warning" || not_ok "... without a warning" "$ERR"

done_testing
