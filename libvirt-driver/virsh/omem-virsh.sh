# omem-virsh.sh: lets an operator type omem's commands as virsh commands,
# `virsh setmem-outsourced web1 4G --live` and `virsh dommemstat-outsourced
# web1`, in an interactive bash, without touching the system's virsh.
#
# Opt-in: source it from ~/.bashrc (or /etc/bash.bashrc for every user):
#     . /usr/share/omem/omem-virsh.sh
# It defines a shell function `virsh`, which runs virt-omem for omem's
# commands and the real virsh (`command virsh`) for everything else, and
# a bash completion for it that adds omem's commands to virsh's own.
# Scripts that do not source it keep the real virsh; they should call
# virt-omem themselves.  See docs/virt-omem.md, "virsh integration".
#
# /etc/profile.d may source this file under sh as well: everything after
# the next line is bash.
[ -n "${BASH_VERSION-}" ] || return 0 2>/dev/null || exit 0

# _omem_virsh_command_of WORD: omem's virsh command WORD -> the virt-omem
# command that runs it, in _omem_virsh_target; 1 for any other word.
_omem_virsh_command_of()
{
    case $1 in
    setmem-outsourced) _omem_virsh_target=setmem-outsourced ;;
    dommemstat-outsourced) _omem_virsh_target=dommemstat ;;
    *) return 1 ;;
    esac
}
_omem_virsh_commands="setmem-outsourced dommemstat-outsourced"

# virsh's global options, long name and kind: '=' takes a value, '?' an
# optional value given only as --name=VALUE, '' none (virsh's getopt_long
# table, read in virsh(1) and libvirt's tools/virsh.c).
_omem_virsh_long_options="connect= debug= escape= help keepalive-interval= keepalive-count= log= quiet readonly timing version?"

# _omem_virsh_long NAME: NAME (without '--' and '=VALUE') -> the option it
# names, exactly or as an unambiguous prefix as getopt_long allows, in
# _omem_virsh_long_match (with its kind); 1 when none or several match.
_omem_virsh_long()
{
    local spec found="" count=0
    for spec in $_omem_virsh_long_options; do
        if [[ ${spec%[=?]} == "$1" ]]; then
            _omem_virsh_long_match=$spec
            return 0
        fi
        if [[ ${spec%[=?]} == "$1"* ]]; then
            found=$spec
            count=$((count + 1))
        fi
    done
    [[ $count == 1 ]] || return 1
    _omem_virsh_long_match=$found
}

# _omem_virsh_option_value SHORT VALUE: is VALUE what virsh accepts for
# -SHORT?  If not, virsh itself prints the error and exits.
_omem_virsh_option_value()
{
    case $1 in
    d) [[ $2 =~ ^[[:space:]]*[-+]?[0-9]+$ ]] ;;
    k | K) [[ $2 =~ ^[[:space:]]*\+?([1-9][0-9]*|0[0-7]*|0[xX][0-9a-fA-F]+)$ ]] ;;
    e) [[ ${#2} == 1 && $2 != '^' ]] || [[ $2 =~ ^\^[][a-zA-Z@\\^_]$ ]] ;;
    *) true ;;
    esac
}

# _omem_virsh_global SHORT VALUE SPELLING: note one global option of
# virsh: -c and -q are kept, -e (console only) has nothing to do here,
# the others cannot be honoured and are kept to be refused.
_omem_virsh_global()
{
    case $1 in
    c) _omem_virsh_uri=$2 _omem_virsh_uri_given=1 ;;
    q) _omem_virsh_quiet=1 ;;
    e) ;;
    *) [[ -n $_omem_virsh_refused ]] || _omem_virsh_refused="$1 $3" ;;
    esac
}

# _omem_virsh_parse ARGS...: virsh's global options, parsed as virsh
# parses them (getopt_long with "+:c:d:e:hk:K:l:qrtvV": bundled short
# options, -cURI, --connect=URI, long prefixes, stop at the first word
# that is not an option or after "--").  Sets _omem_virsh_next (index in
# ARGS of the first word after the options), _omem_virsh_uri,
# _omem_virsh_quiet and _omem_virsh_refused.  Returns 1 when virsh would
# not run a command: --help, --version, or an option it refuses (the
# real virsh then says so itself).
_omem_virsh_parse()
{
    local -a args=("$@")
    local i=0 arg name value short rest spec
    _omem_virsh_uri="" _omem_virsh_uri_given="" _omem_virsh_quiet="" _omem_virsh_refused=""
    while ((i < ${#args[@]})); do
        arg=${args[i]}
        case $arg in
        --)
            i=$((i + 1))
            break
            ;;
        --*)
            name=${arg#--}
            name=${name%%=*}
            _omem_virsh_long "$name" || return 1
            spec=$_omem_virsh_long_match
            case $spec in
            *=)
                if [[ $arg == *=* ]]; then
                    value=${arg#*=}
                elif ((i + 1 < ${#args[@]})); then
                    i=$((i + 1))
                    value=${args[i]}
                else
                    return 1
                fi
                case ${spec%=} in
                connect) short=c ;; debug) short=d ;; escape) short=e ;;
                keepalive-interval) short=k ;; keepalive-count) short=K ;; log) short=l ;;
                esac
                _omem_virsh_option_value "$short" "$value" || return 1
                _omem_virsh_global "$short" "$value" "--${spec%=}"
                ;;
            help | version?) return 1 ;;
            *)
                [[ $arg != *=* ]] || return 1
                _omem_virsh_global "${spec:0:1}" "" "--$spec"
                ;;
            esac
            ;;
        -?*)
            rest=${arg#-}
            while [[ -n $rest ]]; do
                short=${rest:0:1}
                rest=${rest:1}
                case $short in
                c | d | e | k | K | l)
                    if [[ -n $rest ]]; then
                        value=$rest
                        rest=""
                    elif ((i + 1 < ${#args[@]})); then
                        i=$((i + 1))
                        value=${args[i]}
                    else
                        return 1
                    fi
                    _omem_virsh_option_value "$short" "$value" || return 1
                    _omem_virsh_global "$short" "$value" "-$short"
                    ;;
                q | r | t) _omem_virsh_global "$short" "" "-$short" ;;
                *) return 1 ;;
                esac
            done
            ;;
        *) break ;;
        esac
        i=$((i + 1))
    done
    _omem_virsh_next=$i
}

# Why each refused option cannot be honoured.
_omem_virsh_refusal()
{
    case $1 in
    r) echo "virt-omem opens read-write connections only" ;;
    d) echo "virt-omem has no debug levels" ;;
    k | K) echo "virt-omem does not set libvirt's keepalive" ;;
    l) echo "virt-omem keeps no log file" ;;
    t) echo "virt-omem does not time its commands" ;;
    esac
}

# virsh [OPTIONS] COMMAND [ARGS...]: omem's commands through virt-omem,
# anything else through the real virsh, untouched.
virsh()
{
    local _omem_virsh_next _omem_virsh_uri _omem_virsh_uri_given _omem_virsh_quiet
    local _omem_virsh_refused _omem_virsh_target _omem_virsh_long_match
    local -a words connect
    local name

    _omem_virsh_parse "$@" || { command virsh "$@"; return; }
    words=("${@:_omem_virsh_next+1}")
    # One word after the options is a virsh command string; it runs here
    # only when it is a single omem command in plain words.
    if ((${#words[@]} == 1)) && [[ ${words[0]} =~ ^[[:space:]]*([a-z-]+)([[:space:];]|$) ]] &&
        _omem_virsh_command_of "${BASH_REMATCH[1]}"; then
        if [[ ${words[0]} == *[\;\'\"\\\#]* || ${words[0]} == *$'\n'* ]]; then
            echo "omem-virsh: error: ${BASH_REMATCH[1]} cannot run inside a virsh command string with quotes, ';', '#' or newlines; give it and its arguments as separate words" >&2
            return 2
        fi
        IFS=$' \t' read -r -a words <<<"${words[0]}"
    fi
    # "virsh help setmem-outsourced" as "virsh help setmem": the help
    # needs no connection, so virsh's options do not matter to it.
    if ((${#words[@]} == 2)) && [[ ${words[0]} == help ]] && _omem_virsh_command_of "${words[1]}"; then
        name=${words[1]}
        words=(help "$_omem_virsh_target")
        _omem_virsh_refused=""
    elif ((${#words[@]} >= 1)) && _omem_virsh_command_of "${words[0]}"; then
        name=${words[0]}
        words[0]=$_omem_virsh_target
    else
        command virsh "$@"
        return
    fi

    if [[ -n $_omem_virsh_refused ]]; then
        echo "omem-virsh: error: virsh's option '${_omem_virsh_refused#* }' cannot be honoured by $name: $(_omem_virsh_refusal "${_omem_virsh_refused%% *}"); drop it" >&2
        return 2
    fi
    if ! type -P virt-omem >/dev/null; then
        echo "omem-virsh: error: $name is run by virt-omem, which is not in PATH; install omem's virt-omem or add its directory to PATH" >&2
        return 127
    fi
    # virsh's own fallback when no -c is given (virsh(1), ENVIRONMENT);
    # virt-omem then falls back to libvirt's default as virsh does.
    if [[ -n $_omem_virsh_uri_given ]]; then
        connect=(-c "$_omem_virsh_uri")
    elif [[ -n ${VIRSH_DEFAULT_CONNECT_URI-} ]]; then
        connect=(-c "$VIRSH_DEFAULT_CONNECT_URI")
    fi
    # -q drops setmem-outsourced's confirmation line, as virsh -q drops
    # its commands' informational messages; notes, progress and errors
    # are on stderr and stay.  dommemstat-outsourced's output is its
    # result, which virsh -q keeps for dommemstat too.
    if [[ -n $_omem_virsh_quiet && ${words[0]} == setmem-outsourced ]]; then
        command virt-omem "${connect[@]}" "${words[@]}" >/dev/null
    else
        command virt-omem "${connect[@]}" "${words[@]}"
    fi
}

# ---------------------------------------------------------- completion

# _omem_virsh_complete: virsh's bash completion, with omem's commands'
# arguments completed by virt-omem's completion (loaded on first use from
# bash-completion's directories) and everything else by virsh's own.
_omem_virsh_complete()
{
    local cur prev words cword command_at=-1
    local _omem_virsh_next _omem_virsh_uri _omem_virsh_uri_given _omem_virsh_quiet
    local _omem_virsh_refused _omem_virsh_target _omem_virsh_long_match

    # Where is the command word?  Unknown (-1) when the options before
    # the cursor are not ones virsh would run a command with.
    if declare -F _init_completion >/dev/null && _init_completion -n := &&
        _omem_virsh_parse "${words[@]:1:cword-1}"; then
        command_at=$((_omem_virsh_next + 1))
    fi
    if ((command_at > 0 && command_at < cword)) &&
        _omem_virsh_command_of "${words[command_at]}"; then
        _omem_virsh_load virt-omem _virt_omem_complete_command || return 0
        # No file names where omem's commands take none.
        compopt +o default +o filenames 2>/dev/null
        _virt_omem_complete_command "$_omem_virsh_uri" "$_omem_virsh_target" "$command_at"
        return 0
    fi

    _omem_virsh_real_completion "$@"
    # The command word itself: omem's commands join virsh's.
    if ((command_at == cword)) && [[ $cur != -* ]]; then
        local name
        for name in $_omem_virsh_commands; do
            [[ $name == "$cur"* ]] && COMPREPLY+=("$name")
        done
    fi
    return 0
}

# _omem_virsh_load COMMAND FUNCTION: make sure FUNCTION, from COMMAND's
# bash completion, is defined.
_omem_virsh_load()
{
    declare -F "$2" >/dev/null && return 0
    if declare -F _comp_load >/dev/null; then
        _comp_load "$1" >/dev/null 2>&1
    elif declare -F __load_completion >/dev/null; then
        __load_completion "$1" >/dev/null 2>&1
    fi
    declare -F "$2" >/dev/null
}

# _omem_virsh_real_completion ARGS: run virsh's own completion function,
# loading it first if bash-completion has not yet; loading it registers
# it for virsh, so ours is registered again with virsh's options.
_omem_virsh_real_completion()
{
    if [[ -z ${_omem_virsh_real_function-} ]]; then
        local spec
        if declare -F _comp_load >/dev/null; then
            _comp_load virsh >/dev/null 2>&1
        elif declare -F __load_completion >/dev/null; then
            __load_completion virsh >/dev/null 2>&1
        fi
        spec=$(complete -p virsh 2>/dev/null)
        _omem_virsh_wrap "$spec" || return 0
    fi
    "$_omem_virsh_real_function" "$@"
}

# _omem_virsh_wrap SPEC: SPEC is `complete -p virsh`; if it is someone
# else's function, remember it and register ours with SPEC's options.
_omem_virsh_wrap()
{
    local -a spec
    local i
    read -r -a spec <<<"$1"
    for ((i = 1; i + 1 < ${#spec[@]}; i++)); do
        if [[ ${spec[i]} == -F ]]; then
            [[ ${spec[i + 1]} != _omem_virsh_complete ]] || return 1
            _omem_virsh_real_function=${spec[i + 1]}
            spec[i + 1]=_omem_virsh_complete
            "${spec[@]}"
            return 0
        fi
    done
    return 1
}

# Wrap virsh's completion now if bash-completion has already loaded it,
# else register ours with the options of virsh's own file.
_omem_virsh_wrap "$(complete -p virsh 2>/dev/null)" ||
    complete -o default -o filenames -F _omem_virsh_complete virsh
