#!/bin/bash
# The virsh integration (libvirt-driver/virsh/omem-virsh.sh), each check in
# a clean `bash --norc`: the virsh function hands setmem-outsourced and
# dommemstat-outsourced to virt-omem with virsh's global options parsed as
# virsh parses them, gives virt-omem's output, errors and exit codes
# unchanged, leaves every other command to the real virsh, and completes
# omem's commands beside virsh's own completion.  Against libvirt's test
# driver (tests/cli/node.xml), and, when libvirtd answers, against a
# definition on qemu:///system.
. "$(dirname "$0")/lib.sh"

VO_DIR=$top_builddir/libvirt-driver/virt-omem
OMEM_VIRSH=$top_srcdir/libvirt-driver/virsh/omem-virsh.sh
VO_COMPLETION=$top_srcdir/libvirt-driver/virt-omem.bash-completion
NODE=test://$top_srcdir/tests/cli/node.xml
BASH_COMPLETION=/usr/share/bash-completion/bash_completion
REAL_VIRSH=$(type -P virsh) || { echo "Bail out! no virsh in PATH"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/omem-virsh-test.XXXXXX")
SYSTEM_DOMAIN=""
cleanup() {
    if [ -n "$SYSTEM_DOMAIN" ]; then
        "$REAL_VIRSH" -c qemu:///system undefine "$SYSTEM_DOMAIN" >/dev/null 2>&1
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# run SCRIPT: SCRIPT in a clean bash that has sourced omem-virsh.sh, with
# virt-omem first in PATH and libvirt's default URI a test node without
# omem domains (so a lost -c shows); sets OUT, ERR and RC.
run() {
    run_in "$VO_DIR:/usr/bin:/bin" ". '$OMEM_VIRSH'; $1"
}
# run_in PATH SCRIPT: the same with that PATH, omem-virsh.sh not sourced.
run_in() {
    RC=0
    env -i PATH="$1" HOME="$WORK" LIBVIRT_DEFAULT_URI=test:///default \
        /bin/bash --norc --noprofile -c "$2" </dev/null >"$WORK/out" 2>"$WORK/err" || RC=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
}
# reference SCRIPT: the same outside the function (virt-omem or `command
# virsh` called directly), into WANT_OUT, WANT_ERR, WANT_RC.
reference() {
    run "$1"
    WANT_OUT=$OUT WANT_ERR=$ERR WANT_RC=$RC
}
show_both() {
    diag "got exit $RC" "stdout: $OUT" "stderr: $ERR" \
        "want exit $WANT_RC" "stdout: $WANT_OUT" "stderr: $WANT_ERR"
}
# same DESC: ok when the last run printed and exited as the reference.
same() {
    if [ "$RC" = "$WANT_RC" ] && [ "$OUT" = "$WANT_OUT" ] && [ "$ERR" = "$WANT_ERR" ]; then
        ok "$1"
    else
        not_ok "$1"; show_both
    fi
}
# refused N DESC REGEX: exit N, no stdout, one omem-virsh error line.
refused() {
    if [ "$RC" = "$1" ] && [ -z "$OUT" ] && [ "$(grep -c . <<<"$ERR")" = 1 ] &&
       [[ $ERR == "omem-virsh: error: "* ]] && grep -Eq -- "$3" <<<"$ERR"; then
        ok "$2: exit $1, one error line"
    else
        not_ok "$2: exit $1, one error line matching /$3/"; diag "exit $RC" "stdout: $OUT" "stderr: $ERR"
    fi
}

# --------------------------------------------------- loading the function

run 'type -t virsh'
[ "$OUT" = function ] && ok "virsh resolves to the function once omem-virsh.sh is sourced" ||
    { not_ok "virsh resolves to the function once omem-virsh.sh is sourced"; diag "$OUT $ERR"; }
run 'bash --norc -c "type -t virsh"'
[ "$OUT" = file ] && ok "... and is not exported: a child shell or script gets the real virsh" ||
    { not_ok "... and is not exported"; diag "$OUT $ERR"; }
run_in /usr/bin:/bin "type -t virsh"
[ "$OUT" = file ] && ok "without it, virsh is the real virsh" || not_ok "without it, virsh is the real virsh" "$OUT"
RC=0
OUT=$(env -i PATH=/usr/bin:/bin dash -c ". '$OMEM_VIRSH'; command -v virsh" 2>&1) || RC=$?
[ "$RC" = 0 ] && [ "$OUT" = "$REAL_VIRSH" ] &&
    ok "sourced by sh (as /etc/profile.d would), it defines nothing and fails nothing" ||
    not_ok "sourced by sh, it defines nothing and fails nothing" "exit $RC: $OUT"

# ----------------------------------------------------- help and errors

reference 'virt-omem setmem-outsourced --help'
run 'virsh setmem-outsourced --help'
same "virsh setmem-outsourced --help is virt-omem setmem-outsourced --help"
[[ $OUT == "Usage: virt-omem [-c URI] setmem-outsourced DOMAIN SIZE"* ]] && ok "... its usage" ||
    not_ok "... its usage" "$OUT"
reference 'virt-omem dommemstat --help'
run 'virsh dommemstat-outsourced --help'
same "virsh dommemstat-outsourced --help is virt-omem dommemstat --help"
reference 'virt-omem help setmem-outsourced'
run 'virsh help setmem-outsourced'
same "virsh help setmem-outsourced is virt-omem help setmem-outsourced"
reference 'command virsh help setmem'
run 'virsh help setmem'
same "virsh help setmem is virsh's own"

reference "virt-omem -c '$NODE' setmem-outsourced web1"
run "virsh -c '$NODE' setmem-outsourced web1"
same "a missing SIZE: virt-omem's error and exit code"
[ "$RC" = 2 ] && ok "... exit 2" || not_ok "... exit 2" "exit $RC"
reference "virt-omem -c '$NODE' setmem-outsourced web1 3G"
run "virsh -c '$NODE' setmem-outsourced web1 3G"
same "a cap beyond max: virt-omem's error and exit code"
reference "virt-omem -c '$NODE' setmem-outsourced web1 1536M --wait --timeout 0.5"
run "virsh -c '$NODE' setmem-outsourced web1 1536M --wait --timeout 0.5"
[ "$RC" = 3 ] && [ "$WANT_RC" = 3 ] && [ "$(grep '^virt-omem: error' <<<"$ERR")" = "$(grep '^virt-omem: error' <<<"$WANT_ERR")" ] &&
    ok "--wait timing out: exit 3 and the error line, as virt-omem's" || { not_ok "--wait timing out: exit 3"; show_both; }
reference "virt-omem -c '$NODE' setmem-outsourced no-such 1G"
run "virsh -c '$NODE' setmem-outsourced no-such 1G"
same "an unknown domain: virt-omem's error and exit code"
reference "virt-omem setmem-outsourced web1 1800M -c '$NODE'"
run "virsh setmem-outsourced web1 1800M -c '$NODE'"
same "after the command, -c is the command's option, as in virsh (virt-omem refuses it)"

mkdir "$WORK/bin" && ln -s "$REAL_VIRSH" "$WORK/bin/virsh"
run_in "$WORK/bin" ". '$OMEM_VIRSH'; virsh setmem-outsourced web1 1G"
refused 127 "no virt-omem in PATH" "setmem-outsourced is run by virt-omem, which is not in PATH"

# -------------------------------------------- global options, every form

reference "virt-omem -c '$NODE' setmem-outsourced web1 1800M"
[ "$WANT_RC" = 0 ] && [[ $WANT_OUT == "Domain 'web1' live contract: cap 1800 MiB"* ]] &&
    ok "virt-omem -c NODE setmem-outsourced web1 1800M (the reference)" ||
    { not_ok "virt-omem -c NODE setmem-outsourced web1 1800M (the reference)"; show_both; }
for options in "-c '$NODE'" "-c'$NODE'" "--connect '$NODE'" "--connect='$NODE'" "--conn '$NODE'" \
               "--c='$NODE'" "-c test:///default -c '$NODE'" "-c '$NODE' --" "-- " "-e '^]' -c '$NODE'" \
               "--escape=x --connect '$NODE'"; do
    prefix=""
    [ "$options" = "-- " ] && prefix="VIRSH_DEFAULT_CONNECT_URI='$NODE'"
    run "$prefix virsh $options setmem-outsourced web1 1800M"
    same "$prefix${prefix:+ }virsh $options setmem-outsourced: the URI reaches virt-omem"
done
run "VIRSH_DEFAULT_CONNECT_URI='$NODE' virsh setmem-outsourced web1 1800M"
same "VIRSH_DEFAULT_CONNECT_URI is virsh's default URI, and so virt-omem's"
run "VIRSH_DEFAULT_CONNECT_URI=test:///default virsh -c '$NODE' setmem-outsourced web1 1800M"
same "... and -c overrides it"
run "virsh -c '$NODE' 'setmem-outsourced web1 1800M'"
same "a virsh command string of one omem command"
run "virsh -c '$NODE' \"setmem-outsourced web1 '1800M'\""
refused 2 "a command string with quotes" "cannot run inside a virsh command string"

for options in "-q -c '$NODE'" "-qc '$NODE'" "--quiet --connect='$NODE'" "-c '$NODE' --qui"; do
    run "virsh $options setmem-outsourced web1 1800M"
    [ "$RC" = 0 ] && [ -z "$OUT" ] && [ -z "$ERR" ] &&
        ok "virsh $options setmem-outsourced: the confirmation line dropped, exit 0" ||
        { not_ok "virsh $options setmem-outsourced: the confirmation line dropped, exit 0"; diag "exit $RC" "$OUT" "$ERR"; }
done
run "virsh -q -c '$NODE' setmem-outsourced web1 1025M --min 1023M"
[ "$RC" = 0 ] && [ -z "$OUT" ] && grep -q "^virt-omem: note: rounded" <<<"$ERR" &&
    ok "... while notes on stderr stay" || { not_ok "... while notes on stderr stay"; diag "exit $RC" "$OUT" "$ERR"; }
run "virsh -q -c '$NODE' setmem-outsourced web1 3G"
[ "$RC" = 2 ] && grep -q "^virt-omem: error: cap 3072 MiB is beyond" <<<"$ERR" &&
    ok "... and errors too" || { not_ok "... and errors too"; diag "exit $RC" "$OUT" "$ERR"; }
reference "virt-omem -c '$NODE' dommemstat web1"
run "virsh -q -c '$NODE' dommemstat-outsourced web1"
same "virsh -q dommemstat-outsourced: its output is its result, kept (as virsh -q dommemstat's)"
[[ $OUT == *"cap:"*"1536 MiB"* ]] && ok "... the contract shown" || not_ok "... the contract shown" "$OUT"

for options in "-r" "--readonly" "--read" "-qr" "-d 2" "-d2" "--debug=0" "-k 5" "--keepalive-interval=0" \
               "-K 3" "--keepalive-count 3" "-l '$WORK/virsh.log'" "--log='$WORK/virsh.log'" "-t" "--timing"; do
    run "virsh $options -c '$NODE' setmem-outsourced web1 1800M"
    refused 2 "virsh $options: an option virt-omem cannot honour is refused" "virsh's option '-.*' cannot be honoured by setmem-outsourced: .*; drop it"
done
[ ! -e "$WORK/virsh.log" ] && ok "... and nothing was done (no log file)" || not_ok "... and nothing was done (no log file)"

# Options the real virsh refuses, help and version: the real virsh's
# answer, whatever the command.
for options in "--keepalive 5" "--bogus" "-x" "-d abc" "-e '^'" "-k x" "-K -1" "--quiet=1" \
               "-h" "--help" "-v" "-V" "--version" "--version=long" "--vers"; do
    reference "command virsh $options -c '$NODE' setmem-outsourced web1 1800M"
    run "virsh $options -c '$NODE' setmem-outsourced web1 1800M"
    same "virsh $options ... setmem-outsourced: the real virsh's answer (exit $WANT_RC)"
done

# ------------------------------------------------ the real virsh, untouched

for arguments in "list" "list --all" "-c '$NODE' list --all" "--version" "-V" "-q -c '$NODE' domstate web1" \
                 "-c '$NODE' setmem web1 1G" "-c '$NODE' 'list; domstate web1'" "frobnicate" \
                 "-c '$NODE' complete -- setm" "-r -c '$NODE' list" "-d 4 -c '$NODE' list"; do
    reference "command virsh $arguments"
    run "virsh $arguments"
    same "virsh $arguments: as command virsh (exit $WANT_RC)"
done
reference "printf 'list --all\\nsetmem-outsourced web1 1G\\n' | command virsh -c '$NODE'"
run "printf 'list --all\\nsetmem-outsourced web1 1G\\n' | virsh -c '$NODE'"
same "interactive virsh (no command) is the real virsh, its own shell without omem's commands"
grep -q "unknown command: 'setmem-outsourced'" <<<"$ERR" &&
    ok "... which says so for setmem-outsourced" || not_ok "... which says so for setmem-outsourced" "$ERR"

# --------------------------------------------------------- completion

# complete_line WORDS...: complete the last word as bash would, splitting
# each word at COMP_WORDBREAKS' ':' and '=' as readline does; prints the
# candidates, one a line.
COMPLETE_HELPERS='
complete_line() {
    local word piece
    COMP_WORDS=()
    for word in "$@"; do
        [[ -z $word ]] && COMP_WORDS+=("") && continue
        while [[ -n $word ]]; do
            if [[ $word =~ ^([:=]+) || $word =~ ^([^:=]+) ]]; then
                COMP_WORDS+=("${BASH_REMATCH[1]}")
                word=${word:${#BASH_REMATCH[1]}}
            fi
        done
    done
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    local spec function
    spec=$(complete -p "$1") || return
    function=${spec#*-F }
    function=${function%% *}
    "$function" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}"
}'
if [ ! -r "$BASH_COMPLETION" ] || [ ! -r /usr/share/bash-completion/completions/virsh ]; then
    ok "completion # SKIP bash-completion or virsh's completion is not installed ($BASH_COMPLETION)"
else
    # The virt-omem completion is loaded from the source tree (bash-
    # completion would load the installed one from its directories).
    LOAD=". '$BASH_COMPLETION'; . '$VO_COMPLETION'; $COMPLETE_HELPERS"
    run "$LOAD; complete -p virsh"
    [ "$OUT" = "complete -o default -o filenames -F _omem_virsh_complete virsh" ] &&
        ok "the completion of virsh is omem-virsh's, with the options of virsh's own" ||
        not_ok "the completion of virsh is omem-virsh's" "$OUT $ERR"

    candidates() { # DESC WANT WORDS...: the candidates are exactly WANT
        local description=$1 want=$2
        shift 2
        local words="" word
        for word in "$@"; do words+=" '$word'"; done
        run "$LOAD; complete_line virsh $words | sort"
        if [ "$OUT" = "$want" ]; then ok "$description"; else
            not_ok "$description" "got: $OUT" "want: $want" "stderr: $ERR"; fi
    }
    candidates "virsh -c URI setmem-outsourced <TAB>: the omem domains (not plain)" \
        $'db1\nweb1' -c "$NODE" setmem-outsourced ""
    candidates "virsh --connect=URI setmem-outsourced w<TAB>: web1" \
        "web1" --connect="$NODE" setmem-outsourced w
    candidates "virsh -q -c URI dommemstat-outsourced <TAB>: the omem domains" \
        $'db1\nweb1' -q -c "$NODE" dommemstat-outsourced ""
    candidates "virsh setmem-outsourced web1 1G --<TAB>: its options" \
        $'--config\n--current\n--help\n--live\n--min\n--shares\n--timeout\n--wait' setmem-outsourced web1 1G --
    candidates "virsh setmem-outsourced web1 1G --min <TAB>: sizes" \
        $'16G\n1G\n2G\n4G\n512M\n8G' setmem-outsourced web1 1G --min ""
    candidates "virsh setmem-outsourced web1 <TAB> (SIZE): nothing, not file names" \
        "" setmem-outsourced web1 ""
    candidates "virsh setm<TAB>: virsh's commands and setmem-outsourced" \
        $'setmaxmem\nsetmem\nsetmem-outsourced' setm
    candidates "virsh -c URI dommem<TAB>: dommemstat and dommemstat-outsourced" \
        $'dommemstat\ndommemstat-outsourced' -c "$NODE" dommem

    # virsh's own completion alone, for the commands that are not omem's.
    ALONE=". '$BASH_COMPLETION'; . /usr/share/bash-completion/completions/virsh; $COMPLETE_HELPERS"
    for words in "li" "list --al" "-c '$NODE' list --a" "-c '$NODE' dominfo ''" "-r -c '$NODE' setmem ''" "-c '$NODE' domstate --"; do
        RC=0
        WANT_OUT=$(env -i PATH=/usr/bin:/bin HOME="$WORK" bash --norc -c "$ALONE; complete_line virsh $words" 2>&1) || RC=$?
        run "$LOAD; complete_line virsh $words"
        if [ "$OUT" = "$WANT_OUT" ] && [ -n "$OUT" ]; then
            ok "virsh $words<TAB>: as virsh's own completion ($(tr '\n' ' ' <<<"$OUT"))"
        else
            not_ok "virsh $words<TAB>: as virsh's own completion" "got: $OUT" "want: $WANT_OUT" "$ERR"
        fi
    done
    run ". '$BASH_COMPLETION'; . /usr/share/bash-completion/completions/virsh; . '$VO_COMPLETION'; . '$OMEM_VIRSH'; $COMPLETE_HELPERS; complete_line virsh -c '$NODE' setmem-outsourced ''; complete_line virsh lis"
    [ "$OUT" = $'db1\nweb1\nlist' ] &&
        ok "virsh's completion loaded before omem-virsh.sh: both still complete" ||
        not_ok "virsh's completion loaded before omem-virsh.sh: both still complete" "$OUT" "$ERR"
    run ". '$BASH_COMPLETION'; . '$VO_COMPLETION'; $COMPLETE_HELPERS; complete_line virt-omem -c '$NODE' setmem-outsourced '' | sort"
    [ "$OUT" = $'db1\nweb1' ] && ok "virt-omem -c URI setmem-outsourced <TAB>: the URI is one word, the omem domains" ||
        not_ok "virt-omem -c URI setmem-outsourced <TAB>: the omem domains" "$OUT" "$ERR"
fi

# ------------------------------------------------------ a real libvirtd

if ! timeout 10 "$REAL_VIRSH" -c qemu:///system version >/dev/null 2>&1; then
    ok "setmem-outsourced on qemu:///system # SKIP libvirtd is not running (ci/libvirtd start runs it); the test driver above stands in"
else
    SYSTEM_DOMAIN=omem-virsh-test-$$
    sed -e "s|<name>plain</name>|<name>$SYSTEM_DOMAIN</name>|" -e '/<uuid>/d' -e "s|type='kvm'|type='qemu'|" \
        "$top_srcdir/tests/cli/plain-domain.xml" >"$WORK/domain.xml"
    run "virt-omem -c qemu:///system define '$WORK/domain.xml' --boot 512M --min 1G --max 2G"
    if [ "$RC" = 0 ]; then
        ok "an omem domain defined on qemu:///system"
        run "virsh -c qemu:///system setmem-outsourced $SYSTEM_DOMAIN 1536M --config"
        [ "$RC" = 0 ] && [ "$OUT" = "Domain '$SYSTEM_DOMAIN' persistent contract: cap 1536 MiB (min 1024 MiB, max 2048 MiB, shares 1000)" ] &&
            ok "virsh -c qemu:///system setmem-outsourced DOMAIN 1536M --config" ||
            { not_ok "virsh -c qemu:///system setmem-outsourced DOMAIN 1536M --config"; diag "exit $RC" "$OUT" "$ERR"; }
        run "command virsh -c qemu:///system metadata $SYSTEM_DOMAIN urn:omem:contract:1 --config"
        grep -q '<cap unit="bytes">1610612736</cap>' <<<"$OUT" &&
            ok "... and the definition's contract holds the cap (virsh metadata)" ||
            not_ok "... and the definition's contract holds the cap (virsh metadata)" "$OUT" "$ERR"
        run "virsh -c qemu:///system setmem-outsourced $SYSTEM_DOMAIN 1G --live"
        [ "$RC" = 2 ] && grep -q "^virt-omem: error: .*'$SYSTEM_DOMAIN' is not running" <<<"$ERR" &&
            ok "... --live on the shut-off domain: virt-omem's refusal, exit 2" ||
            { not_ok "... --live on the shut-off domain: virt-omem's refusal, exit 2"; diag "exit $RC" "$OUT" "$ERR"; }
        reference "virt-omem -c qemu:///system dommemstat $SYSTEM_DOMAIN"
        run "virsh --connect=qemu:///system dommemstat-outsourced $SYSTEM_DOMAIN"
        same "virsh dommemstat-outsourced on qemu:///system is virt-omem dommemstat"
        reference "command virsh -c qemu:///system list --all --name"
        run "virsh -c qemu:///system list --all --name"
        same "virsh -c qemu:///system list: the real virsh's"
    else
        not_ok "an omem domain defined on qemu:///system" "exit $RC" "$OUT" "$ERR"
    fi
fi

done_testing
