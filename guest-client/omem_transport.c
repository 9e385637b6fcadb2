// SPDX-License-Identifier: GPL-2.0-only
/*
 * omem_transport.c - the ivshmem-doorbell device under omem-rpc: BAR0
 * registers, the shared region in BAR2, its two rings, the doorbell and
 * the two MSI-X vectors.  Knows nothing of message meanings.
 *
 * The region is RAM on the host (omemd's memfd) that omemd maps
 * write-back, so the guest maps it write-back too (memremap) and orders
 * its accesses with the virt_* barriers, as virtio does for its rings:
 * unlike smp_*, they stay real barriers in a uniprocessor guest build.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/interrupt.h>
#include <linux/ktime.h>
#include <linux/string.h>

#include "omem_client.h"

static_assert(sizeof(struct omem_rpc_region) == 64);
static_assert(sizeof(struct omem_rpc_ring) == 2 * OMEM_RPC_CACHELINE);

static void *omem_transport_slot(const struct omem_transport_ring *ring,
				 u32 index)
{
	return ring->slots + (size_t)(index & (ring->count - 1)) *
			     OMEM_RPC_SLOT_SIZE;
}

/**
 * omem_transport_map() - map BAR0 and BAR2, read our peer id
 * @client: the client being probed.
 *
 * Everything is device-managed (pcim/devm): undone when probe fails or
 * after remove().
 *
 * Return: 0, or -ENODEV for a device whose BARs cannot be ours.
 */
int omem_transport_map(struct omem_client *client)
{
	struct pci_dev *pdev = client->pdev;
	resource_size_t bar_bytes;
	int ret;

	if (!(pci_resource_flags(pdev, 0) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, 0) < OMEM_IVSHMEM_REGS_BYTES ||
	    !(pci_resource_flags(pdev, 2) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, 2) < OMEM_RPC_REGION_MIN_SIZE) {
		dev_info(&pdev->dev, "BARs do not look like ivshmem with a shared region; leaving the device alone\n");
		return -ENODEV;
	}

	ret = pcim_iomap_regions(pdev, BIT(0), KBUILD_MODNAME);
	if (ret) {
		dev_err(&pdev->dev, "cannot map BAR0 (registers): %d\n", ret);
		return ret;
	}
	client->registers = pcim_iomap_table(pdev)[0];

	/* Managed because the device was enabled with pcim_enable_device(). */
	ret = pci_request_region(pdev, 2, KBUILD_MODNAME);
	if (ret) {
		dev_err(&pdev->dev, "cannot claim BAR2 (shared region): %d\n", ret);
		return ret;
	}
	bar_bytes = pci_resource_len(pdev, 2);
	client->region = devm_memremap(&pdev->dev, pci_resource_start(pdev, 2),
				       bar_bytes, MEMREMAP_WB);
	if (IS_ERR(client->region)) {
		ret = PTR_ERR(client->region);
		client->region = NULL;
		dev_err(&pdev->dev, "cannot map BAR2 (shared region): %d\n", ret);
		return ret;
	}
	client->region_bar_bytes = bar_bytes;
	client->own_peer_id = ioread32(client->registers + OMEM_IVSHMEM_IVPOSITION);
	return 0;
}

/**
 * omem_transport_check_magic() - is the region omemd's?
 * @client: the client; BAR2 mapped.
 *
 * Separate from the layout checks so that probe can tell an omem device
 * from any other ivshmem device before it claims the one omem device a
 * guest may have.
 *
 * Return: 0, or -ENODEV (one info line) if the region lacks OMEM_RPC_MAGIC.
 */
int omem_transport_check_magic(struct omem_client *client)
{
	__le64 magic;

	memcpy(&magic, client->region, sizeof(magic));
	if (le64_to_cpu(magic) != OMEM_RPC_MAGIC) {
		omem_host_log(client, info,
			      "not an omem-rpc region (magic %#llx); leaving the device alone\n",
			      le64_to_cpu(magic));
		return -ENODEV;
	}
	return 0;
}

/**
 * omem_transport_load_region() - check the region header, (re)set the rings
 * @client: the client; at probe, or on client->wq (region reset, with
 *          client->rx_deferred set so the ring interrupt keeps off).
 *
 * Takes our producer index from the guest->host ring as it is (so a
 * reloaded module continues where the last one stopped) and discards
 * whatever waits in the host->guest ring: those messages belong to a
 * session that is over.
 *
 * Return: 0; -ENODEV if the region is not omemd's (wrong magic, one info
 * line); -EINVAL if it is but breaks the layout rules (one error line).
 */
int omem_transport_load_region(struct omem_client *client)
{
	struct omem_rpc_region header;
	struct omem_transport_ring g2h, h2g;
	const char *problem;
	unsigned long flags;
	u32 g2h_tail, h2g_head, stale;

	if (omem_transport_check_magic(client))
		return -ENODEV;
	memcpy(&header, client->region, sizeof(header));
	problem = omem_wire_check_region(&header, client->region_bar_bytes);
	if (problem) {
		omem_host_log(client, err,
			      "omem-rpc region refused: %s; omemd and omem_client disagree on the layout\n",
			      problem);
		return -EINVAL;
	}

	g2h.indices = client->region + le32_to_cpu(header.g2h_offset);
	g2h.slots = (u8 *)g2h.indices + OMEM_RPC_RING_SLOTS_OFFSET;
	g2h.count = le32_to_cpu(header.g2h_slots);
	g2h.index = le32_to_cpu(READ_ONCE(g2h.indices->head));
	g2h_tail = le32_to_cpu(virt_load_acquire(&g2h.indices->tail));
	if (g2h.index - g2h_tail > g2h.count) {
		omem_host_log(client, err,
			      "omem-rpc region refused: guest->host indices head %u tail %u out of range\n",
			      g2h.index, g2h_tail);
		return -EINVAL;
	}

	h2g.indices = client->region + le32_to_cpu(header.h2g_offset);
	h2g.slots = (u8 *)h2g.indices + OMEM_RPC_RING_SLOTS_OFFSET;
	h2g.count = le32_to_cpu(header.h2g_slots);
	h2g_head = le32_to_cpu(virt_load_acquire(&h2g.indices->head));
	h2g.index = le32_to_cpu(READ_ONCE(h2g.indices->tail));
	stale = h2g_head - h2g.index;
	h2g.index = h2g_head;
	virt_store_release(&h2g.indices->tail, cpu_to_le32(h2g.index));
	if (stale && stale <= h2g.count)
		atomic64_add(stale, &client->counters.stale_discarded);

	spin_lock_irqsave(&client->rx_lock, flags);
	spin_lock(&client->lock);
	client->host_peer_id = le32_to_cpu(header.host_peer_id);
	client->generation = le32_to_cpu(header.generation);
	client->g2h = g2h;
	client->h2g = h2g;
	spin_unlock(&client->lock);
	spin_unlock_irqrestore(&client->rx_lock, flags);
	return 0;
}

/**
 * omem_transport_produce() - copy one message into the guest->host ring
 * @client:  the client; caller holds client->lock (the ring's one producer).
 * @message: the message, header first.
 * @size:    its bytes (header + payload), at most OMEM_RPC_SLOT_SIZE.
 * @index:   where the ring index the message was written at goes.
 *
 * Does not ring the doorbell: see omem_transport_ring_host().
 *
 * Return: 0; -ENOBUFS if the host has not made room; -EPROTO if the
 * host's tail is out of range.
 */
int omem_transport_produce(struct omem_client *client, const void *message,
			   size_t size, u32 *index)
{
	struct omem_transport_ring *ring = &client->g2h;
	u32 tail, used;
	u8 *slot;

	lockdep_assert_held(&client->lock);
	if (WARN_ON_ONCE(size > OMEM_RPC_SLOT_SIZE))
		return -EINVAL;
	/* Acquire: the host has finished copying the slots before @tail. */
	tail = le32_to_cpu(virt_load_acquire(&ring->indices->tail));
	used = ring->index - tail;
	if (used > ring->count) {
		atomic64_inc(&client->counters.protocol_errors);
		omem_host_log(client, warn, "host broke the guest->host ring: head %u tail %u\n",
			      ring->index, tail);
		return -EPROTO;
	}
	if (used == ring->count) {
		atomic64_inc(&client->counters.ring_full);
		return -ENOBUFS;
	}
	slot = omem_transport_slot(ring, ring->index);
	memcpy(slot, message, size);
	memset(slot + size, 0, OMEM_RPC_SLOT_SIZE - size);
	*index = ring->index++;
	/* Release: the slot is complete before the host can see the head. */
	virt_store_release(&ring->indices->head, cpu_to_le32(ring->index));
	atomic64_inc(&client->counters.messages_sent);
	return 0;
}

/**
 * omem_transport_consumed() - has the host taken the message at @index?
 * @client: the client; caller holds client->lock.
 * @index:  a guest->host index from omem_transport_produce().
 */
bool omem_transport_consumed(struct omem_client *client, u32 index)
{
	u32 tail = le32_to_cpu(virt_load_acquire(&client->g2h.indices->tail));

	lockdep_assert_held(&client->lock);
	return (s32)(tail - (index + 1)) >= 0;
}

/**
 * omem_transport_ring_host() - tell omemd the guest->host ring has news
 * @client: the client; caller holds client->lock (host_peer_id).
 *
 * iowrite32 is ordered after the preceding stores to the region.  A
 * doorbell rung before omemd listens is lost: callers never rely on one.
 */
void omem_transport_ring_host(struct omem_client *client)
{
	lockdep_assert_held(&client->lock);
	iowrite32((client->host_peer_id << 16) | OMEM_RPC_VECTOR_RING,
		  client->registers + OMEM_IVSHMEM_DOORBELL);
	atomic64_inc(&client->counters.doorbells);
}

/**
 * omem_transport_peek() - copy the next host->guest message out, leave it
 * @client: the client; caller holds client->rx_lock (the ring's consumer).
 * @slot:   OMEM_RPC_SLOT_SIZE bytes to copy the slot into.
 *
 * The slot is copied before anybody looks at it; the host still owns
 * nothing of it until omem_transport_advance() hands it back.
 *
 * Return: 1 with a message in @slot, 0 if the ring is empty, -EPROTO if
 * the host's head is out of range.
 */
int omem_transport_peek(struct omem_client *client, void *slot)
{
	struct omem_transport_ring *ring = &client->h2g;
	u32 head, available;

	lockdep_assert_held(&client->rx_lock);
	/* Acquire: the slots before @head are complete. */
	head = le32_to_cpu(virt_load_acquire(&ring->indices->head));
	available = head - ring->index;
	if (!available)
		return 0;
	if (available > ring->count)
		return -EPROTO;
	memcpy(slot, omem_transport_slot(ring, ring->index), OMEM_RPC_SLOT_SIZE);
	return 1;
}

/**
 * omem_transport_advance() - give the slot omem_transport_peek() copied back
 * @client: the client; caller holds client->rx_lock.
 */
void omem_transport_advance(struct omem_client *client)
{
	struct omem_transport_ring *ring = &client->h2g;

	lockdep_assert_held(&client->rx_lock);
	ring->index++;
	/* Release: our copy is done before the host may reuse the slot. */
	virt_store_release(&ring->indices->tail, cpu_to_le32(ring->index));
}

/**
 * omem_transport_consume() - copy the next host->guest message out
 * @client: the client; caller holds client->rx_lock.
 * @slot:   OMEM_RPC_SLOT_SIZE bytes to copy the slot into.
 *
 * The slot is copied before anybody looks at it, and the tail advanced
 * right away: the host may scribble on the slot from then on.
 *
 * Return: as omem_transport_peek().
 */
int omem_transport_consume(struct omem_client *client, void *slot)
{
	int ret = omem_transport_peek(client, slot);

	if (ret > 0)
		omem_transport_advance(client);
	return ret;
}

static irqreturn_t omem_transport_ring_irq(int irq, void *data)
{
	struct omem_client *client = data;

	if (atomic_xchg(&client->raw_waiting, 0))
		complete(&client->raw_done);
	omem_session_rx_irq(client);
	return IRQ_HANDLED;
}

static irqreturn_t omem_transport_control_irq(int irq, void *data)
{
	struct omem_client *client = data;

	queue_work(client->wq, &client->reset_work);
	return IRQ_HANDLED;
}

/**
 * omem_transport_setup_irqs() - allocate both MSI-X vectors, hook them up
 * @client: the client; client->wq must exist.
 *
 * Not device-managed, so that remove() can free them before it destroys
 * the workqueue the handlers queue work on.
 */
int omem_transport_setup_irqs(struct omem_client *client)
{
	struct pci_dev *pdev = client->pdev;
	int ret;

	ret = pci_alloc_irq_vectors(pdev, OMEM_RPC_VECTORS, OMEM_RPC_VECTORS,
				    PCI_IRQ_MSIX);
	if (ret < 0) {
		dev_err(&pdev->dev, "needs %u MSI-X vectors (libvirt <msi vectors='%u'/>): %d\n",
			OMEM_RPC_VECTORS, OMEM_RPC_VECTORS, ret);
		return ret;
	}
	client->irq[OMEM_RPC_VECTOR_RING] = pci_irq_vector(pdev, OMEM_RPC_VECTOR_RING);
	client->irq[OMEM_RPC_VECTOR_CONTROL] = pci_irq_vector(pdev, OMEM_RPC_VECTOR_CONTROL);

	ret = request_irq(client->irq[OMEM_RPC_VECTOR_RING], omem_transport_ring_irq,
			  0, KBUILD_MODNAME "-ring", client);
	if (ret)
		goto out_free_vectors;
	ret = request_irq(client->irq[OMEM_RPC_VECTOR_CONTROL],
			  omem_transport_control_irq, 0, KBUILD_MODNAME "-control",
			  client);
	if (ret)
		goto out_free_ring_irq;
	return 0;

out_free_ring_irq:
	free_irq(client->irq[OMEM_RPC_VECTOR_RING], client);
out_free_vectors:
	pci_free_irq_vectors(pdev);
	dev_err(&pdev->dev, "cannot request the MSI-X interrupts: %d\n", ret);
	return ret;
}

/* Undo omem_transport_setup_irqs(); waits for running handlers. */
void omem_transport_free_irqs(struct omem_client *client)
{
	free_irq(client->irq[OMEM_RPC_VECTOR_CONTROL], client);
	free_irq(client->irq[OMEM_RPC_VECTOR_RING], client);
	pci_free_irq_vectors(client->pdev);
}

/**
 * omem_transport_raw_round_trip() - time one doorbell to ourselves
 * @client: the client.
 * @ns:     where the round trip time goes.
 *
 * Rings our own peer id's ring vector: guest MMIO exit, QEMU writes our
 * eventfd, MSI-X back into the guest, hard IRQ.  The floor under every
 * message round trip, without omemd.  Serialised by client->bench_mutex.
 *
 * Return: 0, -ETIMEDOUT, or -ENODEV once remove() has begun.
 */
int omem_transport_raw_round_trip(struct omem_client *client, u64 *ns)
{
	unsigned long timeout = msecs_to_jiffies(omem_ping_timeout_ms);
	ktime_t start;

	if (READ_ONCE(client->stopping))
		return -ENODEV;
	reinit_completion(&client->raw_done);
	atomic_set(&client->raw_waiting, 1);
	start = ktime_get();
	iowrite32((client->own_peer_id << 16) | OMEM_RPC_VECTOR_RING,
		  client->registers + OMEM_IVSHMEM_DOORBELL);
	if (!wait_for_completion_timeout(&client->raw_done, timeout)) {
		atomic_set(&client->raw_waiting, 0);
		return -ETIMEDOUT;
	}
	*ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	return READ_ONCE(client->stopping) ? -ENODEV : 0;
}
