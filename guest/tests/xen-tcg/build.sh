#!/bin/bash
# Builds the dom0 and domU initramfs of a xen-netaccel smoke test; see README.md.
# Environment: S (work dir of the recipe's setup.sh), RECIPE, KO, TEST (lifecycle|fastpath).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
S=${S:?S must be the work directory of the xen-under-tcg setup}
R0=${RECIPE:?RECIPE must be the xen-under-tcg recipe directory}
TEST=${TEST:-lifecycle}
KV=$(ls $S/root/lib/modules | head -1)
ROOT=$S/root
MODDIR=$ROOT/lib/modules/$KV/kernel
XENBIN=/usr/lib/xen-4.17/bin
KO=${KO:-$HERE/../../../build/guest-6.1/xen-netaccel.ko}
mkdir -p $S/boot
D=$S/domu-rootfs
rm -rf $D; mkdir -p $D/{bin,dev,proc,sys,lib/modules}
cp /bin/busybox $D/bin/busybox
for a in sh echo cat mount poweroff sleep uname insmod rmmod ls head ip ping kill dmesg grep wc nc md5sum cut mkdir; do ln -sf busybox $D/bin/$a; done
cp $MODDIR/drivers/net/xen-netfront.ko $D/lib/modules/
cp $KO $D/lib/modules/xen-netaccel.ko
mknod -m 600 $D/dev/console c 5 1
mknod -m 666 $D/dev/null c 1 3
cp $HERE/domu-$TEST.sh $D/init
cp $S/udpecho $D/bin/udpecho; chmod +x $D/init
(cd $D && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) > $S/boot/domu-initrd.gz

R=$S/dom0-rootfs
rm -rf $R
mkdir -p $R/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,etc/xen,var/lib/xen,var/log/xen,var/lock,lib/modules,boot,lib64,lib/x86_64-linux-gnu}
ln -s ../run $R/var/run
cp /bin/busybox $R/bin/busybox
for a in $(/bin/busybox --list); do [ -e $R/bin/$a ] || ln -s busybox $R/bin/$a; done
mkdir -p $R$XENBIN
for b in xl xenstored oxenstored xenconsoled xen-init-dom0 xenconsole lsevtchn; do cp -a $XENBIN/$b $R$XENBIN/; done
for b in xenstore xenstore-ls xenstore-read xenstore-write xenstore-list xenstore-exists xenstore-rm xenstore-chmod xenstore-watch xenstore-control; do
  cp -a /usr/bin/$b $R/usr/bin/ 2>/dev/null || true
done
for f in $R$XENBIN/* $R/usr/bin/xenstore*; do
  [ -L "$f" ] && continue
  ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true
done | sort -u | while read -r lib; do
  [ -e "$lib" ] || continue
  mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"
done
cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 $R/lib/x86_64-linux-gnu/
[ -f /etc/xen/xl.conf ] && cp /etc/xen/xl.conf $R/etc/xen/
for m in xen/xen-privcmd.ko xen/xenfs/xenfs.ko xen/xen-evtchn.ko xen/xen-gntdev.ko xen/xen-gntalloc.ko \
         block/xen-blkback/xen-blkback.ko net/xen-netback/xen-netback.ko block/loop.ko net/tun.ko; do
  cp $MODDIR/drivers/$m $R/lib/modules/
done
cp $S/boot/vmlinux $R/boot/vmlinuz 2>/dev/null || cp $ROOT/boot/vmlinuz-$KV $R/boot/vmlinuz
cp $S/boot/domu-initrd.gz $R/boot/domu-initrd.gz
cat > $R/etc/xen/domu2.cfg <<'EOC'
name = "domu2"
type = "pv"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/domu-initrd.gz"
extra = "console=hvc0 rdinit=/init"
memory = 256
vcpus = 2
on_poweroff = "destroy"
on_crash = "destroy"
vif = [ 'mac=00:16:3e:12:34:56, script=/etc/xen/scripts/mini-vif' ]
EOC
mkdir -p $R/etc/xen/scripts
cp $R0/mini-vif $R/etc/xen/scripts/; chmod +x $R/etc/xen/scripts/*
sed 's|^echo "===== xl dmesg (tail)"|. /etc/dom0-test.sh\necho "===== xl dmesg (tail)"|' $R0/dom0-init.sh > $R/init
grep -q dom0-test $R/init
cp $HERE/dom0-$TEST.sh $R/etc/dom0-test.sh
cp $S/xna-minibe $R/usr/bin/
ldd $S/xna-minibe | grep -o '/[^ ]*' | while read -r lib; do mkdir -p "$R$(dirname $lib)"; cp -L "$lib" "$R$lib"; done
chmod +x $R/init
mknod -m 600 $R/dev/console c 5 1
mknod -m 666 $R/dev/null c 1 3
(cd $R && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) > $S/boot/dom0-initrd.gz
zcat $ROOT/boot/xen-4.17-amd64.gz > $S/boot/xen
cp $ROOT/boot/vmlinuz-$KV $S/boot/vmlinuz
[ -s $S/boot/vmlinux ] || python3 -c '
import lzma,sys
d=open(sys.argv[1],"rb").read(); o=d.find(b"\xfd7zXZ\x00")
open(sys.argv[2],"wb").write(lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(d[o:]))' $ROOT/boot/vmlinuz-$KV $S/boot/vmlinux
ls -la $S/boot
