#!/bin/bash
# virt-omem's usage and help: the command table, per-command help, the
# version, and the one-line errors of a wrong command line (the
# maintenance commands freeze, thaw, drain and undrain included).
. "$(dirname "$0")/lib.sh"

vo_capture --help
expect_rc 0 "--help succeeds"
HELP=$OUT
for command in convert define revert setmem-outsourced freeze thaw drain undrain dommemstat list top; do
    OUT=$HELP expect_out "^  $command " "--help lists $command"
    vo_capture "$command" --help
    if [ "$RC" = 0 ] && grep -q "^Usage: virt-omem \[-c URI\] $command" <<<"$OUT"; then
        ok "$command --help prints its usage"
    else
        not_ok "$command --help prints its usage"; show
    fi
done
vo_capture help setmem-outsourced
expect_out "--wait" "help setmem-outsourced shows its options"
vo_capture help drain
expect_out "--wait" "help drain shows its options"
expect_out "^A frozen domain is refused: thaw it first\.$" "... and the rule it keeps"
vo_capture help freeze
expect_out "^  --all " "help freeze shows --all"
expect_that "... and no --wait" not grep -q -e "--wait" <<<"$OUT"
vo_capture help
expect_out "Exit status: 0 success, 1 the" "help documents the exit codes"
vo_capture -V
expect_out "^virt-omem [0-9]" "-V prints the version"

vo_capture
expect_error 2 "no command" "no command given"
vo_capture frobnicate
expect_error 2 "an unknown command" "unknown command 'frobnicate'"
vo_capture help frobnicate
expect_error 2 "help for an unknown command" "unknown command"
vo_capture --bogus list
expect_error 2 "an unknown global option" "unknown option '--bogus'"
vo_capture -c
expect_error 2 "-c without a URI" "needs a value"
vo_capture convert --frob
expect_error 2 "an unknown option of convert" "unknown option '--frob' for 'convert'"
vo_capture setmem-outsourced web1 1G -x
expect_error 2 "an unknown short option" "unknown option '-x'"
vo_capture setmem-outsourced web1
expect_error 2 "setmem-outsourced without SIZE" "needs a DOMAIN and a SIZE"
vo_capture setmem-outsourced web1 1G extra
expect_error 2 "an extra argument" "unexpected argument 'extra'"
vo_capture setmem-outsourced web1 1G --min
expect_error 2 "--min without a value" "'--min' of 'setmem-outsourced' needs a value"
vo_capture setmem-outsourced web1 1G --live --current
expect_error 2 "--current with --live" "--current cannot be combined"
vo_capture setmem-outsourced web1 1G --timeout 5
expect_error 2 "--timeout without --wait" "--timeout needs --wait"
vo_capture setmem-outsourced web1 1G --config --wait
expect_error 2 "--wait with --config only" "--wait watches the running guest"
for command in freeze thaw drain undrain; do
    vo_capture "$command"
    expect_error 2 "$command without a domain" "'$command' needs a DOMAIN or --all; usage: virt-omem $command DOMAIN\.\.\. \| --all"
    vo_capture "$command" --all web1
    expect_error 2 "$command --all with a DOMAIN" "--all selects the domains itself: drop 'web1' or drop --all"
    vo_capture "$command" web1 --live --current
    expect_error 2 "$command --current with --live" "--current cannot be combined"
    vo_capture "$command" web1 --bogus
    expect_error 2 "$command with an unknown option" "unknown option '--bogus' for '$command'"
done
for command in freeze thaw undrain; do
    vo_capture "$command" web1 --wait
    expect_error 2 "$command has no --wait" "unknown option '--wait' for '$command'"
done
vo_capture drain web1 --timeout 5
expect_error 2 "drain --timeout without --wait" "--timeout needs --wait"
vo_capture drain web1 --config --wait
expect_error 2 "drain --wait with --config only" "--wait watches the running guest: add --live"
vo_capture drain web1 --wait --timeout
expect_error 2 "drain --timeout without a value" "'--timeout' of 'drain' needs a value"
vo_capture dommemstat
expect_error 2 "dommemstat without a domain" "needs a DOMAIN"
vo_capture list extra
expect_error 2 "list with an argument" "unexpected argument"
vo_capture top --interval 0
expect_error 2 "top --interval 0" "out of range"
vo_capture top --iterations -1
expect_error 2 "top --iterations -1" "negative"
vo_capture revert
expect_error 2 "revert without a domain" "needs a DOMAIN"

done_testing
