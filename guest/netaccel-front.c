// SPDX-License-Identifier: GPL-2.0
/*
 * xen-netaccel: guest half of the xen-net-accel accelerated network path.
 *
 * A xenbus frontend for the "netaccel" device type.  The backend (QEMU's
 * xen-net-accel device) offers virtual interfaces on a NIC; this module
 * pairs them with the guest's netfront interface.  See docs/guest.md and
 * docs/protocol.md.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

struct netaccel_front {
	struct xenbus_device *xbdev;
	unsigned int backend_max_vis;
};

static int netaccel_probe(struct xenbus_device *xbdev,
			  const struct xenbus_device_id *id)
{
	struct netaccel_front *nf;

	nf = kzalloc(sizeof(*nf), GFP_KERNEL);
	if (!nf)
		return -ENOMEM;
	nf->xbdev = xbdev;
	dev_set_drvdata(&xbdev->dev, nf);
	dev_info(&xbdev->dev, "probed, backend %s\n", xbdev->otherend);
	return 0;
}

static void netaccel_backend_changed(struct xenbus_device *xbdev,
				     enum xenbus_state backend_state)
{
	struct netaccel_front *nf = dev_get_drvdata(&xbdev->dev);

	dev_dbg(&xbdev->dev, "backend state %s\n",
		xenbus_strstate(backend_state));

	switch (backend_state) {
	case XenbusStateInitWait:
		nf->backend_max_vis =
			xenbus_read_unsigned(xbdev->otherend, "max-vis", 1);
		break;
	case XenbusStateClosing:
		xenbus_frontend_closed(xbdev);
		break;
	default:
		break;
	}
}

static void netaccel_remove(struct xenbus_device *xbdev)
{
	kfree(dev_get_drvdata(&xbdev->dev));
	dev_set_drvdata(&xbdev->dev, NULL);
}

static const struct xenbus_device_id netaccel_ids[] = {
	{ "netaccel" },
	{ "" }
};

static struct xenbus_driver netaccel_driver = {
	.ids = netaccel_ids,
	.probe = netaccel_probe,
	.remove = netaccel_remove,
	.otherend_changed = netaccel_backend_changed,
	.not_essential = true,
};

static int __init netaccel_init(void)
{
	if (!xen_domain())
		return -ENODEV;
	return xenbus_register_frontend(&netaccel_driver);
}
module_init(netaccel_init);

static void __exit netaccel_exit(void)
{
	xenbus_unregister_driver(&netaccel_driver);
}
module_exit(netaccel_exit);

MODULE_DESCRIPTION("Xen accelerated network path (xen-net-accel) frontend");
MODULE_LICENSE("GPL");
MODULE_ALIAS("xen:netaccel");
