#include "trace/trace-hw_xen_net_accel.h"
