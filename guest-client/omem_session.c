// SPDX-License-Identifier: GPL-2.0-only
/*
 * omem_session.c - the omem-rpc session: HELLO until WELCOME, the host's
 * messages checked and dispatched, PING/PONG, GOODBYE, region resets.
 * The memory policy sits behind struct omem_policy_ops.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/memory.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/stddef.h>

#include "omem_client.h"


/* Types that need an open session. */
static const u32 omem_session_open_types =
	OMEM_RPC_TYPE_BIT(OMEM_RPC_GRANT) | OMEM_RPC_TYPE_BIT(OMEM_RPC_DENY) |
	OMEM_RPC_TYPE_BIT(OMEM_RPC_RECLAIM) | OMEM_RPC_TYPE_BIT(OMEM_RPC_PING) |
	OMEM_RPC_TYPE_BIT(OMEM_RPC_PONG) | OMEM_RPC_TYPE_BIT(OMEM_RPC_DEMAND) |
	OMEM_RPC_TYPE_BIT(OMEM_RPC_SURPLUS) | OMEM_RPC_TYPE_BIT(OMEM_RPC_STATS);


static const char *const omem_session_state_names[] = {
	[OMEM_SESSION_IDLE] = "idle",
	[OMEM_SESSION_HELLO] = "hello",
	[OMEM_SESSION_OPEN] = "open",
	[OMEM_SESSION_CLOSED] = "closed",
};

const char *omem_session_state_name(enum omem_session_state state)
{
	if (state >= ARRAY_SIZE(omem_session_state_names))
		return "?";
	return omem_session_state_names[state];
}

static u32 omem_session_next_seq(u32 seq)
{
	return seq + 1 ? seq + 1 : 1;
}

static void omem_session_fill_header(struct omem_message *message, u16 type,
				     u32 reply_to)
{
	message->header.type = cpu_to_le16(type);
	message->header.flags = 0;
	message->header.length = cpu_to_le32(omem_wire_payload_bytes(type));
	message->header.reply_to = cpu_to_le32(reply_to);
}


/* Put @message in the ring with our next seq and ring the doorbell.
 * Caller holds client->lock. */
static int omem_session_send_locked(struct omem_client *client,
				    struct omem_message *message, u32 *index)
{
	u32 seq = omem_session_next_seq(client->tx_seq);
	size_t size = sizeof(message->header) + le32_to_cpu(message->header.length);
	u32 written;
	int ret;

	lockdep_assert_held(&client->lock);
	message->header.seq = cpu_to_le32(seq);
	ret = omem_transport_produce(client, message, size, &written);
	if (ret)
		return ret;
	client->tx_seq = seq;
	if (index)
		*index = written;
	omem_transport_ring_host(client);
	return 0;
}

/**
 * omem_session_send() - send one message to omemd
 * @client:  the client.
 * @message: zeroed, then type, length, reply_to and payload filled in;
 *           on success header.seq holds the seq it went out with.
 *
 * Callable from any context (takes client->lock irqsave).  This is the
 * memory policy's way out (DEMAND, SURPLUS, STATS).
 *
 * Return: 0; -EINVAL for a message we may not send; -ENOTCONN outside an
 * open session (ERROR and GOODBYE excepted); -ENODEV once the device is
 * going away; -ENOBUFS if the ring is full; -EPROTO if the host broke it.
 */
int omem_session_send(struct omem_client *client, struct omem_message *message)
{
	u16 type = le16_to_cpu(message->header.type);
	u32 length = le32_to_cpu(message->header.length);
	unsigned long flags;
	int ret;

	if (type == OMEM_RPC_HELLO || type > OMEM_RPC_TYPE_MAX ||
	    !(OMEM_RPC_TYPES_FROM_GUEST & OMEM_RPC_TYPE_BIT(type)))
		return -EINVAL;
	if (type == OMEM_RPC_STATS) {
		if (length < OMEM_RPC_STATS_BYTES(1) ||
		    length > OMEM_RPC_STATS_BYTES(OMEM_RPC_STATS_MAX) ||
		    (length - OMEM_RPC_STATS_BYTES(0)) % sizeof(struct omem_rpc_stat))
			return -EINVAL;
	} else if (length != omem_wire_payload_bytes(type)) {
		return -EINVAL;
	}

	spin_lock_irqsave(&client->lock, flags);
	if (client->stopping)
		ret = -ENODEV;
	else if (client->state != OMEM_SESSION_OPEN &&
		 (omem_session_open_types & OMEM_RPC_TYPE_BIT(type)))
		ret = -ENOTCONN;
	else
		ret = omem_session_send_locked(client, message, NULL);
	spin_unlock_irqrestore(&client->lock, flags);
	return ret;
}

/* Send ERROR about a refused host message; best effort. */
static void omem_session_send_error(struct omem_client *client, u32 code,
				    u16 type, u16 field, u32 reply_to)
{
	struct omem_message message = {};

	omem_session_fill_header(&message, OMEM_RPC_ERROR, reply_to);
	message.payload.error.code = cpu_to_le32(code);
	message.payload.error.type = cpu_to_le16(type);
	message.payload.error.field_offset = cpu_to_le16(field);
	omem_session_send(client, &message);
}

static void omem_session_send_goodbye(struct omem_client *client, u32 reason)
{
	struct omem_message message = {};

	omem_session_fill_header(&message, OMEM_RPC_GOODBYE, 0);
	message.payload.goodbye.reason = cpu_to_le32(reason);
	omem_session_send(client, &message);
}

/* Longest HELLO retry delay in ms; the parameter may change at any time. */
static unsigned int omem_session_retry_cap(void)
{
	return max(READ_ONCE(omem_hello_retry_max_ms), 10u);
}

/* Queue another HELLO attempt; caller holds client->lock. */
static void omem_session_queue_hello(struct omem_client *client,
				     unsigned int delay_ms)
{
	lockdep_assert_held(&client->lock);
	if (!client->stopping)
		queue_delayed_work(client->wq, &client->hello_work,
				   msecs_to_jiffies(delay_ms));
}

/* Build a HELLO with the guest's figures now; outside client->lock
 * (si_meminfo takes locks of its own). */
static void omem_session_build_hello(struct omem_message *message)
{
	struct omem_rpc_hello *hello = &message->payload.hello;
	unsigned long block_bytes = 0;
	struct sysinfo info;

	si_meminfo(&info);
#ifdef CONFIG_MEMORY_HOTPLUG
	block_bytes = memory_block_size_bytes();
#endif
	omem_session_fill_header(message, OMEM_RPC_HELLO, 0);
	hello->version_min = cpu_to_le16(OMEM_RPC_VERSION_MIN);
	hello->version_max = cpu_to_le16(OMEM_RPC_VERSION_MAX);
	hello->client_version = cpu_to_le32(OMEM_CLIENT_VERSION_MAJOR << 16 |
					    OMEM_CLIENT_VERSION_MINOR);
	hello->features = cpu_to_le64(OMEM_RPC_FEATURES_KNOWN);
	hello->guest_total_bytes = cpu_to_le64((u64)info.totalram * info.mem_unit);
	hello->memory_block_bytes = cpu_to_le64(block_bytes);
	hello->page_bytes = cpu_to_le64(PAGE_SIZE);
}

/* Write @message, a HELLO, with seq 1 (it opens a session); caller holds
 * client->lock. */
static int omem_session_send_hello(struct omem_client *client,
				   struct omem_message *message)
{
	int ret;

	lockdep_assert_held(&client->lock);
	client->tx_seq = 0;
	ret = omem_session_send_locked(client, message, &client->hello_index);
	if (!ret) {
		client->hello_queued = true;
		atomic64_inc(&client->counters.hello_sent);
	}
	return ret;
}

/**
 * omem_session_hello_work() - send HELLO, or nudge the one still queued
 * @work: client->hello_work.
 *
 * A doorbell rung before omemd listens is lost but the HELLO stays in the
 * ring, so while omemd has not consumed it we only ring again; a second
 * HELLO is written only if omemd took the first and did not answer.
 */
void omem_session_hello_work(struct work_struct *work)
{
	struct omem_client *client = container_of(to_delayed_work(work),
						  struct omem_client, hello_work);
	struct omem_rpc_region *region = client->region;
	struct omem_message message = {};
	unsigned int delay, cap;
	unsigned long flags;
	int ret = 0;

	/* A region reset whose CONTROL interrupt came before our vectors
	 * were live shows only as a new generation. */
	if (le32_to_cpu(READ_ONCE(region->generation)) != READ_ONCE(client->generation)) {
		queue_work(client->wq, &client->reset_work);
		return;
	}
	omem_session_build_hello(&message);

	spin_lock_irqsave(&client->lock, flags);
	if (client->stopping || client->state != OMEM_SESSION_HELLO)
		goto out_unlock;
	if (client->hello_queued) {
		atomic64_inc(&client->counters.hello_retries);
		if (!omem_transport_consumed(client, client->hello_index))
			omem_transport_ring_host(client);
		else
			ret = omem_session_send_hello(client, &message);
	} else {
		ret = omem_session_send_hello(client, &message);
	}
	delay = client->hello_delay_ms;
	cap = omem_session_retry_cap();
	client->hello_delay_ms = delay >= cap / 2 ? cap : delay * 2;
	omem_session_queue_hello(client, delay);
out_unlock:
	spin_unlock_irqrestore(&client->lock, flags);
	if (ret)
		omem_host_log(client, warn, "cannot send HELLO: %d; retrying\n", ret);
}

/**
 * omem_session_start() - begin a session: HELLO now, retries later
 * @client: the client, its rings loaded and its interrupts live.
 */
void omem_session_start(struct omem_client *client)
{
	unsigned long flags;

	spin_lock_irqsave(&client->lock, flags);
	if (!client->stopping) {
		client->state = OMEM_SESSION_HELLO;
		client->hello_queued = false;
		client->hello_delay_ms = clamp(READ_ONCE(omem_hello_retry_ms), 10u,
					       omem_session_retry_cap());
		omem_session_queue_hello(client, 0);
	}
	spin_unlock_irqrestore(&client->lock, flags);
}

/* Move to @state (not OPEN); tell the policy if a session ended.  On wq. */
static void omem_session_close(struct omem_client *client,
			       enum omem_session_state state)
{
	unsigned long flags;

	spin_lock_irqsave(&client->lock, flags);
	client->state = state;
	client->hello_queued = false;
	if (client->ping_waiting)
		complete(&client->ping_done);
	spin_unlock_irqrestore(&client->lock, flags);
	cancel_delayed_work(&client->hello_work);
	if (client->policy_open) {
		client->policy_open = false;
		if (client->policy && client->policy->session_closed)
			client->policy->session_closed(client);
	}
}

static void omem_session_on_welcome(struct omem_client *client,
				    const struct omem_rpc_welcome *welcome)
{
	struct omem_session_contract contract = {
		.version = le16_to_cpu(welcome->version),
		.buffer_percent = le32_to_cpu(welcome->buffer_percent),
		.features = le64_to_cpu(welcome->features),
		.boot_bytes = le64_to_cpu(welcome->boot_bytes),
		.min_bytes = le64_to_cpu(welcome->min_bytes),
		.max_bytes = le64_to_cpu(welcome->max_bytes),
		.cap_bytes = le64_to_cpu(welcome->cap_bytes),
		.plugged_bytes = le64_to_cpu(welcome->plugged_bytes),
		.block_bytes = le64_to_cpu(welcome->block_bytes),
		.stats_interval_ms = le32_to_cpu(welcome->stats_interval_ms),
		.demand_interval_ms = le32_to_cpu(welcome->demand_interval_ms),
	};
	unsigned long flags;
	bool was_open;
	u32 host_peer_id, generation;

	spin_lock_irqsave(&client->lock, flags);
	if (client->stopping) {
		spin_unlock_irqrestore(&client->lock, flags);
		return;
	}
	was_open = client->state == OMEM_SESSION_OPEN;
	client->state = OMEM_SESSION_OPEN;
	client->hello_queued = false;
	client->contract = contract;
	host_peer_id = client->host_peer_id;
	generation = client->generation;
	spin_unlock_irqrestore(&client->lock, flags);
	cancel_delayed_work(&client->hello_work);

	if (!was_open) {
		atomic64_inc(&client->counters.sessions_opened);
		omem_host_log(client, info,
			      "session open: protocol v%u, boot %llu MiB min %llu MiB max %llu MiB cap %llu MiB (host peer %u, generation %u)\n",
			      contract.version, contract.boot_bytes >> 20,
			      contract.min_bytes >> 20, contract.max_bytes >> 20,
			      contract.cap_bytes >> 20, host_peer_id, generation);
	}
	client->policy_open = true;
	if (client->policy && client->policy->session_opened)
		client->policy->session_opened(client, &contract);
}

static void omem_session_on_pong(struct omem_client *client, u64 cookie)
{
	unsigned long flags;

	spin_lock_irqsave(&client->lock, flags);
	if (client->ping_waiting && cookie == client->ping_cookie) {
		client->ping_waiting = false;
		complete(&client->ping_done);
	}
	spin_unlock_irqrestore(&client->lock, flags);
}

static void omem_session_on_ping(struct omem_client *client, u32 seq,
				 const struct omem_rpc_ping *ping)
{
	struct omem_message message = {};

	omem_session_fill_header(&message, OMEM_RPC_PONG, seq);
	message.payload.ping.cookie = ping->cookie;
	omem_session_send(client, &message);
}

static const char *omem_session_goodbye_reason(u32 reason)
{
	switch (reason) {
	case OMEM_RPC_GOODBYE_SHUTDOWN:
		return "omemd is stopping";
	case OMEM_RPC_GOODBYE_UNLOAD:
		return "unload";
	case OMEM_RPC_GOODBYE_PROTOCOL:
		return "omemd saw a protocol error from this guest";
	case OMEM_RPC_GOODBYE_VERSION:
		return "no common protocol version";
	}
	return "?";
}

/* Refuse a host message: count, warn (rate-limited), answer ERROR. */
static void omem_session_refuse(struct omem_client *client,
				const struct omem_message *message, u32 code,
				u16 field)
{
	u16 type = le16_to_cpu(message->header.type);
	u32 seq = le32_to_cpu(message->header.seq);

	atomic64_inc(&client->counters.protocol_errors);
	omem_host_log(client, warn, "refused host message type %u seq %u: error %u at offset %u\n",
		      type, seq, code, field);
	if (type != OMEM_RPC_ERROR && type != OMEM_RPC_GOODBYE)
		omem_session_send_error(client, code, type, field, seq);
}

/* Decide on one copied host message.  On client->wq. */
static void omem_session_dispatch(struct omem_client *client,
				  const struct omem_message *message)
{
	const typeof(message->payload) *p = &message->payload;
	u16 type = le16_to_cpu(message->header.type);
	u32 seq = le32_to_cpu(message->header.seq);
	u32 reply_to = le32_to_cpu(message->header.reply_to);
	enum omem_session_state state = READ_ONCE(client->state);
	u16 field;
	u32 code;

	code = omem_wire_check_host_message(message, &field);
	if (!code && state != OMEM_SESSION_OPEN &&
	    (omem_session_open_types & OMEM_RPC_TYPE_BIT(type)))
		code = OMEM_RPC_ERR_NOT_NEGOTIATED;
	if (!code && type == OMEM_RPC_WELCOME &&
	    state != OMEM_SESSION_HELLO && state != OMEM_SESSION_OPEN)
		code = OMEM_RPC_ERR_NOT_NEGOTIATED;
	/* The host numbers its messages from 1 with WELCOME; before WELCOME
	 * (ERROR or GOODBYE answering HELLO) there is nothing to compare. */
	if (!code && ((type == OMEM_RPC_WELCOME && seq != 1) ||
		      (type != OMEM_RPC_WELCOME && state == OMEM_SESSION_OPEN &&
		       seq != client->rx_seq))) {
		code = OMEM_RPC_ERR_BAD_SEQUENCE;
		field = offsetof(struct omem_rpc_header, seq);
	}
	/* Refused messages count too, and a gap costs one error, not all
	 * that follow. */
	client->rx_seq = omem_session_next_seq(seq);
	if (code) {
		omem_session_refuse(client, message, code, field);
		return;
	}

	switch (type) {
	case OMEM_RPC_WELCOME:
		omem_session_on_welcome(client, &p->welcome);
		break;
	case OMEM_RPC_PING:
		omem_session_on_ping(client, seq, &p->ping);
		break;
	case OMEM_RPC_PONG:
		omem_session_on_pong(client, le64_to_cpu(p->ping.cookie));
		break;
	case OMEM_RPC_GRANT:
		if (client->policy && client->policy->grant)
			client->policy->grant(client, reply_to,
					      le64_to_cpu(p->grant.bytes),
					      le64_to_cpu(p->grant.target_bytes));
		break;
	case OMEM_RPC_DENY:
		if (client->policy && client->policy->deny)
			client->policy->deny(client, reply_to,
					     le32_to_cpu(p->deny.reason),
					     le32_to_cpu(p->deny.retry_after_ms));
		break;
	case OMEM_RPC_RECLAIM:
		if (client->policy && client->policy->reclaim)
			client->policy->reclaim(client, seq,
						le64_to_cpu(p->reclaim.bytes),
						le32_to_cpu(p->reclaim.deadline_ms));
		break;
	case OMEM_RPC_GOODBYE:
		omem_host_log(client, info, "session closed by omemd: %s\n",
			      omem_session_goodbye_reason(le32_to_cpu(p->goodbye.reason)));
		omem_session_close(client, OMEM_SESSION_CLOSED);
		break;
	case OMEM_RPC_ERROR:
		atomic64_inc(&client->counters.errors_received);
		if (state == OMEM_SESSION_HELLO) {
			omem_host_log(client, warn,
				      "omemd refused HELLO: error %u at offset %u; waiting for a region reset\n",
				      le32_to_cpu(p->error.code),
				      le16_to_cpu(p->error.field_offset));
			omem_session_close(client, OMEM_SESSION_CLOSED);
		} else {
			omem_host_log(client, warn,
				      "omemd refused our message seq %u type %u: error %u at offset %u\n",
				      reply_to, le16_to_cpu(p->error.type),
				      le32_to_cpu(p->error.code),
				      le16_to_cpu(p->error.field_offset));
		}
		break;
	}
}

/*
 * omem_session_rx_fast() - may the ring interrupt handle @message itself?
 * @client:  the client; caller holds client->rx_lock, !client->rx_deferred.
 * @message: a copy of the next slot.
 *
 * Only a well-formed PONG in its place in an open session: completing its
 * waiter is all there is to do, and doing it from the interrupt saves the
 * round trip a context switch to client->wq.  Anything else, refusals
 * included, goes to omem_session_rx_work() in order.
 */
static bool omem_session_rx_fast(struct omem_client *client,
				 const struct omem_message *message)
{
	u16 field;

	return le16_to_cpu(message->header.type) == OMEM_RPC_PONG &&
	       !omem_wire_check_host_message(message, &field) &&
	       READ_ONCE(client->state) == OMEM_SESSION_OPEN &&
	       le32_to_cpu(message->header.seq) == client->rx_seq;
}

/**
 * omem_session_rx_irq() - drain the host->guest ring from the interrupt
 * @client: the client; from the ring vector's hard IRQ handler.
 *
 * Copies each slot out, checks the copy, and handles what
 * omem_session_rx_fast() allows on the spot.  At the first message that
 * needs process context it sets client->rx_deferred and leaves that
 * message and the rest in the ring for omem_session_rx_work(), which
 * copies and checks them again and clears the flag once the ring is
 * empty.  While the flag is set the interrupt only leaves things to it.
 */
void omem_session_rx_irq(struct omem_client *client)
{
	struct omem_message message;
	bool defer = false;
	u32 budget;
	int ret;

	spin_lock(&client->rx_lock);
	if (client->rx_deferred)
		goto out_unlock;
	/* Bounded: a host that keeps producing gets the rest from client->wq. */
	for (budget = client->h2g.count; budget; budget--) {
		ret = omem_transport_peek(client, &message);
		if (!ret)
			goto out_unlock;
		if (ret < 0 || !omem_session_rx_fast(client, &message)) {
			defer = true;
			break;
		}
		omem_transport_advance(client);
		atomic64_inc(&client->counters.messages_received);
		client->rx_seq = omem_session_next_seq(client->rx_seq);
		omem_session_on_pong(client, le64_to_cpu(message.payload.ping.cookie));
	}
	if (budget && !defer)
		goto out_unlock;
	client->rx_deferred = true;
	if (!READ_ONCE(client->stopping))
		queue_work(client->wq, &client->rx_work);
out_unlock:
	spin_unlock(&client->rx_lock);
}

/**
 * omem_session_rx_work() - drain the host->guest ring in process context
 * @work: client->rx_work, queued by omem_session_rx_irq() or a reset.
 *
 * Runs while client->rx_deferred is set, and clears it under
 * client->rx_lock in the same breath as it finds the ring empty, so a
 * message that arrives meanwhile is either seen here or by the next
 * interrupt.  Takes at most one ring's worth per run, then requeues
 * itself, so a host that keeps producing cannot pin the workqueue.
 */
void omem_session_rx_work(struct work_struct *work)
{
	struct omem_client *client = container_of(work, struct omem_client, rx_work);
	struct omem_message message;
	unsigned long flags;
	u32 budget;
	int ret;

	/* Broken: rx_deferred stays set, so the interrupt stays off too. */
	if (client->rx_broken)
		return;
	for (budget = client->h2g.count; budget; budget--) {
		spin_lock_irqsave(&client->rx_lock, flags);
		ret = omem_transport_consume(client, &message);
		if (!ret)
			client->rx_deferred = false;
		spin_unlock_irqrestore(&client->rx_lock, flags);
		if (!ret)
			return;
		if (ret < 0) {
			client->rx_broken = true;
			atomic64_inc(&client->counters.protocol_errors);
			omem_host_log(client, warn,
				      "omemd broke the host->guest ring indices; closing the session until a region reset\n");
			omem_session_send_error(client, OMEM_RPC_ERR_BAD_INDEX, 0, 0, 0);
			omem_session_send_goodbye(client, OMEM_RPC_GOODBYE_PROTOCOL);
			omem_session_close(client, OMEM_SESSION_CLOSED);
			return;
		}
		atomic64_inc(&client->counters.messages_received);
		omem_session_dispatch(client, &message);
	}
	if (!READ_ONCE(client->stopping))
		queue_work(client->wq, &client->rx_work);
}

/**
 * omem_session_reset_work() - omemd reinitialised the region
 * @work: client->reset_work, queued by the control interrupt.
 *
 * Drop the session, reload the (possibly changed) layout, HELLO again.
 */
void omem_session_reset_work(struct work_struct *work)
{
	struct omem_client *client = container_of(work, struct omem_client, reset_work);
	bool was_open = READ_ONCE(client->state) == OMEM_SESSION_OPEN;
	unsigned long flags;
	int ret;

	if (READ_ONCE(client->stopping))
		return;
	/* Keep the interrupt off the host->guest ring while it is reloaded;
	 * rx_work, queued below, hands it back. */
	spin_lock_irqsave(&client->rx_lock, flags);
	client->rx_deferred = true;
	spin_unlock_irqrestore(&client->rx_lock, flags);
	atomic64_inc(&client->counters.region_resets);
	omem_session_close(client, OMEM_SESSION_IDLE);
	ret = omem_transport_load_region(client);
	if (ret) {
		omem_session_close(client, OMEM_SESSION_CLOSED);
		return;
	}
	if (was_open)
		omem_host_log(client, info,
			      "session closed: omemd reset the region (generation %u); saying HELLO again\n",
			      client->generation);
	client->rx_broken = false;
	client->rx_seq = 1;
	omem_session_start(client);
	/* Messages may have come with the reset: look. */
	if (!READ_ONCE(client->stopping))
		queue_work(client->wq, &client->rx_work);
}

/**
 * omem_session_ping() - one PING/PONG round trip, interrupt driven
 * @client: the client; caller holds client->bench_mutex.
 * @ns:     where the round trip time goes.
 *
 * Return: 0; -ENOTCONN without a session; -ETIMEDOUT after
 * omem_ping_timeout_ms; -ENODEV once remove() has begun; or what
 * omem_session_send() returned.
 */
int omem_session_ping(struct omem_client *client, u64 *ns)
{
	unsigned long timeout = msecs_to_jiffies(omem_ping_timeout_ms);
	struct omem_message message = {};
	unsigned long flags;
	bool answered;
	ktime_t start;
	int ret;

	omem_session_fill_header(&message, OMEM_RPC_PING, 0);
	spin_lock_irqsave(&client->lock, flags);
	if (client->stopping) {
		ret = -ENODEV;
	} else if (client->state != OMEM_SESSION_OPEN) {
		ret = -ENOTCONN;
	} else {
		message.payload.ping.cookie = cpu_to_le64(++client->ping_cookie);
		reinit_completion(&client->ping_done);
		client->ping_waiting = true;
		start = ktime_get();
		ret = omem_session_send_locked(client, &message, NULL);
		if (ret)
			client->ping_waiting = false;
	}
	spin_unlock_irqrestore(&client->lock, flags);
	if (ret)
		return ret;

	wait_for_completion_timeout(&client->ping_done, timeout);
	*ns = ktime_to_ns(ktime_sub(ktime_get(), start));

	spin_lock_irqsave(&client->lock, flags);
	answered = !client->ping_waiting;
	client->ping_waiting = false;
	if (client->stopping)
		ret = -ENODEV;
	else if (client->state != OMEM_SESSION_OPEN)
		ret = -ENOTCONN;
	else if (!answered)
		ret = -ETIMEDOUT;
	spin_unlock_irqrestore(&client->lock, flags);
	return ret;
}

/* Set up the session's state and work items; nothing runs yet. */
void omem_session_init(struct omem_client *client)
{
	spin_lock_init(&client->lock);
	spin_lock_init(&client->rx_lock);
	client->state = OMEM_SESSION_IDLE;
	client->rx_seq = 1;
	init_completion(&client->ping_done);
	init_completion(&client->raw_done);
	atomic_set(&client->raw_waiting, 0);
	mutex_init(&client->bench_mutex);
	INIT_WORK(&client->rx_work, omem_session_rx_work);
	INIT_WORK(&client->reset_work, omem_session_reset_work);
	INIT_DELAYED_WORK(&client->hello_work, omem_session_hello_work);
}

/**
 * omem_session_stop() - remove() has begun: no new work, wake waiters
 * @client:      the client.
 * @say_goodbye: the module is unloading: tell omemd if a session is open
 *               (on a device detach omemd is gone already).
 */
void omem_session_stop(struct omem_client *client, bool say_goodbye)
{
	struct omem_message message = {};
	unsigned long flags;

	omem_session_fill_header(&message, OMEM_RPC_GOODBYE, 0);
	message.payload.goodbye.reason = cpu_to_le32(OMEM_RPC_GOODBYE_UNLOAD);

	spin_lock_irqsave(&client->lock, flags);
	client->stopping = true;
	if (say_goodbye && client->state == OMEM_SESSION_OPEN)
		omem_session_send_locked(client, &message, NULL);
	client->state = OMEM_SESSION_IDLE;
	if (client->ping_waiting)
		complete(&client->ping_done);
	spin_unlock_irqrestore(&client->lock, flags);
	complete(&client->raw_done);
}

/* After client->wq is gone: close the policy's session, if open. */
void omem_session_finish(struct omem_client *client)
{
	if (client->policy_open) {
		client->policy_open = false;
		if (client->policy && client->policy->session_closed)
			client->policy->session_closed(client);
	}
}
