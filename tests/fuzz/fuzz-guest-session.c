/* SPDX-License-Identifier: MIT */
/*
 * fuzz-guest-session: a stateful fuzzer of omemd's guest-message path.
 *
 * One input is a short life of one to three VMs on one host: their
 * guests' messages (any type, any figures, lies and wraps included, or
 * raw slots), their QEMUs' plug and unplug progress, libvirt refusing a
 * resize or a resize made behind omemd's back, reboots, reconnections,
 * host pressure and the passing of time.  Everything between the ring and
 * libvirt is the real code: the codec, the session (rpc/session.c), the
 * manager's VM handlers (daemon/vm*.c, manager-arbiter.c), trust and the
 * arbiter.  Two seams replace what has real I/O:
 *
 *  - the transport (daemon/transport.c: the ivshmem region, doorbells,
 *    the ring) is this file's: each guest message is encoded, decoded by
 *    rpc_codec_decode and handed to session_receive as the transport
 *    thread does, and the manager's replies come back through
 *    session_take_reply;
 *  - libvirt's calls are the actuator's ops (Manager.actuator_ops): a fake
 *    virtio-mem device per VM that holds the requested size omemd set and
 *    plugs towards it only when the input says so.
 *
 * The clock is the input's: manager_now_ms and manager_unix_ms are wrapped
 * at link time (-Wl,--wrap).  Log lines go to a sink that counts them.
 *
 * After every step the oracle checks: the arbiter's own invariants
 * (arbiter_check); no VM's requested size above its ceiling (cap or max,
 * less boot), in omemd's view and in the fake device; no grant beyond the
 * floors past the budget; a distrusted guest given no more than its rate
 * (one step per interval and one extra for a CRITICAL DEMAND, counted on
 * what it holds: requested or, while an unplug is not done, plugged,
 * and afresh each time trust is lowered); at most a
 * bounded number of log lines per VM in each 5 s of guest messages; and
 * no work left queued once a step settled.
 *
 * Input: byte 0 picks the number of VMs and the budget; then two bytes per
 * VM for its contract; then steps, each an opcode byte (low 4 bits: what,
 * high 4 bits: which VM) and the bytes that step reads (see fz_step).
 * Sizes read from the input are mostly plausible (a byte times 8 MiB) and
 * sometimes raw 64-bit values, so that sums near the wrap are reached.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <libvirt/virterror.h>

#include "daemon/manager-private.h"
#include "daemon/omemd-log.h"
#include "daemon/transport.h"
#include "daemon/vm.h"
#include "rpc/rpc-codec.h"
#include "rpc/session.h"

#define FZ_MIB (1024ull * 1024)
#define FZ_GIB (1024ull * FZ_MIB)
#define FZ_VMS_MAX 3
#define FZ_BLOCK (2 * FZ_MIB)
#define FZ_STEPS_MAX 400
/* Lines one VM's guest messages may cause in one window of
 * OMEMD_LOG_LIMIT_INTERVAL_MS: the rate limit's lines and its summary,
 * and room for the lines that are not the guest's doing (resizes the
 * arbiter decided, host events). */
#define FZ_LINES_PER_WINDOW (2 * (OMEMD_LOG_LIMIT_LINES + 1) + 8)

/* ---------------------------------------------------------------- clock */

static int64_t fz_now_ms = 1000000;

int64_t __wrap_manager_now_ms(void);
int64_t __wrap_manager_now_ms(void)
{
	return fz_now_ms;
}

int64_t __wrap_manager_unix_ms(void);
int64_t __wrap_manager_unix_ms(void)
{
	return 1700000000000ll + fz_now_ms;
}

/* ------------------------------------------------------------ the input */

typedef struct {
	const uint8_t *data;
	size_t size, at;
} FzInput;

static uint8_t fz_byte(FzInput *in)
{
	return in->at < in->size ? in->data[in->at++] : 0;
}

static uint64_t fz_u64(FzInput *in)
{
	uint64_t value = 0;

	for (int i = 0; i < 8; i++)
		value = value << 8 | fz_byte(in);
	return value;
}

/* Mostly a byte times 8 MiB; 0xf0.. give edge values and raw ones. */
static uint64_t fz_size(FzInput *in)
{
	uint8_t b = fz_byte(in);

	switch (b) {
	case 0xf0: return 0;
	case 0xf1: return UINT64_MAX;
	case 0xf2: return UINT64_MAX - FZ_BLOCK + 1;
	case 0xf3: return (uint64_t)INT64_MAX;
	case 0xf4: return UINT64_MAX / 2 + 1;
	case 0xf5: return 1;
	}
	if (b > 0xf5)
		return fz_u64(in);
	return (uint64_t)b * 8 * FZ_MIB;
}

/* ------------------------------------------------- the fake virtio-mem */

typedef struct {
	GMutex lock;
	uint64_t requested;       /* what libvirt holds */
	bool fail_next_set;       /* the next resize is refused ... */
	bool fail_half_way;       /* ... after moving half way */
	uint64_t sets;            /* resizes made */
} FzDevice;

static FzDevice fz_devices[FZ_VMS_MAX + 1];   /* by VM id (1..) */

static FzDevice *fz_device(void *target)
{
	size_t id = GPOINTER_TO_SIZE(target);

	g_assert(id >= 1 && id <= FZ_VMS_MAX);
	return &fz_devices[id];
}

static int fz_set_requested(void *target, uint64_t bytes, char **ret_error)
{
	FzDevice *device = fz_device(target);
	int ret = 0;

	g_mutex_lock(&device->lock);
	if (device->fail_next_set) {
		device->fail_next_set = false;
		if (device->fail_half_way)
			device->requested = device->requested / 2 + bytes / 2;
		*ret_error = g_strdup("fuzz: resize refused");
		ret = -1;
	} else {
		device->requested = bytes;
		device->sets++;
	}
	g_mutex_unlock(&device->lock);
	return ret;
}

static int fz_reissue(void *target, char **ret_error)
{
	(void)target;
	(void)ret_error;
	return 0;
}

static int fz_read_requested(void *target, uint64_t *ret_bytes, char **ret_error)
{
	FzDevice *device = fz_device(target);

	(void)ret_error;
	g_mutex_lock(&device->lock);
	*ret_bytes = device->requested;
	g_mutex_unlock(&device->lock);
	return 0;
}

static int fz_write_cap(void *target, uint64_t cap_bytes, char **ret_error)
{
	(void)target;
	(void)cap_bytes;
	(void)ret_error;
	return 0;
}

static const ActuatorOps fz_ops = {
	.set_requested = fz_set_requested,
	.reissue = fz_reissue,
	.read_requested = fz_read_requested,
	.write_cap = fz_write_cap,
};

/* ------------------------------------------------------ the transport */

/* transport.h's API, for the VMs of this file only: no region, no
 * socket; the session is the real one. */
struct _Transport {
	Session session;
	struct rpc_msg_welcome contract;
	uint32_t generation;
	uint64_t replies, messages;   /* what the manager sent */
};

Transport *transport_new(const TransportConfig *config, GError **error)
{
	(void)config;
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "no transport in the fuzzer");
	return NULL;
}

void transport_start(Transport *transport, GMainContext *context)
{
	(void)transport;
	(void)context;
}

void transport_set_contract(Transport *transport, const struct rpc_msg_welcome *contract)
{
	transport->contract = *contract;
}

void transport_set_session_config(Transport *transport, const SessionConfig *config)
{
	session_set_config(&transport->session, config);
}

void transport_send_reply(Transport *transport, uint32_t epoch, uint32_t reply_to,
			  const struct rpc_msg *msg)
{
	struct rpc_msg numbered = *msg;
	uint8_t slot[OMEM_RPC_SLOT_SIZE];

	if (session_take_reply(&transport->session, epoch, reply_to, &numbered) < 0)
		return;
	/* What omemd sends must be what a guest accepts. */
	if (rpc_codec_encode(&numbered, slot, sizeof(slot), NULL) < 0)
		abort();
	transport->replies++;
}

void transport_send_message(Transport *transport, uint32_t epoch, const struct rpc_msg *msg)
{
	struct rpc_msg numbered = *msg;
	uint8_t slot[OMEM_RPC_SLOT_SIZE];

	if (epoch != transport->session.epoch || session_take_message(&transport->session, &numbered) < 0)
		return;
	if (rpc_codec_encode(&numbered, slot, sizeof(slot), NULL) < 0)
		abort();
	transport->messages++;
}

void transport_say_goodbye(Transport *transport)
{
	(void)transport;
}

void transport_free(Transport *transport)
{
	g_free(transport);
}

void transport_event_hold(TransportEvent *event)
{
	(void)event;
}

void transport_event_done(TransportEvent *event)
{
	(void)event;
}

/* ------------------------------------------------------------- the log */

typedef struct {
	int64_t window_start_ms;
	unsigned lines;
} FzLines;

static FzLines fz_lines[FZ_VMS_MAX + 1];
static char fz_names[FZ_VMS_MAX + 1][16];
static int fz_guest_step_vm;   /* the VM whose guest message is being handled, or 0 */

static void fz_sink(OmemdLogLevel level, const char *message, void *data)
{
	(void)level;
	(void)data;
	if (getenv("FUZZ_GUEST_SESSION_LOG"))
		fprintf(stderr, "[%" G_GINT64_FORMAT "] %s\n", fz_now_ms, message);
	/* Lines a guest message caused, about that guest. */
	if (fz_guest_step_vm) {
		FzLines *lines = &fz_lines[fz_guest_step_vm];

		if (fz_now_ms - lines->window_start_ms >= OMEMD_LOG_LIMIT_INTERVAL_MS) {
			lines->window_start_ms = fz_now_ms;
			lines->lines = 0;
		}
		lines->lines++;
		if (lines->lines > FZ_LINES_PER_WINDOW) {
			fprintf(stderr, "fuzz-guest-session: vm %s: more than %u lines in %u ms: %s\n",
				fz_names[fz_guest_step_vm], FZ_LINES_PER_WINDOW,
				OMEMD_LOG_LIMIT_INTERVAL_MS, message);
			abort();
		}
	}
}

/* ------------------------------------------------------------- the host */

typedef struct {
	Vm *vm;                   /* a reference */
	Transport *transport;     /* owned by vm->transport */
	uint64_t block;
	/* grants while distrusted: the last ones, for the rate oracle */
	int64_t grant_ms[8];
	uint64_t grant_bytes[8];
	unsigned grant_next;
	bool seq_skew;            /* the next message carries the input's seq */
	uint32_t skew_seq;
} FzVm;

typedef struct {
	Manager *manager;
	FzVm vms[FZ_VMS_MAX];
	unsigned n_vms;
	uint32_t next_generation;
	uint64_t above_floor;     /* the VMs' sizes beyond their floors, after the last step */
	bool outside_change;      /* this step resized a VM outside omemd */
} FzHost;

static void fz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-guest-session: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static bool fz_busy(FzHost *host)
{
	for (unsigned i = 0; i < host->n_vms; i++) {
		Vm *vm = host->vms[i].vm;

		if (vm->actuator && (actuator_busy(vm->actuator, NULL) || actuator_set_pending(vm->actuator)))
			return true;
	}
	return false;
}

/* Run what the step queued until nothing moves: the main context (the
 * actuators' results), the transport context (replies), again. */
static void fz_settle(FzHost *host)
{
	GMainContext *transport = host->manager->transport_context;

	for (int round = 0; round < 10000; round++) {
		bool moved = false;

		while (fz_busy(host))
			g_main_context_iteration(NULL, TRUE);
		while (g_main_context_iteration(NULL, FALSE))
			moved = true;
		while (g_main_context_iteration(transport, FALSE))
			moved = true;
		if (!moved && !fz_busy(host))
			return;
	}
	fz_fail("the main loop never settled", NULL);
}

/* The answer of the session, as the transport thread would act on it. */
static void fz_session_out(FzVm *fz, const SessionOutput *out)
{
	TransportEvent event = { .type = TRANSPORT_EVENT_SESSION };

	for (unsigned i = 0; i < out->n_replies; i++) {
		uint8_t slot[OMEM_RPC_SLOT_SIZE];

		if (rpc_codec_encode(&out->replies[i], slot, sizeof(slot), NULL) < 0)
			fz_fail("the session's own reply does not encode", rpc_codec_type_name(out->replies[i].type));
	}
	if (out->event.type == SESSION_EVENT_NONE)
		return;
	event.generation = fz->transport->generation;
	event.session = out->event;
	event.received_us = fz_now_ms * 1000;
	vm_on_transport(fz->vm, &event);
}

static void fz_guest_slot(FzHost *host, unsigned index, const uint8_t *slot, size_t len)
{
	FzVm *fz = &host->vms[index];
	struct rpc_codec_error error;
	struct rpc_msg msg;
	SessionOutput out;

	if (fz->transport->session.state == SESSION_STATE_CUT_OFF)
		return; /* nothing more is read from a cut-off guest */
	memset(&out, 0, sizeof(out));
	fz_guest_step_vm = (int)index + 1;
	if (rpc_codec_decode(slot, len, RPC_FROM_GUEST, &msg, &error) < 0)
		session_receive_error(&fz->transport->session, &error, fz_now_ms, &out);
	else
		session_receive(&fz->transport->session, &msg, &fz->transport->contract, fz_now_ms, &out);
	fz_session_out(fz, &out);
	fz_settle(host);
	fz_guest_step_vm = 0;
}

static void fz_guest_message(FzHost *host, unsigned index, struct rpc_msg *msg)
{
	FzVm *fz = &host->vms[index];
	uint8_t slot[OMEM_RPC_SLOT_SIZE];

	msg->seq = fz->transport->session.expect_seq ? fz->transport->session.expect_seq : 1;
	if (fz->seq_skew) {
		msg->seq = fz->skew_seq;
		fz->seq_skew = false;
	}
	if (rpc_codec_encode(msg, slot, sizeof(slot), NULL) < 0) {
		/* Not a valid message: write the header and the figures as
		 * they are, the way a broken guest would. */
		memset(slot, 0, sizeof(slot));
		memcpy(slot, &msg->type, sizeof(msg->type));
		memcpy(slot + 4, &msg->seq, sizeof(msg->seq));
		memcpy(slot + 16, &msg->u, MIN(sizeof(msg->u), sizeof(slot) - 16));
	}
	fz_guest_slot(host, index, slot, sizeof(slot));
}

static void fz_connect(FzHost *host, FzVm *fz)
{
	TransportEvent event = { .type = TRANSPORT_EVENT_CONNECTED };
	SessionConfig config;

	manager_session_config(host->manager, &config);
	fz->transport->generation = ++host->next_generation;
	session_init(&fz->transport->session, &config, fz_now_ms);
	event.generation = fz->transport->generation;
	vm_on_transport(fz->vm, &event);
}

static bool fz_add_vm(FzHost *host, FzInput *in)
{
	FzVm *fz = &host->vms[host->n_vms];
	uint8_t a = fz_byte(in), b = fz_byte(in);
	uint64_t boot = (a & 1 ? 512 : 256) * FZ_MIB;
	uint64_t device = (uint64_t)(1 + (a >> 1 & 3)) * 512 * FZ_MIB;
	uint64_t min = boot + (uint64_t)(a >> 3 & 3) * 128 * FZ_MIB;
	uint64_t cap = min + (boot + device - min) * (b & 3) / 3;
	uint64_t start = (b >> 2 & 1) ? min - boot : 0;
	g_autoptr(OmemContract) contract = omem_contract_new();
	OmemMemoryDevice mem = {
		.alias = (char *)"virtiomem0",
		.size_bytes = device,
		.block_bytes = FZ_BLOCK,
		.requested_bytes = start,
		.plugged_bytes = start,
	};
	OmemMemoryState state = {
		.boot_bytes = boot,
		.device_bytes = device,
		.requested_bytes = start,
		.plugged_bytes = start,
		.block_bytes = FZ_BLOCK,
		.devices = 1,
	};
	unsigned id = host->n_vms + 1;
	char uuid[40];

	cap -= cap % FZ_BLOCK;
	cap = MAX(cap, min);
	omem_contract_set_boot(contract, boot);
	omem_contract_set_min(contract, min);
	omem_contract_set_cap(contract, cap);
	omem_contract_set_max(contract, boot + device);
	omem_contract_set_shares(contract, (b >> 3 & 3) ? (b >> 3 & 3) * 500 : 0);
	omem_contract_set_buffer_percent(contract, (b >> 5) * 5);
	if (omem_contract_validate(contract) < 0)
		return false;
	g_snprintf(fz_names[id], sizeof(fz_names[id]), "fuzz%u", id);
	g_snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-00000000000%u", id);
	fz_devices[id].requested = start;
	fz_devices[id].fail_next_set = false;
	fz_devices[id].sets = 0;
	fz->vm = vm_new(host->manager, fz_names[id], uuid, contract, &state, &mem);
	fz->block = FZ_BLOCK;
	/* The actuator first, as vm_discover does: the contract may resize. */
	fz->vm->id = id;
	vm_actuator_start(fz->vm);
	manager_register_vm(host->manager, fz->vm);
	g_assert(fz->vm->id == id);
	vm_ref(fz->vm);
	fz->transport = g_new0(Transport, 1);
	fz->vm->transport = fz->transport;
	fz->vm->link = VM_LINK_ATTACHED;
	fz->vm->hello_deadline_ms = fz_now_ms + host->manager->config.hello_timeout_s * 1000ll;
	vm_link_publish_contract(fz->vm);
	host->n_vms++;
	fz_connect(host, fz);
	fz_settle(host);
	return true;
}

/* The requested size the VM's fake device holds. */
static uint64_t fz_held(const Vm *vm)
{
	FzDevice *device = &fz_devices[vm->id];
	uint64_t held;

	g_mutex_lock(&device->lock);
	held = device->requested;
	g_mutex_unlock(&device->lock);
	return held;
}

/* Plugged after the guest's QEMU moved @blocks towards @target (the
 * guest decides how fast an unplug goes: @blocks may be 0). */
static uint64_t fz_moved(const FzVm *fz, uint64_t target, unsigned blocks)
{
	uint64_t plugged = fz->vm->policy.plugged_bytes, step = (uint64_t)blocks * fz->block;

	if (plugged < target)
		return MIN(target, plugged + step);
	return plugged - MIN(plugged - target, step);
}

/* The QEMU plugs or unplugs towards what libvirt holds, and says so. */
static void fz_progress(FzHost *host, FzVm *fz, unsigned blocks)
{
	vm_on_size_change(fz->vm, "virtiomem0", fz_moved(fz, fz_held(fz->vm), blocks));
	fz_settle(host);
}

/* libvirtd went away and came back: the size events of the meantime
 * are lost, and omemd reads the devices as they are (as vm_reattach). */
static void fz_reconnect(FzHost *host, FzVm *fz, unsigned blocks)
{
	uint64_t target = fz_held(fz->vm), plugged = fz_moved(fz, target, blocks);
	OmemMemoryDevice mem = { .alias = (char *)"virtiomem0", .block_bytes = FZ_BLOCK };
	OmemMemoryState state = { .boot_bytes = fz->vm->policy.boot_bytes, .block_bytes = FZ_BLOCK, .devices = 1 };

	state.device_bytes = mem.size_bytes = fz->vm->policy.max_bytes - fz->vm->policy.boot_bytes;
	state.requested_bytes = mem.requested_bytes = target;
	state.plugged_bytes = mem.plugged_bytes = plugged;
	vm_devices_reread(fz->vm, &state, &mem);
	vm_sync_arbiter(fz->vm);
	fz_settle(host);
}

/* ---------------------------------------------------------- the oracle */

static void fz_check(FzHost *host)
{
	g_autofree char *why = NULL;
	ArbiterStats stats;
	uint64_t above_floor = 0;

	if (!arbiter_check(host->manager->arbiter, &why))
		fz_fail("arbiter_check", why);
	arbiter_get_stats(host->manager->arbiter, &stats);
	for (unsigned i = 0; i < host->n_vms; i++) {
		ArbiterVmStatus status;
		uint64_t held;

		if (host->vms[i].vm->gone ||
		    arbiter_vm_get_status(host->manager->arbiter, host->vms[i].vm->id, &status) < 0)
			continue;
		held = MAX(status.requested_bytes, status.plugged_bytes);
		above_floor += held > status.floor_bytes ? held - status.floor_bytes : 0;
	}
	/* VMs that run are charged whatever the budget (omemd serves the
	 * VMs it finds; admission is the hook's), and a VM is owed its min:
	 * the rule is that no grant beyond a floor takes the charges past
	 * the budget. */
	if (stats.committed_bytes > stats.budget_bytes && above_floor > host->above_floor &&
	    !host->outside_change) {
		g_autofree char *detail = g_strdup_printf("committed %" G_GUINT64_FORMAT " > budget %" G_GUINT64_FORMAT ", above the floors %" G_GUINT64_FORMAT " (was %" G_GUINT64_FORMAT ")",
							  stats.committed_bytes, stats.budget_bytes, above_floor,
							  host->above_floor);
		fz_fail("omemd granted past the budget", detail);
	}
	host->above_floor = above_floor;
	host->outside_change = false;
	for (unsigned i = 0; i < host->n_vms; i++) {
		FzVm *fz = &host->vms[i];
		Vm *vm = fz->vm;
		ArbiterVmStatus status;
		uint64_t held;

		if (vm->gone)
			continue;
		if (arbiter_vm_get_status(host->manager->arbiter, vm->id, &status) < 0)
			fz_fail("a served VM is not in the arbiter", vm->name);
		held = fz_held(vm);
		if (vm->policy.requested_bytes > status.ceiling_bytes || held > status.ceiling_bytes) {
			g_autofree char *detail = g_strdup_printf("%s: requested %" G_GUINT64_FORMAT ", libvirt %" G_GUINT64_FORMAT ", ceiling %" G_GUINT64_FORMAT,
								  vm->name, vm->policy.requested_bytes, held, status.ceiling_bytes);
			fz_fail("above its cap", detail);
		}
		if (held != vm->libvirt_requested_bytes) {
			g_autofree char *detail = g_strdup_printf("%s: libvirt holds %" G_GUINT64_FORMAT ", omemd believes %" G_GUINT64_FORMAT,
								  vm->name, held, vm->libvirt_requested_bytes);
			fz_fail("omemd lost track of libvirt's size", detail);
		}
		if (vm->unplug.active && vm->policy.plugged_bytes <= vm->unplug.target_bytes) {
			g_autofree char *detail = g_strdup_printf("%s: plugged %" G_GUINT64_FORMAT ", the unplug's target %" G_GUINT64_FORMAT,
								  vm->name, vm->policy.plugged_bytes, vm->unplug.target_bytes);
			fz_fail("an unplug that is done is still followed", detail);
		}
		if (vm->status.n_decisions > STATUS_DECISIONS_MAX)
			fz_fail("the status keeps more decisions than it shows", vm->name);
	}
}

/* A grant to @fz of @bytes now; while the guest is distrusted, at most
 * one step per interval, and one extra step for a CRITICAL DEMAND. */
static void fz_check_rate(FzHost *host, FzVm *fz, uint64_t bytes)
{
	const TrustConfig *trust = &host->manager->trust_config;
	uint64_t sum = 0;

	fz->grant_ms[fz->grant_next % 8] = fz_now_ms;
	fz->grant_bytes[fz->grant_next % 8] = bytes;
	fz->grant_next++;
	for (unsigned i = 0; i < 8; i++)
		if (fz->grant_bytes[i] && fz_now_ms - fz->grant_ms[i] < trust->distrusted_interval_ms)
			sum += fz->grant_bytes[i];
	if (sum > 2 * (trust->distrusted_step_bytes + fz->block)) {
		g_autofree char *detail = g_strdup_printf("%s: %" G_GUINT64_FORMAT " bytes granted within %u ms while distrusted (step %" G_GUINT64_FORMAT ")",
							  fz->vm->name, sum, trust->distrusted_interval_ms,
							  trust->distrusted_step_bytes);
		fz_fail("a distrusted guest beat its rate", detail);
	}
}

/* ----------------------------------------------------------- the steps */

static void fz_step(FzHost *host, FzInput *in)
{
	uint8_t op = fz_byte(in);
	unsigned index = (op >> 4) % host->n_vms;
	FzVm *fz = &host->vms[index];
	struct rpc_msg msg = { 0 };
	uint8_t b;

	fz_now_ms += 1;
	switch (op & 15) {
	case 0: /* HELLO */
		b = fz_byte(in);
		msg.type = OMEM_RPC_HELLO;
		msg.u.hello.version_min = b & 1 ? 1 : b >> 4;
		msg.u.hello.version_max = b & 2 ? 1 : b & 15;
		msg.u.hello.client_version = 1 << 16;
		msg.u.hello.features = b & 4 ? 0 : fz_u64(in);
		msg.u.hello.guest_total_bytes = fz_size(in);
		msg.u.hello.memory_block_bytes = b & 8 ? 128 * FZ_MIB : fz_size(in);
		msg.u.hello.page_bytes = 4096;
		fz_guest_message(host, index, &msg);
		break;
	case 1: { /* DEMAND */
		bool distrusted = trust_distrusted(&fz->vm->trust, fz_now_ms);
		/* What the guest holds: raising requested towards what is still
		 * plugged (an unplug not done) gives it nothing new. */
		uint64_t before = MAX(fz->vm->policy.requested_bytes, fz->vm->policy.plugged_bytes);
		uint64_t after;

		b = fz_byte(in);
		msg.type = OMEM_RPC_DEMAND;
		msg.u.demand.urgency = b & 3;
		msg.u.demand.reasons = b >> 2 ? b >> 2 : 1;
		msg.u.demand.bytes = fz_size(in);
		msg.u.demand.available_bytes = fz_size(in);
		fz_guest_message(host, index, &msg);
		after = MAX(fz->vm->policy.requested_bytes, fz->vm->policy.plugged_bytes);
		/* Each time trust is lowered its rate starts afresh. */
		if (!distrusted) {
			memset(fz->grant_bytes, 0, sizeof(fz->grant_bytes));
			fz->grant_next = 0;
		} else if (after > before) {
			fz_check_rate(host, fz, after - before);
		}
		break;
	}
	case 2: /* SURPLUS */
		msg.type = OMEM_RPC_SURPLUS;
		msg.u.surplus.free_bytes = fz_size(in);
		msg.u.surplus.clean_cache_bytes = fz_size(in);
		msg.u.surplus.unpluggable_bytes = fz_size(in);
		fz_guest_message(host, index, &msg);
		break;
	case 3: /* STATS */
		b = fz_byte(in);
		msg.type = OMEM_RPC_STATS;
		msg.u.stats.count = 1 + b % OMEM_RPC_STATS_MAX;
		for (uint32_t i = 0; i < msg.u.stats.count; i++) {
			msg.u.stats.stats[i].tag = b & 0x80 ? fz_byte(in) % 12 : 1 + (i % OMEM_RPC_STAT_TAG_MAX);
			msg.u.stats.stats[i].value = fz_size(in);
		}
		fz_guest_message(host, index, &msg);
		break;
	case 4: /* GOODBYE */
		msg.type = OMEM_RPC_GOODBYE;
		msg.u.goodbye.reason = fz_byte(in) % 5;
		fz_guest_message(host, index, &msg);
		break;
	case 5: /* PING */
		msg.type = OMEM_RPC_PING;
		msg.u.ping.cookie = fz_u64(in);
		fz_guest_message(host, index, &msg);
		break;
	case 6: { /* a raw slot, as long as the input says */
		uint8_t slot[OMEM_RPC_SLOT_SIZE] = { 0 };
		size_t len = fz_byte(in);

		len = MIN(len, in->size - in->at);
		len = MIN(len, sizeof(slot));
		memcpy(slot, in->data + in->at, len);
		in->at += len;
		fz_guest_slot(host, index, slot, len);
		break;
	}
	case 7: /* the next message carries a seq of the input's */
		fz->seq_skew = true;
		fz->skew_seq = (uint32_t)fz_u64(in);
		break;
	case 8: /* the QEMU plugs or unplugs */
		fz_progress(host, fz, fz_byte(in) % 130);
		break;
	case 9: /* time passes to the next tick */
		fz_now_ms += (int64_t)(1 + fz_byte(in)) * 50;
		manager_tick(host->manager, fz_now_ms);
		fz_settle(host);
		break;
	case 10: /* libvirt refuses the VM's next resize */
		b = fz_byte(in);
		g_mutex_lock(&fz_devices[fz->vm->id].lock);
		fz_devices[fz->vm->id].fail_next_set = true;
		fz_devices[fz->vm->id].fail_half_way = b & 1;
		g_mutex_unlock(&fz_devices[fz->vm->id].lock);
		break;
	case 11: { /* someone resizes the device outside omemd */
		uint64_t theirs = fz_size(in);

		theirs -= theirs % fz->block;
		theirs = MIN(theirs, fz->vm->policy.max_bytes - fz->vm->policy.boot_bytes);
		g_mutex_lock(&fz_devices[fz->vm->id].lock);
		fz_devices[fz->vm->id].requested = theirs;
		g_mutex_unlock(&fz_devices[fz->vm->id].lock);
		host->outside_change = true;
		fz_progress(host, fz, 0);
		break;
	}
	case 12: /* the guest reboots (same QEMU, same connection) */
		vm_on_reboot(fz->vm);
		fz_settle(host);
		break;
	case 13: { /* the QEMU reconnects (transport re-attached) */
		TransportEvent event = { .type = TRANSPORT_EVENT_DISCONNECTED };

		event.generation = fz->transport->generation;
		vm_on_transport(fz->vm, &event);
		fz_connect(host, fz);
		fz_settle(host);
		break;
	}
	case 14: /* host pressure changes */
		host->manager->host = (ArbiterHost){
			.mem_available_bytes = fz_size(in),
			.psi_some_avg10 = (uint32_t)fz_byte(in) * 40,
			.known = true,
		};
		arbiter_set_host(host->manager->arbiter, &host->manager->host);
		break;
	case 15:
		b = fz_byte(in);
		if (b & 0x80) {
			/* libvirtd restarts: the QEMU plugs or unplugs with no size
			 * event, then omemd reads the devices afresh. */
			fz_reconnect(host, fz, b & 0x7f);
		} else {
			fz_now_ms += b; /* a little time passes */
		}
		break;
	}
	fz_check(host);
}

/* ------------------------------------------------------------ the input */

static void fz_quiet_libvirt(void *data, virErrorPtr error)
{
	(void)data;
	(void)error;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool initialised;
	FzInput in = { .data = data, .size = size };
	OmemdConfig config;
	ArbiterConfig arbiter_config;
	FzHost host = { 0 };
	g_autoptr(GError) error = NULL;
	uint8_t head;
	unsigned n_vms;

	if (!initialised) {
		initialised = true;
		omemd_log_set_sink(fz_sink, NULL);
		omemd_log_set_level(OMEMD_LOG_DEBUG);
		virSetErrorFunc(NULL, fz_quiet_libvirt);
	}
	if (size < 3)
		return 0;
	fz_now_ms = 1000000;
	memset(fz_lines, 0, sizeof(fz_lines));
	head = fz_byte(&in);
	n_vms = 1 + head % FZ_VMS_MAX;

	omemd_config_init(&config);
	config.budget_auto = false;
	/* From tighter than the VMs' minimums to more than their maximums. */
	config.budget_bytes = (uint64_t)(1 + (head >> 2)) * 256 * FZ_MIB;
	host.manager = manager_new(&config, false, &error);
	omemd_config_clear(&config);
	g_assert(host.manager);
	host.manager->actuator_ops = &fz_ops;
	host.manager->conn = (virConnectPtr)&host;   /* "connected": never called */
	host.manager->transport_context = g_main_context_new();
	host.manager->budget_bytes = host.manager->config.budget_bytes;
	manager_arbiter_config(host.manager, &arbiter_config);
	if (arbiter_new(&arbiter_config, &host.manager->arbiter) < 0)
		abort();

	for (unsigned i = 0; i < n_vms; i++)
		if (!fz_add_vm(&host, &in))
			break;
	if (host.n_vms > 0) {
		host.outside_change = true; /* the VMs as they were found */
		fz_check(&host);
		for (int steps = 0; in.at < in.size && steps < FZ_STEPS_MAX; steps++)
			fz_step(&host, &in);
	}

	for (unsigned i = 0; i < host.n_vms; i++) {
		manager_remove_vm(host.manager, host.vms[i].vm, "the input ended");
		fz_settle(&host);
	}
	for (unsigned i = 0; i < host.n_vms; i++)
		vm_unref(host.vms[i].vm);
	while (g_main_context_iteration(host.manager->transport_context, FALSE))
		;
	host.manager->conn = NULL;
	manager_free(host.manager);
	return 0;
}
