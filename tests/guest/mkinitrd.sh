#!/bin/bash
# mkinitrd.sh [--kver KVER] [--memload FILE] [--client-module FILE] OUTDIR
#
# Builds the omem test guest's boot files into OUTDIR:
#   OUTDIR/initrd.gz  gzip'd cpio (newc): busybox-static and its applet
#                     links, tests/guest/init as /init, the static memload,
#                     Debian's virtio modules (virtio_pci, virtio_mem,
#                     virtio_balloon, virtio_blk and
#                     their dependencies, decompressed), and the project's
#                     omem_client.ko when it has been built
#   OUTDIR/vmlinuz    a copy of /boot/vmlinuz-KVER
# QEMU runs as libvirt-qemu, so OUTDIR and both files are made world
# readable; put OUTDIR where libvirt-qemu can traverse (e.g. under
# /var/tmp/omem-tests/, not under /root).
#
# Nothing is rebuilt when no input changed (checksums of every input are
# kept in OUTDIR/inputs.sha256); concurrent runs serialise on a lock.
#
# Defaults: KVER is the newest 6.1.*-amd64 whose modules and kernel are
# installed; memload is $top_builddir/tests/guest/memload and the client
# module $top_builddir/guest-client/omem_client.ko, top_builddir being the
# environment's or this checkout's top.
set -euo pipefail

prog=mkinitrd.sh
die() { echo "$prog: $*" >&2; exit 1; }

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
builddir=${top_builddir:-$(cd "$srcdir/../.." && pwd)}

kver=
memload=$builddir/tests/guest/memload
client_module=$builddir/guest-client/omem_client.ko
outdir=
while [ $# -gt 0 ]; do
    case $1 in
        --kver) kver=${2:?--kver needs a value}; shift 2 ;;
        --memload) memload=${2:?--memload needs a file}; shift 2 ;;
        --client-module) client_module=${2:?--client-module needs a file}; shift 2 ;;
        -h|--help) sed -n '2,20s/^# \{0,1\}//p' "$0"; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) [ -z "$outdir" ] || die "only one OUTDIR, got '$outdir' and '$1'"
           outdir=$1; shift ;;
    esac
done
[ -n "$outdir" ] || die "usage: $prog [--kver KVER] [--memload FILE] [--client-module FILE] OUTDIR"

# The guest kernel: Debian's 6.1 flavour the FACTS were measured on.
if [ -z "$kver" ]; then
    for dir in $(ls -d /lib/modules/6.1.*-amd64 2>/dev/null | sort -V); do
        k=${dir##*/}
        [ -d "$dir/kernel" ] && [ -r "/boot/vmlinuz-$k" ] && kver=$k
    done
    [ -n "$kver" ] || die "no Debian 6.1 amd64 kernel with modules under /lib/modules and /boot; install linux-image-amd64 (ci/install-deps)"
fi
kernel=/boot/vmlinuz-$kver
[ -r "$kernel" ] || die "$kernel not readable; install linux-image-$kver"
[ -d "/lib/modules/$kver" ] || die "/lib/modules/$kver missing; install linux-image-$kver"

busybox=/bin/busybox
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
    die "$busybox is not the static busybox; install busybox-static"
[ -x "$memload" ] || die "$memload not built; run 'make -C tests guest/memload' in the build tree"
file -L "$memload" | grep -q 'statically linked' || die "$memload is not statically linked"
init=$srcdir/init
[ -r "$init" ] || die "$init missing"

# Modules in load order, dependencies first, each once.  modprobe resolves
# the order from modules.dep; "builtin" lines need no file.
wanted="virtio_pci virtio_mem virtio_balloon virtio_blk"
modules=()
while read -r verb path _; do
    case $verb in
        insmod) ;;
        error) modules+=("error $path"); continue ;;
        *) continue ;;
    esac
    for m in "${modules[@]:+${modules[@]}}"; do [ "$m" = "$path" ] && continue 2; done
    modules+=("$path")
done < <(for module in $wanted; do
             # One module per call: modprobe reads further words as parameters.
             modprobe -S "$kver" --show-depends "$module" ||
                 echo "error $module"
         done)
for path in "${modules[@]}"; do
    [ "${path#error}" = "$path" ] || die "modprobe cannot resolve ${path#error } for $kver; run depmod $kver"
done
[ "${#modules[@]}" -gt 0 ] || die "no module files found for '$wanted' in /lib/modules/$kver"

inputs=("$0" "$init" "$busybox" "$memload" "$kernel" "${modules[@]}")
[ -e "$client_module" ] && inputs+=("$client_module")

mkdir -p "$outdir"
chmod 0755 "$outdir"
exec 9>"$outdir/.lock"
flock 9

manifest=$(printf 'kver %s\n' "$kver"; sha256sum "${inputs[@]}")
if [ -s "$outdir/initrd.gz" ] && [ -s "$outdir/vmlinuz" ] &&
   [ "$manifest" = "$(cat "$outdir/inputs.sha256" 2>/dev/null)" ]; then
    echo "$prog: $outdir is up to date ($kver)"
    exit 0
fi

staging=$(mktemp -d "$outdir/.staging.XXXXXX")
trap 'rm -rf "$staging"' EXIT
root=$staging/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,lib/modules,root,etc}

cp "$busybox" "$root/bin/busybox"
# Applet links: "busybox --list-full" gives paths like usr/bin/awk.
for applet in $("$busybox" --list-full); do
    [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
install -m 0755 "$init" "$root/init"
install -m 0755 "$memload" "$root/bin/memload"

# Decompress whatever compression Debian used (6.1 ships plain .ko).
copy_module() {
    local src=$1 dst=$2
    case $src in
        *.ko) cp "$src" "$dst" ;;
        *.ko.xz) xz -dc "$src" >"$dst" ;;
        *.ko.zst) zstd -qdc "$src" >"$dst" ;;
        *.ko.gz) gzip -dc "$src" >"$dst" ;;
        *) die "unknown module file type: $src" ;;
    esac
}
: >"$root/lib/modules/load.order"
for path in "${modules[@]}"; do
    name=${path##*/}
    name=${name%%.ko*}
    copy_module "$path" "$root/lib/modules/$name.ko"
    echo "$name" >>"$root/lib/modules/load.order"
done
if [ -e "$client_module" ]; then
    cp "$client_module" "$root/lib/modules/omem_client.ko"
    client_note=", with omem_client.ko"
else
    client_note=", without omem_client.ko"
fi

# Sorted names, fixed owner and gzip without a timestamp: the same inputs
# give the same image.
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0) | gzip -6 -n >"$staging/initrd.gz"
cp "$kernel" "$staging/vmlinuz"
chmod 0644 "$staging/initrd.gz" "$staging/vmlinuz"
mv -f "$staging/initrd.gz" "$outdir/initrd.gz"
mv -f "$staging/vmlinuz" "$outdir/vmlinuz"
printf '%s\n' "$manifest" >"$outdir/inputs.sha256"
echo "$prog: built $outdir/initrd.gz ($kver, ${#modules[@]} modules$client_note)"
