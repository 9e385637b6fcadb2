#!/bin/sh
# check-layers.sh SRCDIR BUILDDIR: the layering of host-server/, checked
# (docs/architecture.md, "Layers"):
#  - rpc/, arbiter/ and formats/ include only their own folder's headers
#    (never daemon/ or hook/, nor each other);
#  - hook/ includes only formats/;
#  - daemon/ and hook/ use only libomem-virt's public header;
#  - arbiter/ and formats/ link no libvirt, no socket and no file code
#    (their objects' undefined symbols, read with nm).
# Prints one line per breach and exits 1 if there is any.
set -u
src=$1
build=$2
nm=${NM:-nm}
status=0

breach() {
    echo "check-layers: $*" >&2
    status=1
}

# includes_outside FOLDER ALLOWED...: quoted includes of FOLDER's files
# that name neither a folder in ALLOWED nor a header ALLOWED names
# ("config.h", the wire header omem/rpc.h and the size grammar omem-size.h
# are every part's).
includes_outside() {
    folder=$1
    shift
    for file in "$src/$folder"/*.[ch]; do
        [ -e "$file" ] || continue
        sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file" |
        while read -r header; do
            case "$header" in
                config.h|omem/*|omem-size.h) continue ;;
            esac
            allowed=no
            for ok in "$@"; do
                case "$header" in "$ok"/*|"$ok") allowed=yes ;; esac
            done
            case "$header" in
                */*|omem-virt.h) ;;
                *) [ "$allowed" = yes ] || { echo "$file: #include \"$header\" without its folder"; continue; } ;;
            esac
            [ "$allowed" = yes ] || echo "$file: #include \"$header\" crosses into another part"
        done
    done
}

for rule in "rpc rpc" "arbiter arbiter" "formats formats" "hook formats omem-virt.h" \
            "daemon rpc arbiter formats daemon omem-virt.h"; do
    # shellcheck disable=SC2086
    out=$(includes_outside $rule)
    [ -z "$out" ] || breach "$out"
done

# omemd and the hook are clients of libomem-virt like any other program.
out=$(grep -l 'omem-virt-internal\.h' "$src"/daemon/*.[ch] "$src"/hook/*.[ch] 2>/dev/null)
[ -z "$out" ] || breach "libomem-virt's internal header used by: $out"

# Undefined symbols of the pure libraries' objects: nothing from libvirt,
# no socket calls, no file or process I/O.
forbidden='^(vir[A-Z].*|socket|socketpair|bind|listen|accept4?|connect|send(msg|to)?|recv(msg|from)?|open(at)?|fopen|read|write|g_socket_.*|g_file_get_contents|g_key_file_load_from_file|g_spawn_.*)$'
for lib in arbiter/libomem-arbiter formats/libomem-formats; do
    archive="$build/$(dirname "$lib")/.libs/$(basename "$lib").a"
    if [ ! -f "$archive" ]; then
        breach "$archive is missing: build first"
        continue
    fi
    out=$("$nm" -u "$archive" 2>/dev/null | awk '{ print $NF }' | grep -E "$forbidden" | sort -u | tr '\n' ' ')
    [ -z "$out" ] || breach "$lib links $out(pure parts do no I/O)"
done

exit $status
