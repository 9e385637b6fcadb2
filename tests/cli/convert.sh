#!/bin/bash
# virt-omem convert and define: the CLI's plumbing, not the transform
# (whose golden files are its own tests'): the output equals what
# omem_transform_convert gives for the same input and options, from a file
# and from stdin; options reach the library; other metadata survives;
# define reports the contract it defined.
. "$(dirname "$0")/lib.sh"

REF=$top_builddir/tests/cli/convert-ref
PLAIN=$CLI_DIR/plain-domain.xml
MIB=1048576

# same_as_ref DESCRIPTION REF-ARGS...: stdout of the last vo_capture equals REF's.
same_as_ref() {
    local description=$1 expected
    shift
    if ! expected=$("$REF" "$PLAIN" "$@" 2>&1); then
        not_ok "$description" "the library refuses it too: $expected"
        return
    fi
    if [ "$RC" = 0 ] && [ "$OUT" = "$expected" ]; then
        ok "$description"
    else
        not_ok "$description" "exit $RC, stderr: $ERR"
        diff <(printf '%s\n' "$expected") <(printf '%s\n' "$OUT") | head -20 | sed 's/^/# /'
    fi
}

vo_capture convert "$PLAIN"
same_as_ref "convert FILE with the defaults equals the library's output" 0 0 0 0 -
expect_that "convert prints nothing on stderr" test -z "$ERR"
DEFAULT_OUT=$OUT

vo_capture_in "$PLAIN" convert -
same_as_ref "convert - reads standard input" 0 0 0 0 -
vo_capture_in "$PLAIN" convert
same_as_ref "convert without FILE reads standard input" 0 0 0 0 -

vo_capture convert "$PLAIN" --boot 512M --min 768MiB --max 2G --shares 250 --buffer 20%
same_as_ref "options pass through (--boot 512M --min 768MiB --max 2G --shares 250 --buffer 20%)" \
    $((512 * MIB)) $((768 * MIB)) $((2048 * MIB)) 250 20
vo_capture convert --max 4194304 --boot 1048576KiB "$PLAIN"
same_as_ref "sizes default to KiB and options may precede FILE" \
    $((1024 * MIB)) 0 $((4096 * MIB)) 0 -

vo_capture convert "$PLAIN"
expect_out 'urn:omem:contract:1' "the output carries the omem contract"
expect_out 'keep me' "another tool's metadata is kept"
expect_out "model=.virtio-mem." "the output has a virtio-mem device"
if command -v xmllint >/dev/null 2>&1; then
    check "the output is well-formed XML" xmllint --noout - <<<"$OUT"
else
    skip "the output is well-formed XML" "xmllint is not installed (libxml2-utils)"
fi

# Idempotent through the CLI too: converting the output again changes nothing.
printf '%s\n' "$DEFAULT_OUT" >"$SCRATCH/omem.xml"
vo_capture convert "$SCRATCH/omem.xml"
if [ "$RC" = 0 ] && [ "$OUT" = "$DEFAULT_OUT" ]; then
    ok "convert of an omem domain gives the same XML"
else
    not_ok "convert of an omem domain gives the same XML"; show
fi

# A refusal of the transform itself (boot < max/8) is bad input, exit 2.
vo_capture convert "$PLAIN" --boot 64M --max 2G
expect_error 2 "boot below max/8 is refused" "plain-domain.xml: "

# define against the test driver (a fresh state per connection).
vo_capture -c test:///default define "$PLAIN" --boot 512M --min 1G --max 2G
if [ "$RC" = 0 ] && [ "$OUT" = "Domain 'plain' defined as an omem domain (boot 512 MiB, min 1024 MiB, max 2048 MiB)" ]; then
    ok "define reports the contract it defined"
else
    not_ok "define reports the contract it defined"; show
fi
vo_capture_in "$PLAIN" -c test:///default define -
expect_rc 0 "define - reads standard input"
vo_capture -c test:///default define
expect_error 2 "define needs a FILE" "needs a domain XML FILE"

done_testing
