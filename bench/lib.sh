# bench/lib.sh — what the benchmarks share: options, the machine line, and
# writing a result section into docs/benchmarks.md.  Sourced after
# tests/lib/guest.sh and tests/lib/omem.sh.
#
# A benchmark prints its result as a Markdown section on stdout.  With
# --write it also replaces its own section of docs/benchmarks.md, the part
# between "<!-- bench:NAME begin -->" and "<!-- bench:NAME end -->", so each
# benchmark updates its table in place and leaves the others alone.
# shellcheck shell=bash

BENCH_WRITE=0
BENCH_DOC=$top_srcdir/docs/benchmarks.md

# bench_machine: one line describing where the figures were measured.
bench_machine() {
    local cpu cores mem qemu libvirt kernel
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    cores=$(nproc)
    mem=$(awk '$1 == "MemTotal:" { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
    qemu=$(qemu-system-x86_64 --version 2>/dev/null | sed -n '1s/^QEMU emulator version \([^ ]*\).*/\1/p')
    libvirt=$(virsh -v 2>/dev/null)
    kernel=$(uname -r)
    echo "$cpu, $cores cores, $mem; host kernel $kernel; QEMU $qemu (TCG); libvirt $libvirt"
}

# bench_write_section NAME FILE: put FILE's contents between NAME's markers
# in docs/benchmarks.md (appended at the end when the markers are missing).
bench_write_section() {
    local name=$1 file=$2 begin end
    begin="<!-- bench:$name begin -->"
    end="<!-- bench:$name end -->"
    if ! grep -qF -- "$begin" "$BENCH_DOC" 2>/dev/null; then
        printf '\n%s\n%s\n' "$begin" "$end" >>"$BENCH_DOC"
    fi
    "$OMEM_PYTHON" - "$BENCH_DOC" "$begin" "$end" "$file" <<'EOF'
import sys
doc, begin, end, section = sys.argv[1:5]
text = open(doc).read()
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
body = open(section).read().rstrip("\n")
open(doc, "w").write(head + begin + "\n" + body + "\n" + end + tail)
EOF
}

# bench_say TEXT: progress on stderr (stdout carries the result).
bench_say() {
    printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2
}

bench_die() {
    bench_say "error: $*"
    exit 1
}

# bench_parse_steps RUN VM INTERVAL: the growth steps of a job log that the
# guest's `stamped` helper wrote (each line led by the guest's uptime) as
# tab-separated rows RUN VM job INDEX DURATION_MS, the step interval
# memload pauses (INTERVAL ms) taken out; a "burst" line or the start
# begins a ramp.
bench_parse_steps() {
    awk -v run="$1" -v vm="$2" -v interval="$3" '
        $2 == "start" || $2 == "burst" { last = $1; k = 0; growing = 1; next }
        $2 == "memload:" && $3 == "held" && growing {
            d = ($1 - last) * 1000 - (k > 0 ? interval : 0)
            printf "%s\t%s\tjob\t%d\t%.0f\n", run, vm, idx++, d < 0 ? 0 : d
            last = $1; k++; next }
        $2 == "memload:" && ($3 == "holding" || $3 == "releasing" || $3 == "failed") { growing = 0 }'
}

# bench_guest_missing: what a benchmark on real omem guests needs and this
# machine lacks, as "; "-separated names (empty when nothing is missing):
# root, a libvirtd that answers, a guest kernel, the module, omemd,
# memload and python3-libvirt (for bench/overcommit-agent.py).
bench_guest_missing() {
    local missing=
    [ "$(id -u)" = 0 ] || missing="$missing; root (qemu:///system)"
    omem_virsh version >/dev/null 2>&1 || missing="$missing; a libvirtd that answers (ci/libvirtd start)"
    ls /boot/vmlinuz-* >/dev/null 2>&1 || missing="$missing; a guest kernel (linux-image-amd64)"
    [ -e "$top_builddir/guest-client/omem_client.ko" ] || missing="$missing; guest-client/omem_client.ko (make)"
    [ -x "$OMEMD" ] || missing="$missing; $OMEMD (make)"
    [ -x "$top_builddir/tests/guest/memload" ] || missing="$missing; tests/guest/memload (make)"
    "$OMEM_PYTHON" -c 'import libvirt' 2>/dev/null || missing="$missing; python3-libvirt"
    echo "${missing#; }"
}
