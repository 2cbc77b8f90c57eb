# Shared by the real-Xen test (tests/xen/run) and benchmark
# (tests/xen/bench): Debian's Xen 4.17 with a 6.1 PV dom0 and PV domUs,
# all under Debian's stock qemu-system-x86_64 (TCG, no KVM).  Sourced by
# bash with TOP, HERE, OUT and CACHE set; every function dies with a
# "$XEN_WHAT: ..." message and a "0 passed, 1 failed" line.
XENBIN=/usr/lib/xen-4.17/bin

die() {
    echo "$XEN_WHAT: $*" >&2
    echo "$XEN_WHAT: 0 passed, 1 failed"
    exit 1
}

# xen_host_packages PKG...: install what is missing from Debian.
xen_host_packages() {
    local p need=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
            need+=("$p")
    done
    [ ${#need[@]} -gt 0 ] || return 0
    echo "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${need[@]}" > /dev/null ||
        die "apt-get install ${need[*]} failed"
}

# Host tools: the outer QEMU with TCG, Xen's user space for dom0, busybox.
xen_host_tools() {
    [ "$(id -u)" = 0 ] || die "must run as root (xl, dom0 devices and bridges)"
    # qemu-system-xen: libxl's own QEMU in dom0 (a PV domain's qdisk
    # backend), next to which ours must work.
    xen_host_packages qemu-system-x86 qemu-system-xen xen-utils-4.17 \
        busybox-static iproute2 bash
}

# The hypervisor and the 6.1 kernel the module is built for: Debian
# packages, downloaded once and only unpacked (nothing is installed into
# the host's boot).  Sets KV and ROOT.
xen_fetch_debs() {
    local d kdir
    [ -f "$TOP/config.mak" ] || (cd "$TOP" && ./configure)
    kdir=$(sed -n 's/^KDIR_61 := //p' "$TOP/config.mak")
    KV=${kdir##*/linux-headers-}
    ROOT=$CACHE/root-$KV
    [ -f "$ROOT/.done" ] && return 0
    mkdir -p "$CACHE/debs" && rm -rf "$ROOT" && mkdir -p "$ROOT"
    (cd "$CACHE/debs" &&
        { apt-get download -q xen-hypervisor-4.17-amd64 "linux-image-$KV" ||
          { apt-get update -qq && apt-get download -q \
                xen-hypervisor-4.17-amd64 "linux-image-$KV"; }; }) > /dev/null ||
        die "cannot download xen-hypervisor-4.17-amd64 and linux-image-$KV"
    for d in "$CACHE"/debs/xen-hypervisor-4.17-amd64_*.deb \
             "$CACHE/debs/linux-image-${KV}_"*.deb; do
        dpkg-deb -x "$d" "$ROOT"
    done
    touch "$ROOT/.done"
}

# Copy a kernel module and what it depends on into $2/lib/modules.
copy_module() {
    local ko dep
    ko=$(find "$ROOT/lib/modules/$KV" -name "$1.ko" | head -1)
    [ -n "$ko" ] || die "module $1 not in linux-image-$KV"
    cp "$ko" "$2/lib/modules/"
    for dep in $(modinfo -F depends "$ko" | tr , ' '); do
        [ -e "$2/lib/modules/$dep.ko" ] || copy_module "$dep" "$2"
    done
}
# Copy binaries and the shared libraries they load into the root $1.
copy_bins() {
    local r=$1 f
    shift
    for f in "$@"; do
        mkdir -p "$r$(dirname "$f")"
        cp -L "$f" "$r$f"
    done
    copy_libs "$r" "$@"
}
copy_libs() {
    local r=$1 f lib
    shift
    for f in "$@"; do
        ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true
    done | sort -u | while read -r lib; do
        [ -e "$lib" ] || continue
        mkdir -p "$r$(dirname "$lib")"
        cp -L "$lib" "$r$lib"
    done
}
busybox_root() {
    mkdir -p "$1"/{bin,dev,proc,sys,tmp,lib/modules}
    cp /bin/busybox "$1/bin/busybox"
    for a in $(/bin/busybox --list); do
        [ -e "$1/bin/$a" ] || ln -s busybox "$1/bin/$a"
    done
}
pack() { (cd "$1" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$2"; }

# xen_domu_image INIT INITRD BINS...: the domU's initramfs: busybox,
# netfront, our module, the static test BINS, INIT as /init, and the
# programs XEN_DOMU_EXTRA names (absolute paths, with their libraries).
xen_domu_image() {
    local init=$1 initrd=$2 d=$OUT/domu-root
    shift 2
    rm -rf "$d"
    busybox_root "$d"
    copy_module xen-netfront "$d"
    copy_module xen-blkfront "$d"
    cp "$TOP/build/guest-6.1/xen-netaccel.ko" "$d/lib/modules/"
    cp "$@" "$d/bin/"
    # shellcheck disable=SC2086 # a list of paths
    [ -z "${XEN_DOMU_EXTRA:-}" ] || copy_bins "$d" $XEN_DOMU_EXTRA
    cp "$init" "$d/init"
    pack "$d" "$initrd"
}

# xen_dom0_root INIT BINS...: dom0's root in $OUT/dom0-root (R): Xen's
# user space, the kernel modules, our part installed as a user installs
# it, the static test BINS in /usr/bin and INIT as /init.  The caller
# adds domain configs and the domU images, then calls xen_dom0_image.
xen_dom0_root() {
    local init=$1
    shift
    R=$OUT/dom0-root
    rm -rf "$R"
    busybox_root "$R"
    mkdir -p "$R"/{usr/bin,usr/sbin,sbin,run,etc/xen,var/lib/xen,var/log/xen,boot}
    ln -s ../run "$R/var/run"
    # (sch_multiq, cls_u32, act_skbedit: the peer's flow steering, tc)
    for m in xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc xen-netback \
             tun bridge veth sch_multiq cls_u32 act_skbedit; do
        copy_module $m "$R"
    done
    # Xen's user space (libxl-save-helper for xl save and restore), bash
    # and iproute2 (ip, tc) for the hotplug scripts, netns and steering.
    rm -f "$R/bin/ip" "$R/bin/bash" "$R/bin/sh"
    ln -s busybox "$R/bin/sh"
    copy_bins "$R" $XENBIN/xl $XENBIN/xenstored $XENBIN/xenconsoled \
        $XENBIN/xen-init-dom0 $XENBIN/libxl-save-helper /usr/libexec/xen-qemu-system-i386 \
        /usr/bin/xenstore* /bin/bash \
        /bin/ip /usr/sbin/tc /usr/bin/flock /usr/sbin/ethtool
    # For libxl's own QEMU: a keymap; for an HVM guest's device model
    # also hvmloader, SeaBIOS and the option ROMs for direct kernel boot
    # (tests/xen/run --hvm).
    mkdir -p "$R/usr/lib/xen-4.17/boot" "$R/usr/share/seabios" "$R/usr/share/qemu/keymaps"
    # (libxl's QEMU reads a keymap even with -vnc none)
    cp -L /usr/share/qemu/keymaps/en-us "$R/usr/share/qemu/keymaps/"
    cp /usr/lib/xen-4.17/boot/hvmloader "$R/usr/lib/xen-4.17/boot/"
    cp -L /usr/share/seabios/bios-256k.bin "$R/usr/share/seabios/"
    cp -L /usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/linuxboot.bin "$R/usr/share/qemu/"
    cp "$@" "$R/usr/bin/"
    ln -sf /bin/ip "$R/sbin/ip"
    cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 "$R/lib/x86_64-linux-gnu/"
    cp -a /etc/xen/scripts "$R/etc/xen/"
    [ -f /etc/xen/xl.conf ] && cp /etc/xen/xl.conf "$R/etc/xen/"
    # Our part, exactly as a user installs it.
    make -s -C "$TOP" install DESTDIR="$R" > /dev/null
    copy_libs "$R" "$R/usr/local/lib/xen-net-accel/qemu-system-x86_64" \
        "$R/usr/local/lib/xen-net-accel/xna-afxdp-helper" \
        "$R/usr/local/lib/xen-net-accel/xna-qmp"
    mkdir -p "$R/lib/xna"
    cp "$HERE/dom0-lib.sh" "$R/lib/xna/"
    cp "$init" "$R/init"
}

# A PV domU config: xen_domu_cfg NAME MAC BRIDGE SCRIPT CMDLINE-EXTRA
xen_domu_cfg() {
    cat <<EOF2
name = "$1"
type = "pv"
kernel = "/boot/vmlinux"
ramdisk = "/boot/domu-initrd.gz"
extra = "console=hvc0 rdinit=/init quiet$5"
memory = 256
vcpus = 2
on_poweroff = "destroy"
on_crash = "destroy"
on_reboot = "destroy"
vif = [ 'mac=$2, bridge=$3$4' ]
EOF2
}

# dom0's kernel in /boot, its initramfs, and Xen itself.
xen_dom0_image() {
    if [ ! -s "$CACHE/vmlinux-$KV" ]; then
        # An uncompressed ELF kernel boots faster under TCG than the bzImage.
        python3 -c '
import lzma, sys
d = open(sys.argv[1], "rb").read()
o = d.find(b"\xfd7zXZ\x00")
open(sys.argv[2], "wb").write(lzma.LZMADecompressor().decompress(d[o:]))' \
            "$ROOT/boot/vmlinuz-$KV" "$CACHE/vmlinux-$KV"
    fi
    cp "$CACHE/vmlinux-$KV" "$R/boot/vmlinux"
    pack "$R" "$OUT/dom0-initrd.gz"
    zcat "$ROOT"/boot/xen-4.17-amd64.gz > "$OUT/xen"
}

# xen_boot TIMEOUT MEM DOM0-CMDLINE-EXTRA: boot Xen + dom0 in the
# background, console to $OUT/console.log; sets QPID.  XEN_ACCEL, XEN_CPU
# and XEN_CMDLINE_EXTRA (appended to Xen's command line) change the machine.
# dom0 ends the outer QEMU through isa-debug-exit: 33 = pass, 65 = fail.
xen_boot() {
    timeout -k 10 "$1" qemu-system-x86_64 -accel "${XEN_ACCEL:-tcg}" -cpu "${XEN_CPU:-qemu64,+svm}" \
        -m "$2" -smp 2 -display none -serial stdio -monitor none -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -kernel "$OUT/xen" \
        -append "console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=2 loglvl=warning${XEN_CMDLINE_EXTRA:+ $XEN_CMDLINE_EXTRA}" \
        -initrd "$CACHE/vmlinux-$KV console=hvc0 rdinit=/init quiet$3,$OUT/dom0-initrd.gz" \
        < /dev/null > "$OUT/console.log" 2>&1 &
    QPID=$!
}
