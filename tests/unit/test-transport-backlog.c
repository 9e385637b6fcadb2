/* SPDX-License-Identifier: MIT */
/*
 * Unit test of omemd's transport back-pressure (host-server/daemon/
 * transport.c): two real transports on one transport thread, as in
 * omemd, each with a fake QEMU (fake-qemu.h) whose guest writes STATS
 * through the real ring and codec.  The test is the manager: it holds
 * the events it is handed, as the main thread does until it handles
 * them.  Checked: a guest flooding a manager that handles nothing has at
 * most TRANSPORT_BACKLOG_MAX events outstanding and the rest of its
 * messages waiting in its ring; another VM is served meanwhile; once the
 * events are handled the transport resumes on its own and every message
 * arrives once, in order.
 */
#include "config.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "daemon/transport.h"
#include "fake-qemu.h"
#include "omem/rpc.h"
#include "rpc/rpc-codec.h"
#include "rpc/rpc-ring.h"
#include "tap.h"

/* 64 KiB lays out 64 slots per ring (rpc-ring.c's default). */
#define TEST_REGION_SIZE (64u * 1024)
/* Liveness bound for anything the transport thread must do; generous
 * for a loaded machine, not a speed target. */
#define TEST_TIMEOUT_MS 2000
/* Ten of the transport's backlog retries (10 ms each): long enough for
 * a transport that ignores its backlog to drain what the ring holds. */
#define TEST_QUIET_MS 100
/* Each guest floods with this many STATS: more than the backlog and its
 * ring hold together, so both bounds are reached. */
#define TEST_MESSAGES (3 * TRANSPORT_BACKLOG_MAX + 8)
/* The STATS tag whose value carries the message's index. */
#define TEST_INDEX_TAG OMEM_RPC_STAT_SWAP_OUT_COUNT

/* So no message is refused for its rate while the test floods. */
static const SessionConfig test_session_config = {
	.stats_interval_ms = 1000,
	.demand_interval_ms = 100,
	.rate_per_s = 100000,
	.rate_burst = 100000,
	.rate_strikes = 10,
	.error_limit = 4,
	.demand_burst = 2,
};

/* What WELCOME carries; any figures the codec accepts. */
static const struct rpc_msg_welcome test_contract = {
	.buffer_percent = 10,
	.boot_bytes = 256u << 20,
	.min_bytes = 256u << 20,
	.max_bytes = 1024u << 20,
	.cap_bytes = 1024u << 20,
	.block_bytes = 2u << 20,
};

/* The transport thread: iterates the transports' context until stopped. */
typedef struct {
	GMainContext *context;
	GThread *thread;
	gint stop;
} TestLoop;

/* One VM: its transport, the QEMU and guest the test plays, and the
 * events the transport handed over (each held until released). */
typedef struct {
	const char *name;
	char *socket_path;
	Transport *transport;
	GAsyncQueue *events;              /* TransportEvent *, held */
	gint *backlog;                    /* the transport's own count, from its first event */
	int sock;                         /* QEMU's connection */
	FakeQemuHandshake handshake;
	void *region;                     /* mapped from the shared memory fd */
	struct rpc_ring_producer g2h;     /* the guest's ends */
	struct rpc_ring_consumer h2g;
	unsigned written;                 /* STATS put in the ring */
	unsigned arrived;                 /* STATS events released, all in order */
	bool out_of_order;                /* an event other than the next STATS came */
} TestVm;

static gpointer test_loop_run(gpointer data)
{
	TestLoop *loop = data;

	while (!g_atomic_int_get(&loop->stop))
		g_main_context_iteration(loop->context, TRUE);
	return NULL;
}

/* Stop the thread; afterwards the transports may be freed from here. */
static void test_loop_stop(TestLoop *loop)
{
	g_atomic_int_set(&loop->stop, 1);
	g_main_context_wakeup(loop->context);
	g_thread_join(loop->thread);
}

/* The transport thread's callback: keep a held copy, as vm-link.c does. */
static void test_on_event(Transport *transport, const TransportEvent *event, gpointer user_data)
{
	TestVm *vm = user_data;
	TransportEvent *copy = g_memdup2(event, sizeof(*event));

	if (!vm->backlog)
		vm->backlog = g_atomic_rc_box_acquire(event->backlog);
	transport_event_hold(copy);
	g_async_queue_push(vm->events, copy);
}

/* The manager handled @event. */
static void test_release(TransportEvent *event)
{
	transport_event_done(event);
	g_free(event);
}

/* The next event handed over within @timeout_ms, or NULL. */
static TransportEvent *test_next_event(TestVm *vm, int timeout_ms)
{
	return g_async_queue_timeout_pop(vm->events, (guint64)timeout_ms * 1000);
}

/* Events handed over and not yet released. */
static int test_outstanding(TestVm *vm)
{
	return g_async_queue_length(vm->events);
}

/* Messages in the guest->host ring the transport has not taken: the
 * guest's head against the tail the transport published. */
static uint32_t test_unread(TestVm *vm)
{
	const struct omem_rpc_ring *ring = (const void *)vm->g2h.ring;
	uint32_t tail = GUINT32_FROM_LE(__atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE));

	return vm->g2h.head - tail;
}

static void test_ring_doorbell(TestVm *vm)
{
	const uint64_t one = 1;

	if (write(fake_qemu_server_doorbell_fd(&vm->handshake, OMEM_RPC_VECTOR_RING), &one,
		  sizeof(one)) != sizeof(one))
		tap_diag("%s: doorbell not rung: %s", vm->name, g_strerror(errno));
}

/* Encode @msg as the guest does and put it in the ring: 0, -EAGAIN
 * (ring full) or another -errno. */
static int test_guest_send(TestVm *vm, const struct rpc_msg *msg)
{
	guint8 slot[OMEM_RPC_SLOT_SIZE];
	struct rpc_codec_error error;
	int r;

	r = rpc_codec_encode(msg, slot, sizeof(slot), &error);
	if (r < 0) {
		tap_diag("%s: cannot encode %s: %s at %s", vm->name, rpc_codec_type_name(msg->type),
			 rpc_codec_error_name(error.code), error.field);
		return r;
	}
	return rpc_ring_send(&vm->g2h, slot);
}

/* STATS number @index of the flood: seq 2 on (HELLO is 1), the index in
 * a value, so the events show order and duplicates. */
static struct rpc_msg test_stats(unsigned index)
{
	return (struct rpc_msg){ .type = OMEM_RPC_STATS, .seq = index + 2,
				 .u.stats = { .count = 1,
					      .stats = { { TEST_INDEX_TAG, index } } } };
}

/* Put as many of the flood's STATS in the ring as it takes and ring the
 * doorbell once for them; returns how many went in (0 with the ring full
 * or the flood all written). */
static unsigned test_guest_feed(TestVm *vm)
{
	unsigned put = 0;

	while (vm->written < TEST_MESSAGES) {
		struct rpc_msg msg = test_stats(vm->written);

		if (test_guest_send(vm, &msg) < 0)
			break;
		vm->written++;
		put++;
	}
	if (put)
		test_ring_doorbell(vm);
	return put;
}

/* Handle (release) @event, counting it when it is the next STATS. */
static void test_handle(TestVm *vm, TransportEvent *event)
{
	const SessionEvent *session = &event->session;

	if (event->type == TRANSPORT_EVENT_SESSION && session->type == SESSION_EVENT_STATS &&
	    session->seq == vm->arrived + 2 && session->u.stats.count == 1 &&
	    session->u.stats.stats[0].tag == TEST_INDEX_TAG &&
	    session->u.stats.stats[0].value == vm->arrived) {
		vm->arrived++;
	} else if (!vm->out_of_order) {
		tap_diag("%s: after %u STATS in order came event type %d, session event %d, seq %u",
			 vm->name, vm->arrived, event->type, session->type, session->seq);
		vm->out_of_order = true;
	}
	test_release(event);
}

/* Handle every event as it comes while the guest writes the rest of the
 * flood; stops once all arrived, at the first event out of order, or
 * when nothing came for TEST_TIMEOUT_MS. */
static void test_handle_flood(TestVm *vm)
{
	gint64 last = g_get_monotonic_time();

	while (vm->arrived < TEST_MESSAGES && !vm->out_of_order &&
	       g_get_monotonic_time() - last < TEST_TIMEOUT_MS * 1000) {
		TransportEvent *event;

		test_guest_feed(vm);
		event = test_next_event(vm, 1);
		if (event) {
			test_handle(vm, event);
			last = g_get_monotonic_time();
		}
	}
}

/* Check that @vm saw the whole flood once, in order, and nothing after. */
static void test_check_flood(TestVm *vm, const char *what)
{
	TransportEvent *extra;

	tap_ok(vm->arrived == TEST_MESSAGES && !vm->out_of_order,
	       "%s: all %d STATS arrived exactly once, in order (%u did)", what, TEST_MESSAGES,
	       vm->arrived);
	extra = test_next_event(vm, TEST_QUIET_MS);
	tap_ok(extra == NULL, "%s: no event after the last STATS", what);
	if (extra)
		test_handle(vm, extra);
	tap_eq(test_unread(vm), 0, "%s: the guest->host ring is empty", what);
}

/* Create and start @vm's transport, connect its QEMU, map the region,
 * attach the guest's ring ends and open a session.  False (checks
 * failed) when the VM cannot be used. */
static bool test_vm_open(TestVm *vm, const char *folder, const char *name, TestLoop *loop)
{
	g_autofree char *file = g_strdup_printf("%s.sock", name);
	g_autoptr(GError) error = NULL;
	TransportConfig config = {
		.name = name,
		.region_size = TEST_REGION_SIZE,
		.allowed_uid = getuid(),
		.allow_root = true,
		.allowed_pid = getpid(),
		.session = test_session_config,
		.on_event = test_on_event,
		.user_data = vm,
	};
	struct rpc_msg hello = { .type = OMEM_RPC_HELLO, .seq = 1,
				 .u.hello = { .version_min = 1, .version_max = 1,
					      .client_version = 0x10000, .guest_total_bytes = 256u << 20,
					      .memory_block_bytes = 128u << 20, .page_bytes = 4096 } };
	struct rpc_region_layout layout;
	TransportEvent *event;
	int i, r;

	vm->name = name;
	vm->sock = -1;
	for (i = 0; i < FAKE_QEMU_HANDSHAKE_MESSAGES; i++)
		vm->handshake.fds[i] = -1;
	vm->region = MAP_FAILED;
	vm->events = g_async_queue_new();
	vm->socket_path = g_build_filename(folder, file, NULL);
	config.socket_path = vm->socket_path;
	vm->transport = transport_new(&config, &error);
	if (!tap_ok(vm->transport != NULL, "%s: transport created", name)) {
		tap_diag("%s", error->message);
		return false;
	}
	transport_set_contract(vm->transport, &test_contract);
	transport_start(vm->transport, loop->context);

	vm->sock = fake_qemu_connect(vm->socket_path, TEST_TIMEOUT_MS);
	r = vm->sock < 0 ? vm->sock : fake_qemu_handshake_receive(vm->sock, &vm->handshake);
	if (!tap_eq(r, 0, "%s: QEMU connects and receives the handshake", name)) {
		tap_diag("%s", g_strerror(-r));
		return false;
	}
	/* The region is laid out again on connect: map and read it after. */
	event = test_next_event(vm, TEST_TIMEOUT_MS);
	r = event && event->type == TRANSPORT_EVENT_CONNECTED;
	if (event)
		test_release(event);
	if (!tap_ok(r, "%s: the transport reports the connection", name))
		return false;
	vm->region = mmap(NULL, TEST_REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			  fake_qemu_shm_fd(&vm->handshake), 0);
	r = vm->region != MAP_FAILED &&
	    rpc_ring_region_read_layout(vm->region, TEST_REGION_SIZE, &layout) == 0 &&
	    rpc_ring_guest_attach(vm->region, &layout, 0, &vm->g2h, &vm->h2g) == 0;
	if (!tap_ok(r, "%s: the guest maps the region and attaches its ring ends", name))
		return false;
	tap_diag("%s: %u guest->host slots", name, layout.g2h_slots);

	r = test_guest_send(vm, &hello);
	if (r == 0)
		test_ring_doorbell(vm);
	event = r == 0 ? test_next_event(vm, TEST_TIMEOUT_MS) : NULL;
	r = event && event->type == TRANSPORT_EVENT_SESSION &&
	    event->session.type == SESSION_EVENT_OPENED;
	if (event)
		test_release(event);
	return tap_ok(r, "%s: HELLO opens a session", name);
}

static void test_vm_close(TestVm *vm)
{
	TransportEvent *event;

	transport_free(vm->transport);
	while ((event = g_async_queue_try_pop(vm->events)))
		test_release(event);
	g_async_queue_unref(vm->events);
	if (vm->backlog)
		g_atomic_rc_box_release(vm->backlog);
	if (vm->region != MAP_FAILED)
		munmap(vm->region, TEST_REGION_SIZE);
	fake_qemu_handshake_clear(&vm->handshake);
	if (vm->sock >= 0)
		close(vm->sock);
	g_free(vm->socket_path);
}

/* The manager handles nothing while the guest writes until its ring is
 * full: the transport stops at the bound and leaves the rest in the
 * ring.  Returns how many messages the transport had taken. */
static unsigned test_backlogged(TestVm *vm)
{
	gint64 deadline = g_get_monotonic_time() + TEST_TIMEOUT_MS * 1000;
	struct rpc_msg next;
	unsigned taken;
	int outstanding;

	/* Until both bounds are reached, or the flood is all written (a
	 * transport without back-pressure drains it all). */
	while (g_get_monotonic_time() < deadline && vm->written < TEST_MESSAGES &&
	       !(test_outstanding(vm) >= TRANSPORT_BACKLOG_MAX && test_unread(vm) == vm->g2h.slots)) {
		test_guest_feed(vm);
		g_usleep(1000);
	}
	/* Give the transport time to take more than it should, and the
	 * guest a chance to fill what it took. */
	g_usleep(TEST_QUIET_MS * 1000);
	test_guest_feed(vm);
	g_usleep(TEST_QUIET_MS * 1000);

	outstanding = test_outstanding(vm);
	taken = vm->written - test_unread(vm);
	tap_diag("%s: %u written, %u taken off the ring, %d events outstanding", vm->name,
		 vm->written, taken, outstanding);
	tap_ok(outstanding <= TRANSPORT_BACKLOG_MAX,
	       "%s: with nothing handled, at most %d events are outstanding (%d)", vm->name,
	       TRANSPORT_BACKLOG_MAX, outstanding);
	tap_eq(outstanding, TRANSPORT_BACKLOG_MAX,
	       "%s: the transport drained up to the bound before it stopped", vm->name);
	tap_eq(g_atomic_int_get(vm->backlog), outstanding,
	       "%s: the transport's count agrees with the events held", vm->name);
	tap_eq(taken, outstanding,
	       "%s: every message taken off the ring became one event (none dropped)", vm->name);
	tap_eq(test_unread(vm), vm->g2h.slots,
	       "%s: the guest's other messages wait in its ring, which is full", vm->name);
	next = test_stats(vm->written);
	tap_eq(test_guest_send(vm, &next), -EAGAIN,
	       "%s: the guest's next send finds the ring full (its own back-pressure)", vm->name);
	return taken;
}

int main(void)
{
	g_autofree char *folder = g_dir_make_tmp("test-transport-backlog-XXXXXX", NULL);
	TestLoop loop = { 0 };
	TestVm flooder = { 0 }, other = { 0 };
	TransportEvent *event;
	unsigned taken;
	gint64 released;
	bool ready;

	if (!tap_ok(folder != NULL, "temporary folder created"))
		return tap_done();
	loop.context = g_main_context_new();
	loop.thread = g_thread_new("transport", test_loop_run, &loop);

	ready = test_vm_open(&flooder, folder, "flooder", &loop);
	ready = test_vm_open(&other, folder, "other", &loop) && ready;
	if (!ready)
		goto out;

	taken = test_backlogged(&flooder);

	/* Meanwhile the other VM on the same thread is served in full. */
	test_handle_flood(&other);
	test_check_flood(&other, "other VM, while the flooder is backlogged");
	tap_eq(test_outstanding(&flooder), taken,
	       "the flooder is still held at the bound after the other VM's flood");
	tap_eq(flooder.written - test_unread(&flooder), taken,
	       "the flooder's ring was not drained further meanwhile");

	/* The manager catches up: the transport resumes on its own (the
	 * ring is full, so no doorbell comes), and the rest follows. */
	while ((event = g_async_queue_try_pop(flooder.events)))
		test_handle(&flooder, event);
	released = g_get_monotonic_time();
	event = test_next_event(&flooder, TEST_TIMEOUT_MS);
	tap_ok(event != NULL, "flooder: the transport resumes within %d ms of the release (%" G_GINT64_FORMAT " ms)",
	       TEST_TIMEOUT_MS, (g_get_monotonic_time() - released) / 1000);
	if (event)
		test_handle(&flooder, event);
	test_handle_flood(&flooder);
	test_check_flood(&flooder, "flooder, once its events are handled");

out:
	test_loop_stop(&loop);
	test_vm_close(&flooder);
	test_vm_close(&other);
	g_main_context_unref(loop.context);
	g_rmdir(folder);
	return tap_done();
}
