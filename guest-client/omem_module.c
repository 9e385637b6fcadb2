// SPDX-License-Identifier: GPL-2.0-only
/*
 * omem_module.c - omem_client.ko's entry points: module parameters, the
 * PCI driver for QEMU's ivshmem-doorbell device (1af4:1110), probe and
 * remove, and the memory policy's start and stop (omem_policy.c).  Binds
 * only to a device whose region omemd has initialised (OMEM_RPC_MAGIC),
 * one at a time; any other ivshmem device is left alone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "omem_client.h"

#define OMEM_PCI_VENDOR_REDHAT_QUMRANET 0x1af4
#define OMEM_PCI_DEVICE_IVSHMEM         0x1110

unsigned int omem_hello_retry_ms = OMEM_RPC_HELLO_RETRY_MS;
module_param_named(hello_retry_ms, omem_hello_retry_ms, uint, 0644);
MODULE_PARM_DESC(hello_retry_ms,
		 "First delay before HELLO is repeated when omemd has not answered, in ms (default 500, the protocol's OMEM_RPC_HELLO_RETRY_MS)");

/* 5 s: a guest that booted long before omemd still finds it within
 * seconds, and an absent omemd costs one doorbell per 5 s. */
unsigned int omem_hello_retry_max_ms = 5000;
module_param_named(hello_retry_max_ms, omem_hello_retry_max_ms, uint, 0644);
MODULE_PARM_DESC(hello_retry_max_ms,
		 "Upper bound of the doubling HELLO retry delay, in ms (default 5000)");

/* 1 s: a round trip takes ~100 us even under TCG; anything slower is lost. */
unsigned int omem_ping_timeout_ms = 1000;
module_param_named(ping_timeout_ms, omem_ping_timeout_ms, uint, 0644);
MODULE_PARM_DESC(ping_timeout_ms,
		 "How long a debugfs benchmark round trip waits for its answer, in ms (default 1000)");

/* Set by module exit: remove() then says GOODBYE (UNLOAD) to omemd. */
static bool omem_client_unloading;

/* Bit 0 set while an omem device is bound: omemd attaches one device per
 * VM, and neither the memory policy (one session) nor the debugfs
 * directory is per device.  Taken only once the region's magic says the
 * device is omem's, so another ivshmem device never holds it. */
static unsigned long omem_client_bound;

static int omem_client_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct omem_client *client;
	int ret;

	client = devm_kzalloc(&pdev->dev, sizeof(*client), GFP_KERNEL);
	if (!client)
		return -ENOMEM;
	client->pdev = pdev;
	client->policy = &omem_policy_ops;
	omem_session_init(client);
	pci_set_drvdata(pdev, client);

	/* Up to the magic, all is device-managed and per device: a device
	 * left alone is released as it was found. */
	ret = pcim_enable_device(pdev);
	if (ret) {
		dev_err(&pdev->dev, "cannot enable the device: %d\n", ret);
		return ret;
	}
	ret = omem_transport_map(client);
	if (ret)
		return ret;
	ret = omem_transport_check_magic(client);
	if (ret)
		return ret;
	if (test_and_set_bit(0, &omem_client_bound)) {
		omem_host_log(client, info,
			      "one omem-rpc device is bound already (omemd attaches one per VM); leaving this second one alone\n");
		return -EBUSY;
	}

	ret = omem_transport_load_region(client);
	if (ret)
		goto out_unbind;
	pci_set_master(pdev);	/* MSI-X messages are bus-master writes */

	client->wq = alloc_ordered_workqueue(KBUILD_MODNAME, WQ_HIGHPRI | WQ_MEM_RECLAIM);
	if (!client->wq) {
		ret = -ENOMEM;
		goto out_unbind;
	}
	ret = omem_transport_setup_irqs(client);
	if (ret)
		goto out_destroy_workqueue;

	omem_debugfs_create(client);
	dev_info(&pdev->dev, "omem-rpc region found: peer %u, host peer %u, generation %u; saying HELLO\n",
		 client->own_peer_id, client->host_peer_id, client->generation);
	omem_session_start(client);
	return 0;

out_destroy_workqueue:
	destroy_workqueue(client->wq);
out_unbind:
	clear_bit(0, &omem_client_bound);
	return ret;
}

static void omem_client_remove(struct pci_dev *pdev)
{
	struct omem_client *client = pci_get_drvdata(pdev);

	omem_session_stop(client, READ_ONCE(omem_client_unloading));
	omem_debugfs_remove(client);	/* waits for a running benchmark */
	omem_transport_free_irqs(client);
	cancel_delayed_work_sync(&client->hello_work);
	destroy_workqueue(client->wq);	/* drains rx_work and reset_work */
	omem_session_finish(client);
	kvfree(client->ping_result.samples);
	kvfree(client->raw_result.samples);
	dev_info(&pdev->dev, "unbound\n");
	clear_bit(0, &omem_client_bound);
}

static const struct pci_device_id omem_client_ids[] = {
	{ PCI_DEVICE(OMEM_PCI_VENDOR_REDHAT_QUMRANET, OMEM_PCI_DEVICE_IVSHMEM) },
	{ }
};
MODULE_DEVICE_TABLE(pci, omem_client_ids);

static struct pci_driver omem_client_driver = {
	.name = KBUILD_MODNAME,
	.id_table = omem_client_ids,
	.probe = omem_client_probe,
	.remove = omem_client_remove,
};

static int __init omem_client_init(void)
{
	int ret;

	omem_thp_init();	/* independent of omemd; never fails the load */
	ret = omem_policy_init();
	if (ret)
		return ret;
	ret = pci_register_driver(&omem_client_driver);
	if (ret)
		goto out_policy_exit;
	if (!test_bit(0, &omem_client_bound))
		pr_info("waiting for omemd's ivshmem device (PCI %04x:%04x)\n",
			OMEM_PCI_VENDOR_REDHAT_QUMRANET, OMEM_PCI_DEVICE_IVSHMEM);
	return 0;

out_policy_exit:
	omem_policy_exit();
	return ret;
}

static void __exit omem_client_exit(void)
{
	WRITE_ONCE(omem_client_unloading, true);
	pci_unregister_driver(&omem_client_driver);
	omem_policy_exit();	/* after remove(): no session hook runs now */
	pr_info("unloaded\n");
}

module_init(omem_client_init);
module_exit(omem_client_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("omem guest client: omem-rpc over ivshmem-doorbell to the host's omemd");
MODULE_VERSION(OMEM_CLIENT_VERSION);
