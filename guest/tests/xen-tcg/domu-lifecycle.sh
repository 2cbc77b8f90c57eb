#!/bin/sh
# domU /init: netfront + xen-netaccel smoke test
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
echo 8 > /proc/sys/kernel/printk
say() { echo "DOMU $*"; }
A=/sys/bus/xen/devices/netaccel-0
waitfor() { # file value timeout_s
  i=0; while [ "$(cat $1 2>/dev/null)" != "$2" ] && [ $i -lt $(($3*2)) ]; do sleep 0.5; i=$((i+1)); done
  [ "$(cat $1 2>/dev/null)" = "$2" ] && say "waited $1=$2" || say "TIMEOUT waiting $1=$2 (is $(cat $1 2>&1))"
}
insmod /lib/modules/xen-netfront.ko
i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i+1)); done
ip addr add 10.9.0.2/24 dev eth0; ip link set eth0 up; sleep 2
say "eth0 $(cat /sys/class/net/eth0/operstate) mac $(cat /sys/class/net/eth0/address)"
ping -c 2 -W 2 10.9.0.1 >/dev/null 2>&1 && say "PING-BEFORE ok" || say "PING-BEFORE fail"
insmod /lib/modules/xen-netaccel.ko dyndbg=+p && say "INSMOD ok" || say "INSMOD fail"
# phase 1: the device appears, we set up for generation 1, 2, 3 (dom0 drives)
waitfor $A/accel/generation 3 120
for f in state netdev hooked num_vis fast_flows generation link layout; do say "accel/$f: $(cat $A/accel/$f 2>&1)"; done
say "stats: $(ls $A/stats | wc -l) files; connects=$(cat $A/stats/connects) setup_errors=$(cat $A/stats/setup_errors) tx_slow_packets=$(cat $A/stats/tx_slow_packets)"
# traffic through the (pass-through) hook, and netdev stats through our ndo_get_stats64
ping -c 5 -i 0.2 -W 2 10.9.0.1 >/dev/null 2>&1 && say "PING-HOOKED ok" || say "PING-HOOKED fail"
say "eth0 tx_packets=$(cat /sys/class/net/eth0/statistics/tx_packets) rx_packets=$(cat /sys/class/net/eth0/statistics/rx_packets)"
# unload under traffic
ping -i 0.05 -W 1 10.9.0.1 >/dev/null 2>&1 &
PP=$!
sleep 2
echo netaccel-0 > /sys/bus/xen/drivers/netaccel/unbind && rmmod xen-netaccel && say "RMMOD ok" || say "RMMOD fail"
sleep 1; kill $PP
ping -c 3 -W 2 10.9.0.1 >/dev/null 2>&1 && say "PING-AFTER-RMMOD ok" || say "PING-AFTER-RMMOD fail"
# reload: dom0 brings the backend to InitWait generation 4
insmod /lib/modules/xen-netaccel.ko dyndbg=+p && say "REINSMOD ok" || say "REINSMOD fail"
waitfor $A/accel/generation 4 120
say "accel/state after reload: $(cat $A/accel/state) hooked=$(cat $A/accel/hooked) netdev=$(cat $A/accel/netdev)"
# netfront goes away and comes back
echo vif-0 > /sys/bus/xen/drivers/vif/unbind && say "NETFRONT-RMMOD ok" || say "NETFRONT-RMMOD fail"
say "accel/netdev without netfront: '$(cat $A/accel/netdev)'"
echo vif-0 > /sys/bus/xen/drivers/vif/bind
i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i+1)); done
sleep 2
ip addr add 10.9.0.2/24 dev eth0; ip link set eth0 up; sleep 3
ping -c 3 -W 2 10.9.0.1 >/dev/null 2>&1 && say "PING-REPAIRED ok" || say "PING-REPAIRED fail"
say "accel/netdev after netfront reload: '$(cat $A/accel/netdev)'"
echo netaccel-0 > /sys/bus/xen/drivers/netaccel/unbind && rmmod xen-netaccel && say "RMMOD2 ok" || say "RMMOD2 fail"
say "DMESG-BEGIN"; dmesg | grep -iE "netaccel|netfront|vif|BUG|WARN|Oops|RIP|Call Trace|rcu|lock" ; say "DMESG-END"
say "DONE"
sleep 1
poweroff -f
