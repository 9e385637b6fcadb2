# tests/lib/tap.sh — the one TAP producer of the shell tests: tests/cli/*.sh,
# tests/e2e/*.sh and the harness under tests/lib/ source it (guest.sh and
# cli/lib.sh do so for their scripts).
#
# Every result follows a condition the caller evaluated: ok and not_ok are
# the two branches of an if, check evaluates its command itself, and skip
# is for a check whose precondition was found missing here.  Something the
# script merely did (killed a process, installed a file) is a diag line,
# not an ok.
#
#   plan N                        announce N checks up front (optional)
#   ok DESCRIPTION                a check that passed
#   not_ok DESCRIPTION [DIAG...]  a check that failed, DIAGs as # lines
#   check DESCRIPTION COMMAND...  ok if COMMAND succeeds, else not_ok with
#                                 the command and its output
#   skip DESCRIPTION REASON       a check that cannot be evaluated here
#   diag TEXT...                  TEXT as # lines (multi-line text too)
#   skip_all REASON               "1..0 # SKIP REASON", exit 0
#   bail_out REASON               "Bail out! REASON", exit 1
#   not COMMAND...                COMMAND fails (for check, poll_until)
#   done_testing                  the final plan line (unless plan gave
#                                 it); returns non-zero if a check failed
# TAP_COUNT and TAP_FAILED count the results so far.
# shellcheck shell=bash

[ -n "${TAP_LOADED:-}" ] && return 0
TAP_LOADED=1
TAP_COUNT=0
TAP_FAILED=0
TAP_PLANNED=

plan() {
    TAP_PLANNED=$1
    echo "1..$1"
}

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

check() {
    local description=$1 output
    shift
    if output=$("$@" 2>&1); then
        ok "$description"
    else
        not_ok "$description" "command failed: $*" "$output"
    fi
}

not() {
    ! "$@"
}

skip() {
    TAP_COUNT=$((TAP_COUNT + 1))
    echo "ok $TAP_COUNT - $1 # SKIP $2"
}

diag() {
    printf '%s\n' "$*" | sed 's/^/# /'
}

skip_all() {
    echo "1..0 # SKIP $*"
    exit 0
}

bail_out() {
    echo "Bail out! $*"
    exit 1
}

done_testing() {
    if [ -z "$TAP_PLANNED" ]; then
        echo "1..$TAP_COUNT"
    elif [ "$TAP_PLANNED" != "$TAP_COUNT" ]; then
        diag "planned $TAP_PLANNED checks, ran $TAP_COUNT"
    fi
    [ "$TAP_FAILED" = 0 ]
}
