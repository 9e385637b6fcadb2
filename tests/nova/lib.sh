# tests/nova/lib.sh - sourced by the nova shim's TAP scripts: installs the
# shim with nova-shim/install --root into a scratch folder (so the install
# step is what is tested), gives nova's fixtures a state_path with
# nova-common's api-paste.ini, and runs unittest modules as TAP with
# /usr/bin/python3 (the only interpreter that sees Debian's nova).
# shellcheck shell=bash

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

NOVA_TEST_DIR=$top_srcdir/tests/nova
VIRT_OMEM=${VIRT_OMEM:-$top_builddir/libvirt-driver/virt-omem/virt-omem}
API_PASTE=/usr/share/nova-common/api-paste.ini

# nova_require WHAT...: skip the whole script unless these are present.
nova_require() {
    local missing=
    [ -x /usr/bin/python3 ] || missing="$missing /usr/bin/python3"
    /usr/bin/python3 -c 'import nova.virt.libvirt.driver' 2>/dev/null ||
        missing="$missing python3-nova"
    [ -x "$VIRT_OMEM" ] || missing="$missing $VIRT_OMEM"
    for what in "$@"; do
        case "$what" in
            placement) /usr/bin/python3 -c 'import placement' 2>/dev/null ||
                           missing="$missing python3-placement" ;;
            api-paste) [ -r "$API_PASTE" ] || missing="$missing nova-common" ;;
        esac
    done
    if [ -n "$missing" ]; then
        echo "1..0 # SKIP missing:$missing (ci/install-deps)"
        exit 0
    fi
}

nova_setup() {
    NOVA_SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/omem-nova-test.XXXXXX")
    # A real-guest script has one exit trap, the harness's (it undefines
    # the domain): add the scratch folder to it rather than replace it.
    if [ -n "${OMEM_GUEST_LOADED:-}" ]; then
        omem_remove_at_exit "$NOVA_SCRATCH"
    else
        trap 'rm -rf "$NOVA_SCRATCH"' EXIT
    fi
    "$top_srcdir/nova-shim/install" --root "$NOVA_SCRATCH/root"
    mkdir -p "$NOVA_SCRATCH/state/etc/nova"
    ln -s "$API_PASTE" "$NOVA_SCRATCH/state/etc/nova/api-paste.ini"
    NOVA_SHIM_SITE=$NOVA_SCRATCH/root/usr/lib/python3/dist-packages
    NOVA_STATE_PATH=$NOVA_SCRATCH/state
    # No __pycache__ in the source tree (read-only under distcheck).
    PYTHONDONTWRITEBYTECODE=1
    export NOVA_SHIM_SITE NOVA_STATE_PATH VIRT_OMEM PYTHONDONTWRITEBYTECODE
}

# nova_run_tap MODULE...: the unittest modules of tests/nova as TAP.
nova_run_tap() {
    cd "$NOVA_TEST_DIR" && /usr/bin/python3 -W ignore tap_runner.py "$@" \
        2>"$NOVA_SCRATCH/stderr"
    local rc=$?
    [ "$rc" = 0 ] || tail -n 40 "$NOVA_SCRATCH/stderr" | sed 's/^/# /'
    return "$rc"
}
