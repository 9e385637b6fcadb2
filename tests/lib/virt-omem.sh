# tests/lib/virt-omem.sh — the one way the shell tests run the built
# virt-omem: tests/cli/*.sh (through cli/lib.sh, against libvirt's test
# driver) and the real-guest scripts (through guest.sh, on qemu:///system).
#
#   OMEM_VIRT_OMEM       the binary (default: the build tree's)
#   OMEM_VIRT_OMEM_URI   when set, every run gets "-c URI" first; a -c in
#                        the arguments comes later and wins
#   vo ARGS...           run virt-omem; its output and status as they are
#   vo_capture ARGS...   run it with stdin from /dev/null; sets OUT and ERR
#                        (its stdout and stderr, as text) and RC
#   vo_capture_in FILE ARGS...  the same with FILE as stdin
#   vo_require           bail out unless the binary is built
# shellcheck shell=bash

# shellcheck source=tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

[ -n "${OMEM_VIRT_OMEM_LOADED:-}" ] && return 0
OMEM_VIRT_OMEM_LOADED=1
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${OMEM_VIRT_OMEM:=$top_builddir/libvirt-driver/virt-omem/virt-omem}"
: "${OMEM_VIRT_OMEM_URI:=}"

vo() {
    "$OMEM_VIRT_OMEM" ${OMEM_VIRT_OMEM_URI:+-c "$OMEM_VIRT_OMEM_URI"} "$@"
}

vo_capture() {
    vo_capture_in /dev/null "$@"
}

vo_capture_in() {
    local input=$1 scratch
    shift
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/vo-capture.XXXXXX") || return 1
    RC=0
    vo "$@" <"$input" >"$scratch/out" 2>"$scratch/err" || RC=$?
    OUT=$(cat "$scratch/out")
    ERR=$(cat "$scratch/err")
    rm -rf "$scratch"
}

vo_require() {
    [ -x "$OMEM_VIRT_OMEM" ] || bail_out "$OMEM_VIRT_OMEM is not built; run make"
}
