#include "trace/trace-hw_net_xen_net_accel.h"
