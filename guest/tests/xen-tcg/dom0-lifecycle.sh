# sourced by dom0 /init after xenstored, xen-init-dom0 and xenconsoled are up
D=""
fe_state() { xenstore-read $FE/state 2>/dev/null; }
wait_fe() { # state timeout_s
  i=0; while [ "$(fe_state)" != "$1" ] && [ $i -lt $(($2*2)) ]; do sleep 0.5; i=$((i+1)); done
  [ "$(fe_state)" = "$1" ]
}
be() { xenstore-write $BE/$1 "$2"; }
mark netaccel-start
losetup /dev/loop0 /tmp/disk.img 2>/dev/null
xl create /etc/xen/domu2.cfg; rc=$?
check xl-create-domu2 '[ $rc = 0 ]'
D=$(xl domid domu2)
echo "domU id $D"
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
MAC=$(xenstore-read /local/domain/$D/device/vif/0/mac)
echo "vif mac $MAC"
set_keys() { # generation
  be protocol-version 1; be generation $1; be max-vis 2; be max-filters 64
  be max-tx-ring-entries 512; be max-rx-ring-entries 512; be max-pool-pages 4096
  be mac $MAC; be vif 0; be nic loopback; be mtu 1500
  be feature-csum-offload 1; be feature-sg 1
}
set_keys 1; be state 2
check fe-initialised-gen1 'wait_fe 3 240'
echo "===== frontend keys (gen 1)"; xenstore-ls -f $FE | sed 's/^/FEKEY /'
check fe-generation-1 '[ "$(xenstore-read $FE/generation)" = 1 ]'
check fe-num-vis '[ -n "$(xenstore-read $FE/num-vis)" ]'
check fe-vi0-keys 'xenstore-exists $FE/vi-0/shared-ref && xenstore-exists $FE/vi-0/tx-ring-ref-0 && xenstore-exists $FE/vi-0/rx-ring-ref-0 && xenstore-exists $FE/vi-0/event-channel'
check fe-pool-dir 'xenstore-exists $FE/pool-dir-ref-0'
# backend Connected: the frontend sends HELLO (nobody answers) and stays Initialised
be state 4; sleep 3
check fe-stays-initialised '[ "$(fe_state)" = 3 ]'
# backend restart: new generation, InitWait
set_keys 2; be state 2
i=0; while [ "$(xenstore-read $FE/generation)" != 2 ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i+1)); done
check fe-regranted-gen2 '[ "$(xenstore-read $FE/generation)" = 2 ] && [ "$(fe_state)" = 3 ]'
# Closing -> frontend Closed; Closed -> frontend Initialising; InitWait gen 3
be state 5
check fe-closed-after-closing 'wait_fe 6 60'
be state 6
check fe-initialising-after-closed 'wait_fe 1 60'
set_keys 3; be state 2
check fe-initialised-gen3 'wait_fe 3 120 && [ "$(xenstore-read $FE/generation)" = 3 ]'
# the domU pings, then rmmods: the frontend goes Closing (waits 2 s for us) then Closed
check fe-closed-on-rmmod 'wait_fe 6 240'
be state 6
# after the reload it announces Initialising; offer generation 4
check fe-initialising-on-reload 'wait_fe 1 120'
set_keys 4; be state 2
check fe-initialised-gen4 'wait_fe 3 120 && [ "$(xenstore-read $FE/generation)" = 4 ]'
check fe-closed-on-rmmod2 'wait_fe 6 300'
i=0
while xl list domu2 >/dev/null 2>&1; do
  i=$((i+1)); [ $i -gt 400 ] && { echo "domu2 still alive"; xl destroy domu2; break; }
  sleep 0.5
done
echo "===== domu2 console log"; cat /var/log/xen/console/guest-domu2.log
L=/var/log/xen/console/guest-domu2.log
for w in PING-BEFORE INSMOD PING-HOOKED RMMOD PING-AFTER-RMMOD REINSMOD NETFRONT-RMMOD RMMOD2; do
  check "domu-$w" "grep -q 'DOMU $w ok' $L"
done
check domu-no-oops '! grep -qE "BUG:|Oops|Call Trace|WARNING:|scheduling while atomic" $L'
check domu-paired 'grep -q "paired with netaccel-0" $L'
check domu-repaired 'grep -q "after netfront reload: .eth0." $L'
check domu-done 'grep -q "DOMU DONE" $L'
