# tests/cli/lib.sh — sourced by the tests/cli/*.sh TAP tests of virt-omem.
# They need no daemon: libvirt's test driver stands in for libvirtd, with
# the node definition tests/cli/node.xml (every connection re-reads it,
# so each virt-omem run starts from that state).
#
#   vo ARGS...            run virt-omem; sets OUT, ERR (text) and RC
#   expect_rc N DESC      ok when RC is N
#   expect_error N DESC [REGEX]  RC is N, stdout empty, stderr exactly one
#                         "virt-omem: error: ..." line (matching REGEX)
#   expect_out REGEX DESC ok when stdout matches the ERE
#   ok / not_ok / diag / done_testing   TAP
# shellcheck shell=bash

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

VIRT_OMEM=${VIRT_OMEM:-$top_builddir/libvirt-driver/virt-omem/virt-omem}
CLI_DIR=$top_srcdir/tests/cli
TEST_URI=test://$CLI_DIR/node.xml
# No test may reach a real libvirtd or omemd by accident.
export LIBVIRT_DEFAULT_URI=$TEST_URI
unset OMEM_STATUS_SOCKET

TAP_COUNT=0
TAP_FAILED=0
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/virt-omem-test.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

ok() {
    TAP_COUNT=$((TAP_COUNT + 1))
    echo "ok $TAP_COUNT - $*"
}

not_ok() {
    TAP_COUNT=$((TAP_COUNT + 1))
    TAP_FAILED=$((TAP_FAILED + 1))
    echo "not ok $TAP_COUNT - $1"
    shift
    local line
    for line in "$@"; do diag "$line"; done
}

diag() {
    printf '%s\n' "$*" | sed 's/^/# /'
}

done_testing() {
    echo "1..$TAP_COUNT"
    [ "$TAP_FAILED" = 0 ]
}

# vo ARGS...: run virt-omem with stdin from /dev/null unless redirected.
vo() {
    RC=0
    "$VIRT_OMEM" "$@" </dev/null >"$SCRATCH/out" 2>"$SCRATCH/err" || RC=$?
    OUT=$(cat "$SCRATCH/out")
    ERR=$(cat "$SCRATCH/err")
}

# vo_in FILE ARGS...: the same with FILE as stdin.
vo_in() {
    local input=$1
    shift
    RC=0
    "$VIRT_OMEM" "$@" <"$input" >"$SCRATCH/out" 2>"$SCRATCH/err" || RC=$?
    OUT=$(cat "$SCRATCH/out")
    ERR=$(cat "$SCRATCH/err")
}

show() {
    diag "exit $RC" "stdout: $OUT" "stderr: $ERR"
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

[ -x "$VIRT_OMEM" ] || { echo "Bail out! $VIRT_OMEM is not built"; exit 1; }
