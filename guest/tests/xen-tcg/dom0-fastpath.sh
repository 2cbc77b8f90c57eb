# sourced by dom0 /init: create the netaccel device, run xna-minibe, check the domU's results
xl create /etc/xen/domu2.cfg; rc=$?
check xl-create-domu2 '[ $rc = 0 ]'
D=$(xl domid domu2)
( while [ ! -e /var/log/xen/console/guest-domu2.log ]; do sleep 0.5; done
  tail -f /var/log/xen/console/guest-domu2.log | while IFS= read -r l; do echo "CON| $l"; done ) &
sleep 2
ip addr add 10.9.0.1/24 dev vif$D.0; ip link set vif$D.0 up
FE=/local/domain/$D/device/netaccel/0
BE=/local/domain/0/backend/qnetaccel/$D/0
xenstore-write $BE/frontend $FE $BE/frontend-id $D $BE/online 1 $BE/state 1
xenstore-chmod -r $BE n0 r$D
xenstore-write $FE/backend $BE $FE/backend-id 0 $FE/state 1
xenstore-chmod -r $FE n$D r0
insmod /lib/modules/tun.ko 2>/dev/null
( XNA_TAP=xnatap /usr/bin/xna-minibe $D 10.9.0.2 5001 5002 2>&1; echo "minibe exit $?" ) | while IFS= read -r l; do echo "BE| $l"; echo "$l" >> /tmp/minibe.log; done &
sleep 2
ip link set xnatap address fe:ff:ff:ff:ff:ff up
for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 > $f; done
L=/var/log/xen/console/guest-domu2.log
i=0; while ! grep -q "DOMU TCP-LISTENING" $L 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.5; i=$((i+1)); done
sleep 1
mkfifo /tmp/ff
nc 10.9.0.2 5001 < /tmp/ff > /tmp/recv &
NCP=$!
exec 3> /tmp/ff
i=0; while kill -0 $NCP 2>/dev/null && [ $i -lt 600 ]; do sleep 0.5; i=$((i+1)); done
exec 3>&-
kill $NCP 2>/dev/null
echo "dom0 received $(wc -c < /tmp/recv) bytes, md5 $(md5sum /tmp/recv | cut -d' ' -f1)"
check tcp-stream-intact 'grep -q "DOMU BIGMD5 $(md5sum /tmp/recv | cut -d" " -f1)" $L && [ $(wc -c < /tmp/recv) = 3000000 ]'
echo "xnatap: rx_packets=$(cat /sys/class/net/xnatap/statistics/rx_packets)"
check tcp-via-tap '[ $(cat /sys/class/net/xnatap/statistics/rx_packets) -gt 1000 ]'
i=0
while xl list domu2 >/dev/null 2>&1; do
  i=$((i+1)); [ $i -gt 1200 ] && { echo "domu2 still alive"; xl destroy domu2; break; }
  sleep 0.5
done
sleep 1
L=/var/log/xen/console/guest-domu2.log
for w in PING-BEFORE INSMOD HOOKED ECHO-SMALL ECHO-1400 ECHO-VI1 SLOW-FLOW VI-RESET ECHO-AFTER-RESET ECHO-AFTER-RESTART COUNTERS-MONOTONIC GSO-USED UNBIND-STALLED UNSENT-RESENT ECHO-AFTER-REBIND RMMOD PING-AFTER-RMMOD; do
  check "domu-$w" "grep -q 'DOMU $w ok' $L"
done
check domu-no-oops '! grep -qE "BUG:|Oops|Call Trace|WARNING:|scheduling while atomic" $L'
check domu-done 'grep -q "DOMU DONE" $L'
check minibe-closed 'grep -q "closing" /tmp/minibe.log'
check minibe-exit0 'grep -q "minibe exit 0" /tmp/minibe.log'
