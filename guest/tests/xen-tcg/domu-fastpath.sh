#!/bin/sh
# domU /init: xen-netaccel connected to xna-minibe (UDP echo through the VIs)
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev; mkdir -p /tmp
echo 7 > /proc/sys/kernel/printk
say() { echo "DOMU $*"; }
A=/sys/bus/xen/devices/netaccel-0
waitfor() {
  i=0; while [ "$(cat $1 2>/dev/null)" != "$2" ] && [ $i -lt $(($3*2)) ]; do sleep 0.5; i=$((i+1)); done
  [ "$(cat $1 2>/dev/null)" = "$2" ] && say "waited $1=$2" || say "TIMEOUT waiting $1=$2 (is $(cat $1 2>&1))"
}
st() { for f in "$@"; do printf '%s=%s ' $f "$(cat $A/stats/$f)"; done; echo; }
echo_test() { # name args...
  n=$1; shift
  /bin/udpecho 10.9.0.1 7 "$@" && say "$n ok" || say "$n fail"
}
insmod /lib/modules/xen-netfront.ko
i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i+1)); done
ip addr add 10.9.0.2/24 dev eth0; ip link set eth0 up; sleep 2
ping -c 2 -W 2 10.9.0.1 >/dev/null 2>&1 && say "PING-BEFORE ok" || say "PING-BEFORE fail"
insmod /lib/modules/xen-netaccel.ko && say "INSMOD ok" || say "INSMOD fail"
waitfor $A/accel/state connected 180
for f in state netdev hooked num_vis fast_flows generation link layout; do say "accel/$f: $(cat $A/accel/$f 2>&1)"; done
[ "$(cat $A/accel/hooked)" = 1 ] && say "HOOKED ok" || say "HOOKED fail"
echo_test ECHO-SMALL 5001 300 100
echo_test ECHO-1400 5001 200 1400
echo_test ECHO-VI1 5002 200 1472
say "$(st tx_fast_packets tx_fast_bytes rx_fast_packets tx_slow_packets tx_kicks rx_kicks tx_errors rx_bad_frames rx_dropped rx_no_netdev)"
/bin/udpecho 10.9.0.1 7 5003 20 100 >/dev/null
F=$(cat $A/stats/tx_decline_flow_not_fast)
[ "$F" -ge 15 ] && say "SLOW-FLOW ok ($F declined)" || say "SLOW-FLOW fail ($F)"
say "eth0 tx_packets=$(cat /sys/class/net/eth0/statistics/tx_packets) rx_packets=$(cat /sys/class/net/eth0/statistics/rx_packets)"
# the backend stops the VI that carries this: VI_DOWN, VI_RESET, VI_UP
/bin/udpecho 10.9.0.1 7 5001 1 100 VIDOWN >/dev/null
sleep 3
say "$(st vi_down vi_resets tx_unsent tx_resent)"
[ "$(cat $A/stats/vi_resets)" -ge 1 ] && say "VI-RESET ok" || say "VI-RESET fail"
echo_test ECHO-AFTER-RESET 5001 200 300
# the backend restarts: new generation, full reconnect
/bin/udpecho 10.9.0.1 7 5001 1 100 RESTART >/dev/null
waitfor $A/accel/generation 2 120
waitfor $A/accel/state connected 120
echo_test ECHO-AFTER-RESTART 5001 200 500
say "$(st connects disconnects tx_fast_packets rx_fast_packets tx_unsent tx_resent tx_resend_lost)"
[ "$(cat $A/stats/connects)" = 2 ] && [ "$(cat $A/stats/disconnects)" = 1 ] && say "COUNTERS-MONOTONIC ok" || say "COUNTERS-MONOTONIC fail"
# TCP through the VI (GSO packets segmented by the module) to dom0's stack via a tap
head -c 3000000 /dev/urandom > /tmp/big
say "BIGMD5 $(md5sum /tmp/big | cut -d' ' -f1)"
G0=$(cat $A/stats/tx_gso_segments)
nc -l -p 5001 < /tmp/big > /dev/null &
NC=$!
say "TCP-LISTENING"
i=0; while kill -0 $NC 2>/dev/null && [ $i -lt 240 ]; do sleep 0.5; i=$((i+1)); done
kill $NC 2>/dev/null
say "$(st tx_gso_packets tx_gso_segments tx_gso_fallback tx_decline_offload tx_decline_too_big tx_fast_packets tx_errors)"
[ "$(cat $A/stats/tx_gso_segments)" -gt "$G0" ] && say "GSO-USED ok" || say "GSO-USED fail"
# the backend stops consuming TX: frames stay in the VI; unbinding hands them to netfront
/bin/udpecho 10.9.0.1 7 5001 1 100 STALL >/dev/null
/bin/udpecho 10.9.0.1 7 5001 40 100 >/dev/null
say "$(st tx_fast_packets tx_unsent tx_resent tx_resend_lost)"
echo netaccel-0 > /sys/bus/xen/drivers/netaccel/unbind && say "UNBIND-STALLED ok" || say "UNBIND-STALLED fail"
dmesg | grep -q "disconnected; 40 frames the backend had not sent went through netfront" && say "UNSENT-RESENT ok" || say "UNSENT-RESENT fail"
echo netaccel-0 > /sys/bus/xen/drivers/netaccel/bind
waitfor $A/accel/state connected 120
echo_test ECHO-AFTER-REBIND 5001 100 200
# unbind and unload under fast-path traffic
/bin/udpecho 10.9.0.1 7 5001 3000 200 > /tmp/bg.out 2>&1 &
BG=$!
sleep 1
say "$(st tx_fast_packets tx_unsent tx_resent tx_resend_lost)"
echo netaccel-0 > /sys/bus/xen/drivers/netaccel/unbind && rmmod xen-netaccel && say "RMMOD ok" || say "RMMOD fail"
sleep 1; kill $BG; wait
ping -c 3 -W 2 10.9.0.1 >/dev/null 2>&1 && say "PING-AFTER-RMMOD ok" || say "PING-AFTER-RMMOD fail"
say "UDP: $(grep '^Udp:' /proc/net/snmp | tail -1)"
say "DMESG-BEGIN"; dmesg | grep -iE "netaccel|BUG|WARN|Oops|RIP|Call Trace|rcu|lock|scheduling" ; say "DMESG-END"
say "DONE"
sleep 1
poweroff -f
