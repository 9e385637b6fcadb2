#!/bin/bash
# virt-omem's usage and help: the command table, per-command help, the
# version, and the one-line errors of a wrong command line.
. "$(dirname "$0")/lib.sh"

vo --help
expect_rc 0 "--help succeeds"
HELP=$OUT
for command in convert define revert setmem-outsourced dommemstat list top; do
    OUT=$HELP expect_out "^  $command " "--help lists $command"
    vo "$command" --help
    if [ "$RC" = 0 ] && grep -q "^Usage: virt-omem \[-c URI\] $command" <<<"$OUT"; then
        ok "$command --help prints its usage"
    else
        not_ok "$command --help prints its usage"; show
    fi
done
vo help setmem-outsourced
expect_out "--wait" "help setmem-outsourced shows its options"
vo help
expect_out "Exit status: 0 success, 1 the" "help documents the exit codes"
vo -V
expect_out "^virt-omem [0-9]" "-V prints the version"

vo
expect_error 2 "no command" "no command given"
vo frobnicate
expect_error 2 "an unknown command" "unknown command 'frobnicate'"
vo help frobnicate
expect_error 2 "help for an unknown command" "unknown command"
vo --bogus list
expect_error 2 "an unknown global option" "unknown option '--bogus'"
vo -c
expect_error 2 "-c without a URI" "needs a value"
vo convert --frob
expect_error 2 "an unknown option of convert" "unknown option '--frob' for 'convert'"
vo setmem-outsourced web1 1G -x
expect_error 2 "an unknown short option" "unknown option '-x'"
vo setmem-outsourced web1
expect_error 2 "setmem-outsourced without SIZE" "needs a DOMAIN and a SIZE"
vo setmem-outsourced web1 1G extra
expect_error 2 "an extra argument" "unexpected argument 'extra'"
vo setmem-outsourced web1 1G --min
expect_error 2 "--min without a value" "'--min' of 'setmem-outsourced' needs a value"
vo setmem-outsourced web1 1G --live --current
expect_error 2 "--current with --live" "--current cannot be combined"
vo setmem-outsourced web1 1G --timeout 5
expect_error 2 "--timeout without --wait" "--timeout needs --wait"
vo setmem-outsourced web1 1G --config --wait
expect_error 2 "--wait with --config only" "--wait watches the running guest"
vo dommemstat
expect_error 2 "dommemstat without a domain" "needs a DOMAIN"
vo list extra
expect_error 2 "list with an argument" "unexpected argument"
vo top --interval 0
expect_error 2 "top --interval 0" "out of range"
vo top --iterations -1
expect_error 2 "top --iterations -1" "negative"
vo revert
expect_error 2 "revert without a domain" "needs a DOMAIN"

done_testing
