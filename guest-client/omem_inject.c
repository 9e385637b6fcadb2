// SPDX-License-Identifier: GPL-2.0-only
/*
 * omem_inject.c - TEST FACILITY, built only with OMEM_FAULT_INJECTION=y
 * (configure --enable-fault-injection): /sys/kernel/debug/omem_client/inject
 * makes this guest misbehave on purpose, so tests/e2e/hostile.sh can show
 * that omemd rate-limits or cuts off a hostile guest alone.  Nothing in
 * the module uses it; it exists only in debugfs, write-only for root
 * (0200).  Each write is one command:
 *
 *   flood N    N DEMANDs back to back through omem_session_send(),
 *              bypassing the policy's spacing (bytes: max - boot)
 *   garbage N  N slots the protocol refuses (unknown type, bad length,
 *              nonzero flags) written straight into the guest->host ring
 *   index      the guest->host head jumps out of range; our own producer
 *              index with it, so every later send fails (-EPROTO) until
 *              a region reset
 *   lie        DEMAND of 2^63 bytes, then SURPLUS claiming more
 *              unpluggable memory than the device can hold
 *   idle-demand N
 *              N NORMAL DEMANDs of 128 MiB, each carrying the guest's
 *              real MemAvailable, spaced by the contract's
 *              demand_interval_ms (at least 200 ms): a guest that asks
 *              for memory it plainly does not need (omemd lowers its
 *              trust, host-server/arbiter/trust.h)
 *   fake-surplus
 *              SURPLUS offering everything plugged as free and
 *              unpluggable whatever it holds: when a workload holds it,
 *              omemd's unplug stalls (virtio-mem cannot unplug memory in
 *              use), which is the other lie trust.h counts
 *
 * The outcome of each command goes to the kernel log (one line).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "omem_client.h"

/* Most messages one flood or garbage command may send: enough to pass
 * any rate_strikes or error_limit omemd is configured with, small enough
 * that a typo cannot keep the writer busy for long. */
#define OMEM_INJECT_MAX 4096u

/* What one idle-demand DEMAND asks for, and the least spacing between
 * two: below any rate limit omemd applies to an honest guest's DEMANDs,
 * so what omemd answers is the lie, not the flood. */
#define OMEM_INJECT_IDLE_DEMAND_BYTES (128ULL << 20)
#define OMEM_INJECT_IDLE_DEMAND_GAP_MS 200u

/* A full guest->host ring is retried every ms for this long before the
 * command stops: omemd stopped reading (it cut us off). */
#define OMEM_INJECT_FULL_WAIT_MS 1000u

/* The three garbage forms, used in turn. */
enum omem_inject_garbage {
	OMEM_INJECT_UNKNOWN_TYPE,	/* a type the protocol does not have */
	OMEM_INJECT_BAD_LENGTH,		/* DEMAND with a length not its size */
	OMEM_INJECT_NONZERO_FLAGS,	/* PING with reserved header flags set */
	OMEM_INJECT_GARBAGE_FORMS,
};

/* The contract if the session is open, else -ENOTCONN. */
static int omem_inject_contract(struct omem_client *client,
				struct omem_session_contract *contract)
{
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&client->lock, flags);
	if (client->stopping || client->state != OMEM_SESSION_OPEN)
		ret = -ENOTCONN;
	else
		*contract = client->contract;
	spin_unlock_irqrestore(&client->lock, flags);
	return ret;
}

/* omem_session_send(), waiting out a full ring for a while. */
static int omem_inject_send(struct omem_client *client,
			    struct omem_message *message)
{
	unsigned int waited_ms = 0;
	int ret;

	while ((ret = omem_session_send(client, message)) == -ENOBUFS &&
	       waited_ms++ < OMEM_INJECT_FULL_WAIT_MS && !signal_pending(current))
		usleep_range(1000, 2000);
	return ret;
}

static int omem_inject_flood(struct omem_client *client, u32 count)
{
	struct omem_session_contract contract;
	struct omem_message message;
	u32 sent = 0;
	int ret;

	ret = omem_inject_contract(client, &contract);
	if (ret)
		return ret;
	for (; sent < count; sent++) {
		memset(&message, 0, sizeof(message));
		message.header.type = cpu_to_le16(OMEM_RPC_DEMAND);
		message.header.length = cpu_to_le32(sizeof(message.payload.demand));
		message.payload.demand.urgency = cpu_to_le32(OMEM_RPC_URGENCY_NORMAL);
		message.payload.demand.reasons = cpu_to_le32(OMEM_RPC_REASON_WATERMARK);
		message.payload.demand.bytes =
			cpu_to_le64(max(contract.max_bytes - contract.boot_bytes,
					contract.block_bytes));
		ret = omem_inject_send(client, &message);
		if (ret)
			break;
	}
	pr_info("inject: flood: %u of %u DEMANDs sent (%d)\n", sent, count, ret);
	return sent ? 0 : ret;
}

/* Fill @slot with garbage form @form; its seq continues ours without
 * taking it. */
static void omem_inject_fill_garbage(struct omem_message *slot,
				     enum omem_inject_garbage form, u32 seq)
{
	memset(slot, 0, sizeof(*slot));
	slot->header.seq = cpu_to_le32(seq);
	switch (form) {
	case OMEM_INJECT_UNKNOWN_TYPE:
		slot->header.type = cpu_to_le16(0x7fff);
		slot->header.length = cpu_to_le32(OMEM_RPC_PAYLOAD_MAX);
		memset(slot->payload.bytes, 0xa5, sizeof(slot->payload.bytes));
		break;
	case OMEM_INJECT_BAD_LENGTH:
		slot->header.type = cpu_to_le16(OMEM_RPC_DEMAND);
		slot->header.length = cpu_to_le32(sizeof(slot->payload.demand) - 1);
		break;
	case OMEM_INJECT_NONZERO_FLAGS:
	default:
		slot->header.type = cpu_to_le16(OMEM_RPC_PING);
		slot->header.flags = cpu_to_le16(0x8000);
		slot->header.length = cpu_to_le32(sizeof(slot->payload.ping));
		break;
	}
}

static int omem_inject_garbage(struct omem_client *client, u32 count)
{
	struct omem_session_contract contract;
	struct omem_message slot;
	unsigned int waited_ms = 0;
	unsigned long flags;
	u32 written = 0, index;
	int ret;

	ret = omem_inject_contract(client, &contract);
	if (ret)
		return ret;
	while (written < count) {
		spin_lock_irqsave(&client->lock, flags);
		omem_inject_fill_garbage(&slot, written % OMEM_INJECT_GARBAGE_FORMS,
					 client->tx_seq + 1);
		ret = client->stopping ? -ENODEV :
		      omem_transport_produce(client, &slot, sizeof(slot), &index);
		if (!ret)
			omem_transport_ring_host(client);
		spin_unlock_irqrestore(&client->lock, flags);
		if (ret == -ENOBUFS && waited_ms++ < OMEM_INJECT_FULL_WAIT_MS &&
		    !signal_pending(current)) {
			usleep_range(1000, 2000);
			continue;
		}
		if (ret)
			break;
		written++;
	}
	pr_info("inject: garbage: %u of %u slots written (%d)\n", written, count, ret);
	return written ? 0 : ret;
}

static int omem_inject_index(struct omem_client *client)
{
	struct omem_session_contract contract;
	unsigned long flags;
	u32 head;
	int ret;

	ret = omem_inject_contract(client, &contract);
	if (ret)
		return ret;
	spin_lock_irqsave(&client->lock, flags);
	/* Twice the ring ahead of the host's tail: out of range whatever
	 * the host has consumed. */
	client->g2h.index += 2 * client->g2h.count;
	head = client->g2h.index;
	virt_store_release(&client->g2h.indices->head, cpu_to_le32(head));
	omem_transport_ring_host(client);
	spin_unlock_irqrestore(&client->lock, flags);
	pr_info("inject: index: guest->host head set to %u (out of range)\n", head);
	return 0;
}

static int omem_inject_lie(struct omem_client *client)
{
	struct omem_session_contract contract;
	struct omem_message message = {};
	int ret;

	ret = omem_inject_contract(client, &contract);
	if (ret)
		return ret;
	message.header.type = cpu_to_le16(OMEM_RPC_DEMAND);
	message.header.length = cpu_to_le32(sizeof(message.payload.demand));
	message.payload.demand.urgency = cpu_to_le32(OMEM_RPC_URGENCY_NORMAL);
	message.payload.demand.reasons = cpu_to_le32(OMEM_RPC_REASON_WATERMARK);
	message.payload.demand.bytes = cpu_to_le64(1ULL << 63);
	ret = omem_inject_send(client, &message);
	if (ret)
		goto out;

	memset(&message, 0, sizeof(message));
	message.header.type = cpu_to_le16(OMEM_RPC_SURPLUS);
	message.header.length = cpu_to_le32(sizeof(message.payload.surplus));
	/* free + clean overflows 64 bits; unpluggable is past any device. */
	message.payload.surplus.free_bytes = cpu_to_le64(1ULL << 63);
	message.payload.surplus.clean_cache_bytes = cpu_to_le64(1ULL << 63);
	message.payload.surplus.unpluggable_bytes = cpu_to_le64(U64_MAX);
	ret = omem_inject_send(client, &message);
out:
	pr_info("inject: lie: DEMAND 2^63 bytes and SURPLUS unpluggable 2^64-1 (%d)\n", ret);
	return ret;
}

static int omem_inject_idle_demand(struct omem_client *client, u32 count)
{
	struct omem_session_contract contract;
	struct omem_message message;
	unsigned int gap_ms;
	u64 available = 0;
	u32 sent = 0;
	int ret;

	ret = omem_inject_contract(client, &contract);
	if (ret)
		return ret;
	gap_ms = max(contract.demand_interval_ms, OMEM_INJECT_IDLE_DEMAND_GAP_MS);
	for (; sent < count; sent++) {
		if (sent && msleep_interruptible(gap_ms)) {
			ret = -EINTR;
			break;
		}
		/* The honest figure: the lie is the asking, not the number. */
		available = (u64)si_mem_available() << PAGE_SHIFT;
		memset(&message, 0, sizeof(message));
		message.header.type = cpu_to_le16(OMEM_RPC_DEMAND);
		message.header.length = cpu_to_le32(sizeof(message.payload.demand));
		message.payload.demand.urgency = cpu_to_le32(OMEM_RPC_URGENCY_NORMAL);
		message.payload.demand.reasons = cpu_to_le32(OMEM_RPC_REASON_WATERMARK);
		message.payload.demand.bytes = cpu_to_le64(OMEM_INJECT_IDLE_DEMAND_BYTES);
		message.payload.demand.available_bytes = cpu_to_le64(available);
		ret = omem_inject_send(client, &message);
		if (ret)
			break;
	}
	pr_info("inject: idle-demand: %u of %u DEMANDs of 128 MiB sent %u ms apart, last with %llu MiB available (%d)\n",
		sent, count, gap_ms, available >> 20, ret);
	return sent ? 0 : ret;
}

/* Everything plugged: plugged memory is onlined to ZONE_MOVABLE (the
 * guests boot with memhp_default_state=online_movable), boot RAM is not. */
static u64 omem_inject_plugged_bytes(void)
{
	unsigned long pages = 0;
	int nid;

	for_each_online_node(nid) {
		struct zone *zone = &NODE_DATA(nid)->node_zones[ZONE_MOVABLE];

		if (populated_zone(zone))
			pages += zone_managed_pages(zone);
	}
	return (u64)pages << PAGE_SHIFT;
}

static int omem_inject_fake_surplus(struct omem_client *client)
{
	struct omem_session_contract contract;
	struct omem_message message = {};
	u64 plugged;
	int ret;

	ret = omem_inject_contract(client, &contract);
	if (ret)
		return ret;
	plugged = omem_inject_plugged_bytes();
	message.header.type = cpu_to_le16(OMEM_RPC_SURPLUS);
	message.header.length = cpu_to_le32(sizeof(message.payload.surplus));
	message.payload.surplus.free_bytes = cpu_to_le64(plugged);
	message.payload.surplus.clean_cache_bytes = 0;
	message.payload.surplus.unpluggable_bytes = cpu_to_le64(plugged);
	ret = omem_inject_send(client, &message);
	pr_info("inject: fake-surplus: SURPLUS offering all %llu MiB plugged, %llu MiB available (%d)\n",
		plugged >> 20, ((u64)si_mem_available() << PAGE_SHIFT) >> 20, ret);
	return ret;
}

/* Parse "WORD" or "WORD N" (N in 1..OMEM_INJECT_MAX) and run it. */
static ssize_t omem_inject_write(struct file *file, const char __user *buf,
				 size_t len, loff_t *pos)
{
	struct omem_client *client = file_inode(file)->i_private;
	char command[32], word[16];
	u32 count = 0;
	int fields, ret;

	if (len >= sizeof(command))
		return -EINVAL;
	if (copy_from_user(command, buf, len))
		return -EFAULT;
	command[len] = '\0';
	fields = sscanf(command, "%15s %u", word, &count);
	if (fields < 1)
		return -EINVAL;
	if (!strcmp(word, "idle-demand")) {
		if (fields != 2 || !count || count > OMEM_INJECT_MAX)
			return -EINVAL;
		ret = omem_inject_idle_demand(client, count);
	} else if (!strcmp(word, "flood") || !strcmp(word, "garbage")) {
		if (fields != 2 || !count || count > OMEM_INJECT_MAX)
			return -EINVAL;
		ret = word[0] == 'f' ? omem_inject_flood(client, count) :
				       omem_inject_garbage(client, count);
	} else if (fields == 1 && !strcmp(word, "index")) {
		ret = omem_inject_index(client);
	} else if (fields == 1 && !strcmp(word, "lie")) {
		ret = omem_inject_lie(client);
	} else if (fields == 1 && !strcmp(word, "fake-surplus")) {
		ret = omem_inject_fake_surplus(client);
	} else {
		return -EINVAL;
	}
	return ret ? ret : len;
}

static const struct file_operations omem_inject_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = omem_inject_write,
	.llseek = no_llseek,
};

/* Create the inject file in @dir; failure only loses the file. */
void omem_inject_create(struct omem_client *client, struct dentry *dir)
{
	debugfs_create_file("inject", 0200, dir, client, &omem_inject_fops);
}
