# Sourced by dom0's /init in the real-Xen test and benchmark
# (tests/xen/dom0-init, tests/xen/dom0-bench): mounts, the Xen toolstack,
# checks, the peer's network namespace and the exit through
# isa-debug-exit (33 = pass, 65 = fail).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/xen-4.17/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/xen /run/xenstored /run/netns /var/lib/xen /var/log/xen/console /var/lock

PASS=0
FAIL=0
check() {
    if eval "$2"; then
        PASS=$((PASS + 1)); echo "CHECK ok   $1"
    else
        FAIL=$((FAIL + 1)); echo "CHECK FAIL $1"
    fi
}
say() { echo "DOM0 $*"; }
# The outer QEMU's exit status: 33 when every check passed.
debug_exit() {
    sync
    if [ $FAIL = 0 ] && [ $PASS -gt 0 ]; then v='\020'; else v='\040'; fi
    printf "$v" | dd of=/dev/port bs=1 seek=244 count=1 2> /dev/null
    reboot -f
}
opt() {
    for w in $(cat /proc/cmdline); do
        case "$w" in "$1"=*) echo "${w#*=}"; return ;; esac
    done
    echo "$2"
}
# iproute2 (busybox's ip has no netns; its sh runs applets before PATH)
ip() { /bin/ip "$@"; }
peer() { /bin/ip netns exec peer "$@"; }

# Xen's dom0 services, the kernel modules of the backends and bridges.
toolstack_start() {
    for m in xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc xen-netback \
             tun llc stp bridge veth; do
        insmod /lib/modules/$m.ko || say "insmod $m failed"
    done
    mount -t xenfs xenfs /proc/xen
    export XENSTORED_ROOTDIR=/run/xenstored
    xenstored --pid-file /run/xenstored.pid
    xen-init-dom0 > /dev/null
    xenconsoled --pid-file=/run/xenconsoled.pid --log=guest \
        --log-dir=/var/log/xen/console
    check toolstack 'xl info > /tmp/xlinfo && grep -q "xen_version *: 4.17" /tmp/xlinfo'
    ip link set lo up
    ip netns add peer
    peer ip link set lo up
}
