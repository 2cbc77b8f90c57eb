# Device set of the xen-net-accel QEMU build (configure passes it as
# --with-devices-x86_64).  Only what the project needs: the xen-bus
# devices (xen-net-device, xen-net-accel), the xenpv machine that real
# Xen dom0 backends use, and the xen-sim test platform for qtest.
CONFIG_XEN_BUS=y
CONFIG_XEN_NET_ACCEL=y
CONFIG_XEN_SIM=y
