/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * omem_client.ko internals shared by its files: the per-device client
 * object, the transport (omem_transport.c: BARs, region, rings, doorbell,
 * interrupts), the session (omem_session.c: HELLO/WELCOME, dispatch of the
 * host's messages, PING) and the hooks the memory policy will use.
 *
 * Execution contexts:
 *  - hard IRQ: the ring vector drains the host->guest ring itself and
 *    completes PONG waiters there (omem_session_rx_irq(); and the raw
 *    doorbell benchmark); at the first message that needs process
 *    context it hands the ring to rx_work until the ring is empty.  The
 *    control vector only queues reset_work;
 *  - client->wq, an ordered workqueue: rx_work (drain the host->guest
 *    ring for what needs process context), reset_work (region reset),
 *    hello_work (HELLO retries).  Being ordered, these never run
 *    concurrently; the consumer side of the host->guest ring is shared
 *    with the interrupt under client->rx_lock (see @rx_deferred);
 *  - any context: omem_session_send() (takes client->lock, irqsave).
 *
 * The memory policy (omem_policy.c, deciding with omem_decide.c, with the
 * OOM reserve of omem_reserve.c) is module-wide; its hooks are struct
 * omem_policy_ops below.
 */
#ifndef OMEM_CLIENT_H
#define OMEM_CLIENT_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include <omem/rpc.h>

#include "omem_version.h"
#include "omem_wire.h"

/* Most round trips one benchmark run may ask for: bounds the sample
 * array (8 bytes each) a debugfs write can make the kernel allocate. */
#define OMEM_CLIENT_BENCH_MAX 100000u

/* ivshmem BAR0 registers (QEMU docs/specs/ivshmem-spec.rst). */
#define OMEM_IVSHMEM_INTRMASK   0x00 /* INTx only; unused with MSI-X */
#define OMEM_IVSHMEM_INTRSTATUS 0x04 /* INTx only; unused with MSI-X */
#define OMEM_IVSHMEM_IVPOSITION 0x08 /* our own peer id, read-only */
#define OMEM_IVSHMEM_DOORBELL   0x0c /* write (peer << 16) | vector */
#define OMEM_IVSHMEM_REGS_BYTES 0x10

enum omem_session_state {
	OMEM_SESSION_IDLE,	/* not started, or the device is going away */
	OMEM_SESSION_HELLO,	/* HELLO sent, waiting for WELCOME */
	OMEM_SESSION_OPEN,	/* WELCOME received: the contract holds */
	OMEM_SESSION_CLOSED,	/* ERROR/GOODBYE/fault: wait for a region reset */
};

/*
 * struct omem_session_contract - WELCOME's figures in CPU byte order; see
 * struct omem_rpc_welcome in omem/rpc.h for each field's meaning.
 */
struct omem_session_contract {
	u16 version;
	u32 buffer_percent;
	u64 features;
	u64 boot_bytes;
	u64 min_bytes;
	u64 max_bytes;
	u64 cap_bytes;
	u64 plugged_bytes;
	u64 block_bytes;
	u32 stats_interval_ms;
	u32 demand_interval_ms;
};

struct omem_client;

/**
 * struct omem_policy_ops - where the memory policy plugs in
 * @session_opened: WELCOME arrived; @contract is valid until the next call.
 * @session_closed: the session ended (GOODBYE, ERROR, reset, remove).
 * @grant:          GRANT answering the DEMAND of seq @reply_to.
 * @deny:           DENY answering the DEMAND of seq @reply_to.
 * @reclaim:        RECLAIM (seq @seq): free memory within @deadline_ms.
 *
 * Every callback is optional and runs on client->wq (process context, may
 * sleep briefly) after the message has been validated.  A callback must
 * not wait for another host message: the host->guest ring is drained by
 * the very work item that calls it.
 */
struct omem_policy_ops {
	void (*session_opened)(struct omem_client *client,
			       const struct omem_session_contract *contract);
	void (*session_closed)(struct omem_client *client);
	void (*grant)(struct omem_client *client, u32 reply_to, u64 bytes,
		      u64 target_bytes);
	void (*deny)(struct omem_client *client, u32 reply_to, u32 reason,
		     u32 retry_after_ms);
	void (*reclaim)(struct omem_client *client, u32 seq, u64 bytes,
			u32 deadline_ms);
};

/**
 * struct omem_transport_ring - the guest's view of one shared ring
 * @indices: head/tail block inside the shared region.
 * @slots:   slot 0 inside the shared region.
 * @count:   slots in the ring (power of two, checked at probe/reset).
 * @index:   our own free-running index: head for the ring we produce
 *           into (guest->host), tail for the one we consume (host->guest).
 *           The shared copy is only ever written from this one.
 */
struct omem_transport_ring {
	struct omem_rpc_ring *indices;
	u8 *slots;
	u32 count;
	u32 index;
};

/* Counters shown in debugfs; atomic so any context may bump them. */
struct omem_client_counters {
	atomic64_t messages_sent;
	atomic64_t messages_received;
	atomic64_t doorbells;
	atomic64_t hello_sent;
	atomic64_t hello_retries;
	atomic64_t sessions_opened;
	atomic64_t region_resets;
	atomic64_t ring_full;
	atomic64_t protocol_errors;	/* host messages or indices refused */
	atomic64_t errors_received;	/* ERROR messages from the host */
	atomic64_t stale_discarded;	/* host messages left from an old session */
};

/* Latency samples of the last benchmark run, sorted, in ns. */
struct omem_bench_result {
	u64 *samples;
	u32 count;
	u32 failures;
};

/**
 * struct omem_client - one bound omem ivshmem device
 * @pdev:          the PCI device.
 * @registers:     BAR0.
 * @region:        BAR2, the shared region, mapped write-back.
 * @region_bar_bytes: length of BAR2.
 * @own_peer_id:   IVPOSITION: our ivshmem peer id.
 * @irq:           Linux IRQ of each MSI-X vector, OMEM_RPC_VECTOR_* order.
 * @wq:            ordered workqueue running @rx_work, @reset_work and
 *                 @hello_work (see the top of this file).
 * @rx_work:       drains the host->guest ring while @rx_deferred.
 * @reset_work:    handles OMEM_RPC_VECTOR_CONTROL (region reset).
 * @hello_work:    (re)sends HELLO until WELCOME.
 * @lock:          protects @stopping, @state, @host_peer_id, @generation,
 *                 @g2h (and the guest->host ring's producer side), @tx_seq,
 *                 @hello_queued, @hello_index, @hello_delay_ms, @contract,
 *                 @ping_cookie, @ping_waiting.  Taken irqsave: senders may
 *                 be anywhere.
 * @stopping:      remove() has begun: queue no more work.
 * @state:         enum omem_session_state.
 * @host_peer_id:  from the region header: where our doorbells go.
 * @generation:    from the region header, for the logs.
 * @g2h:           guest->host ring (we produce).
 * @rx_lock:       protects @h2g's consumer side and @rx_deferred; orders
 *                 @rx_seq's hand-over between the ring interrupt and @wq.
 *                 Taken before @lock, irqsave outside the interrupt.
 * @rx_deferred:   the host->guest ring belongs to @rx_work (queued or
 *                 running, or parked by a reset or @rx_broken): the ring
 *                 interrupt leaves it alone.  Clear: the interrupt drains.
 * @h2g:           host->guest ring (we consume); see @rx_lock.
 * @rx_seq:        seq we expect on the host's next message; written by
 *                 the ring interrupt while !@rx_deferred, by @wq while set.
 * @rx_broken:     host->guest indices were garbage: stop consuming until
 *                 a region reset (@rx_deferred stays set); @wq only.
 * @policy_open:   session_opened was delivered and session_closed not
 *                 yet; @wq only (and remove() once @wq is gone).
 * @tx_seq:        seq of our last message (0: none yet this session).
 * @hello_queued:  a HELLO of this attempt sits in the guest->host ring.
 * @hello_index:   guest->host index our last HELLO was written at.
 * @hello_delay_ms: current HELLO retry delay (bounded exponential backoff).
 * @contract:      last WELCOME, valid while @state is OMEM_SESSION_OPEN.
 * @ping_cookie:   cookie of the last PING sent (a counter).
 * @ping_waiting:  a PING round trip is in flight.
 * @ping_done:     completed by the PONG carrying @ping_cookie.
 * @raw_waiting:   the raw doorbell benchmark waits for a ring interrupt.
 * @raw_done:      completed by that interrupt (hard IRQ).
 * @bench_mutex:   protects @ping_result and @raw_result, serialises
 *                 benchmark runs (one PING in flight at a time).
 * @ping_result:   last PING/PONG benchmark.
 * @raw_result:    last raw doorbell benchmark.
 * @debugfs_dir:   /sys/kernel/debug/omem_client.
 * @policy:        memory policy hooks (&omem_policy_ops); set before the
 *                 session starts, constant afterwards.
 * @counters:      statistics.
 */
struct omem_client {
	struct pci_dev *pdev;
	void __iomem *registers;
	void *region;
	u64 region_bar_bytes;
	u32 own_peer_id;
	int irq[OMEM_RPC_VECTORS];

	struct workqueue_struct *wq;
	struct work_struct rx_work;
	struct work_struct reset_work;
	struct delayed_work hello_work;

	spinlock_t lock;
	bool stopping;
	enum omem_session_state state;
	u32 host_peer_id;
	u32 generation;
	struct omem_transport_ring g2h;
	spinlock_t rx_lock;
	bool rx_deferred;
	struct omem_transport_ring h2g;
	u32 rx_seq;
	bool rx_broken;
	bool policy_open;
	u32 tx_seq;
	bool hello_queued;
	u32 hello_index;
	unsigned int hello_delay_ms;
	struct omem_session_contract contract;
	u64 ping_cookie;
	bool ping_waiting;
	struct completion ping_done;

	atomic_t raw_waiting;
	struct completion raw_done;

	struct mutex bench_mutex;
	struct omem_bench_result ping_result;
	struct omem_bench_result raw_result;
	struct dentry *debugfs_dir;

	const struct omem_policy_ops *policy;
	struct omem_client_counters counters;
};

/* Module parameters (omem_module.c). */
extern unsigned int omem_hello_retry_ms;
extern unsigned int omem_hello_retry_max_ms;
extern unsigned int omem_ping_timeout_ms;

/* omem_transport.c */
int omem_transport_map(struct omem_client *client);
int omem_transport_check_magic(struct omem_client *client);
int omem_transport_load_region(struct omem_client *client);
int omem_transport_setup_irqs(struct omem_client *client);
void omem_transport_free_irqs(struct omem_client *client);
int omem_transport_produce(struct omem_client *client, const void *message,
			   size_t size, u32 *index);
bool omem_transport_consumed(struct omem_client *client, u32 index);
void omem_transport_ring_host(struct omem_client *client);
int omem_transport_peek(struct omem_client *client, void *slot);
void omem_transport_advance(struct omem_client *client);
int omem_transport_consume(struct omem_client *client, void *slot);
int omem_transport_raw_round_trip(struct omem_client *client, u64 *ns);

/* omem_session.c */
void omem_session_init(struct omem_client *client);
void omem_session_start(struct omem_client *client);
void omem_session_stop(struct omem_client *client, bool say_goodbye);
void omem_session_finish(struct omem_client *client);
int omem_session_send(struct omem_client *client,
		      struct omem_message *message);
int omem_session_ping(struct omem_client *client, u64 *ns);
void omem_session_rx_irq(struct omem_client *client);
void omem_session_rx_work(struct work_struct *work);
void omem_session_reset_work(struct work_struct *work);
void omem_session_hello_work(struct work_struct *work);
const char *omem_session_state_name(enum omem_session_state state);

/* omem_policy.c */
struct seq_file;
extern const struct omem_policy_ops omem_policy_ops;
int omem_policy_init(void);
void omem_policy_exit(void);
void omem_policy_show(struct seq_file *m);

/* omem_reserve.c */
void omem_reserve_init(void);
void omem_reserve_exit(void);
unsigned long omem_reserve_release(void);
u64 omem_reserve_missing_bytes(void);
bool omem_reserve_refill(void);
u64 omem_reserve_bytes(u64 *target_bytes);

/* omem_thp.c: at load, the THP policy a small boot switched off */
void omem_thp_init(void);

/* omem_debugfs.c */
void omem_debugfs_create(struct omem_client *client);
void omem_debugfs_remove(struct omem_client *client);

/* omem_inject.c: test facility only (debugfs "inject"), built only with
 * OMEM_FAULT_INJECTION=y (configure --enable-fault-injection). */
struct dentry;
#ifdef OMEM_FAULT_INJECTION
void omem_inject_create(struct omem_client *client, struct dentry *dir);
#else
static inline void omem_inject_create(struct omem_client *client, struct dentry *dir)
{
}
#endif

/*
 * omem_host_log() - print a line the host can trigger: anything about its
 * messages, its region, its resets.  Every such line goes through here,
 * rate-limited per call site the way printk_ratelimited is (a burst of
 * DEFAULT_RATELIMIT_BURST per DEFAULT_RATELIMIT_INTERVAL, then a count of
 * those missed), so a broken or hostile omemd cannot flood the guest's
 * log.  @level is info, warn or err.
 */
#define omem_host_log(client, level, fmt, ...) \
	dev_##level##_ratelimited(&(client)->pdev->dev, fmt, ##__VA_ARGS__)

#endif /* OMEM_CLIENT_H */
