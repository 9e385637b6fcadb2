# tests/cli/lib.sh — sourced by the tests/cli/*.sh TAP tests of virt-omem.
# They need no daemon: libvirt's test driver stands in for libvirtd, with
# the node definition tests/cli/node.xml (every connection re-reads it,
# so each virt-omem run starts from that state).  TAP comes from
# tests/lib/tap.sh, virt-omem runs through tests/lib/virt-omem.sh.
#
#   vo_capture ARGS...    run virt-omem; sets OUT, ERR (text) and RC
#   vo_capture_in FILE ARGS...  the same with FILE as stdin
#   expect_rc N DESC      ok when RC is N
#   expect_error N DESC [REGEX]  RC is N, stdout empty, stderr exactly one
#                         "virt-omem: error: ..." line (matching REGEX)
#   expect_out REGEX DESC ok when stdout matches the ERE
#   expect_err REGEX DESC ok when stderr matches the ERE
#   expect_that DESC COMMAND...  ok when COMMAND succeeds, else the last
#                         run's exit status and output as diagnostics
#   show                  the last run's exit status and output as # lines
# shellcheck shell=bash

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"
# shellcheck source=../lib/virt-omem.sh
. "$top_srcdir/tests/lib/virt-omem.sh"

CLI_DIR=$top_srcdir/tests/cli
TEST_URI=test://$CLI_DIR/node.xml
# No test may reach a real libvirtd or omemd by accident.
export LIBVIRT_DEFAULT_URI=$TEST_URI
unset OMEM_STATUS_SOCKET
OMEM_VIRT_OMEM_URI=

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/virt-omem-test.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

show() {
    diag "exit $RC" "stdout: $OUT" "stderr: $ERR"
}

expect_that() {
    local description=$1
    shift
    if "$@"; then ok "$description"; else not_ok "$description"; show; fi
}

expect_rc() {
    if [ "$RC" = "$1" ]; then ok "$2"; else not_ok "$2 (exit $1)"; show; fi
}

expect_error() {
    local want=$1 description=$2 regex=${3:-.}
    local lines
    lines=$(printf '%s\n' "$ERR" | grep -c .)
    if [ "$RC" = "$want" ] && [ -z "$OUT" ] && [ "$lines" = 1 ] &&
       [[ $ERR == "virt-omem: error: "* ]] && grep -Eq -- "$regex" <<<"$ERR"; then
        ok "$description: exit $want, one error line"
    else
        not_ok "$description: exit $want, one error line matching /$regex/"
        show
    fi
}

expect_out() {
    if grep -Eq -- "$1" <<<"$OUT"; then ok "$2"; else not_ok "$2" "stdout lacks /$1/"; show; fi
}

expect_err() {
    if grep -Eq -- "$1" <<<"$ERR"; then ok "$2"; else not_ok "$2" "stderr lacks /$1/"; show; fi
}

vo_require
