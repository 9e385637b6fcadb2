/* SPDX-License-Identifier: MIT */
/*
 * test-omemd-session: the host's omem-rpc session logic
 * (host-server/rpc/session.c): HELLO/WELCOME and version refusal, sequence
 * numbers (restart on HELLO, BAD_SEQUENCE), DEMAND handed to the manager
 * and its answer numbered or dropped when stale, SURPLUS/STATS events,
 * protocol-error cut-off, the rate limits and DEMAND spacing, GOODBYE.
 * Every reply is also encoded with the codec, so the session never emits
 * what a guest must refuse.  Pure: time passed in.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "rpc/rpc-codec.h"
#include "rpc/session.h"
#include "tap.h"

#define MIB (1024ull * 1024)

static const SessionConfig config = {
	.stats_interval_ms = 1000,
	.demand_interval_ms = 100,
	.rate_per_s = 100,
	.rate_burst = 50,
	.rate_strikes = 10,
	.error_limit = 4,
	.demand_burst = 2,
};

static const struct rpc_msg_welcome contract = {
	.buffer_percent = 10,
	.boot_bytes = 256 * MIB,
	.min_bytes = 256 * MIB,
	.max_bytes = 1792 * MIB,
	.cap_bytes = 1792 * MIB,
	.plugged_bytes = 0,
	.block_bytes = 2 * MIB,
};

static struct rpc_msg hello(uint32_t seq)
{
	return (struct rpc_msg){ .type = OMEM_RPC_HELLO, .seq = seq,
				 .u.hello = { .version_min = 1, .version_max = 1,
					      .client_version = 0x10000, .guest_total_bytes = 256 * MIB,
					      .memory_block_bytes = 128 * MIB, .page_bytes = 4096 } };
}

static struct rpc_msg demand(uint32_t seq, uint64_t bytes, uint32_t urgency)
{
	return (struct rpc_msg){ .type = OMEM_RPC_DEMAND, .seq = seq,
				 .u.demand = { .urgency = urgency, .reasons = OMEM_RPC_REASON_WATERMARK,
					       .bytes = bytes, .available_bytes = 10 * MIB } };
}

static struct rpc_msg ping(uint32_t seq, uint64_t cookie)
{
	return (struct rpc_msg){ .type = OMEM_RPC_PING, .seq = seq, .u.ping.cookie = cookie };
}

/* Every reply must encode (the codec's rules in the host's direction). */
static bool replies_encode(const SessionOutput *out)
{
	uint8_t slot[OMEM_RPC_SLOT_SIZE];

	for (unsigned i = 0; i < out->n_replies; i++) {
		if (rpc_codec_encode(&out->replies[i], slot, sizeof(slot), NULL) < 0)
			return false;
	}
	return true;
}

static Session open_session(int64_t now)
{
	Session session;
	SessionOutput out;
	struct rpc_msg msg = hello(1);

	session_init(&session, &config, now);
	session_receive(&session, &msg, &contract, now, &out);
	return session;
}

static void test_hello(void)
{
	Session session;
	SessionOutput out;
	struct rpc_msg msg = ping(1, 7);

	session_init(&session, &config, 0);
	session_receive(&session, &msg, &contract, 0, &out);
	tap_eq(out.n_replies, 1, "PING before HELLO: one reply");
	tap_eq(out.replies[0].type, OMEM_RPC_ERROR, "... ERROR");
	tap_eq(out.replies[0].u.error.code, OMEM_RPC_ERR_NOT_NEGOTIATED, "... NOT_NEGOTIATED");

	msg = hello(1);
	session_receive(&session, &msg, &contract, 0, &out);
	tap_eq(out.replies[0].type, OMEM_RPC_WELCOME, "HELLO -> WELCOME");
	tap_eq(out.replies[0].seq, 1, "WELCOME carries seq 1 (numbering restarts)");
	tap_eq(out.replies[0].reply_to, 1, "... answers HELLO 1");
	tap_eq(out.replies[0].u.welcome.version, 1, "... protocol version 1");
	tap_eq(out.replies[0].u.welcome.boot_bytes, 256 * MIB, "... the contract's boot");
	tap_eq(out.replies[0].u.welcome.max_bytes, 1792 * MIB, "... max");
	tap_eq(out.replies[0].u.welcome.demand_interval_ms, 100, "... demand interval from the config");
	tap_eq(out.replies[0].u.welcome.stats_interval_ms, 1000, "... stats interval from the config");
	tap_ok(replies_encode(&out), "... WELCOME encodes");
	tap_eq(out.event.type, SESSION_EVENT_OPENED, "event OPENED");
	tap_eq(session.state, SESSION_STATE_OPEN, "session open");

	msg = ping(2, 42);
	session_receive(&session, &msg, &contract, 1, &out);
	tap_eq(out.replies[0].type, OMEM_RPC_PONG, "PING -> PONG");
	tap_eq(out.replies[0].u.ping.cookie, 42, "... echoes the cookie");
	tap_eq(out.replies[0].seq, 2, "... host seq 2");
	tap_eq(out.replies[0].reply_to, 2, "... answers PING 2");

	/* A HELLO inside the session restarts it, numbering included. */
	msg = hello(1);
	session_receive(&session, &msg, &contract, 2, &out);
	tap_eq(out.replies[0].seq, 1, "HELLO again: WELCOME seq 1 again");
	tap_eq(out.event.epoch, 2, "... a new epoch");
	msg = ping(2, 1);
	session_receive(&session, &msg, &contract, 3, &out);
	tap_eq(out.replies[0].type, OMEM_RPC_PONG, "the guest numbers from 2 again after its HELLO");

	msg = hello(5);
	session_receive(&session, &msg, &contract, 4, &out);
	tap_eq(out.replies[0].u.error.code, OMEM_RPC_ERR_BAD_SEQUENCE, "HELLO with seq != 1: BAD_SEQUENCE");

	/* No common version: ERROR BAD_VERSION, then GOODBYE VERSION. */
	session_init(&session, &config, 0);
	msg = hello(1);
	msg.u.hello.version_min = msg.u.hello.version_max = 9;
	session_receive(&session, &msg, &contract, 0, &out);
	tap_eq(out.n_replies, 2, "unknown version: two replies");
	tap_eq(out.replies[0].u.error.code, OMEM_RPC_ERR_BAD_VERSION, "... ERROR BAD_VERSION");
	tap_eq(out.replies[1].type, OMEM_RPC_GOODBYE, "... then GOODBYE");
	tap_eq(out.replies[1].u.goodbye.reason, OMEM_RPC_GOODBYE_VERSION, "... reason VERSION");
	tap_ok(replies_encode(&out), "... both encode");
	tap_eq(out.event.type, SESSION_EVENT_CLOSED, "... event CLOSED");
}

static void test_sequence(void)
{
	Session session = open_session(0);
	SessionOutput out;
	struct rpc_msg msg = ping(3, 1);

	session_receive(&session, &msg, &contract, 1, &out);
	tap_eq(out.replies[0].u.error.code, OMEM_RPC_ERR_BAD_SEQUENCE, "a skipped seq: BAD_SEQUENCE");
	tap_eq(out.replies[0].reply_to, 3, "... naming the message");
	msg = ping(4, 1);
	session_receive(&session, &msg, &contract, 2, &out);
	tap_eq(out.replies[0].type, OMEM_RPC_PONG, "resynchronised on the next one");
	tap_eq(session.errors, 1, "one protocol error counted");
}

static void test_demand(void)
{
	Session session = open_session(0);
	SessionOutput out;
	struct rpc_msg msg = demand(2, 256 * MIB, OMEM_RPC_URGENCY_NORMAL);
	struct rpc_msg answer = { .type = OMEM_RPC_GRANT,
				  .u.grant = { .bytes = 256 * MIB, .target_bytes = 512 * MIB } };
	uint32_t epoch;

	session_receive(&session, &msg, &contract, 1000, &out);
	tap_eq(out.n_replies, 0, "DEMAND: no immediate reply");
	tap_eq(out.event.type, SESSION_EVENT_DEMAND, "... event DEMAND for the manager");
	tap_eq(out.event.seq, 2, "... with its seq");
	tap_eq(out.event.u.demand.bytes, 256 * MIB, "... and its bytes");
	epoch = out.event.epoch;

	msg = demand(3, 64 * MIB, OMEM_RPC_URGENCY_NORMAL);
	session_receive(&session, &msg, &contract, 1001, &out);
	tap_eq(out.replies[0].type, OMEM_RPC_DENY, "a second DEMAND while one is decided: DENY");
	tap_eq(out.replies[0].u.deny.reason, OMEM_RPC_DENY_BUSY, "... BUSY");
	tap_ok(replies_encode(&out), "... DENY encodes");

	tap_eq(session_take_reply(&session, epoch, 3, &answer), -ESTALE,
	       "an answer naming the wrong DEMAND is dropped");
	tap_eq(session_take_reply(&session, epoch, 2, &answer), 0, "the manager's GRANT is numbered");
	tap_eq(answer.reply_to, 2, "... answers DEMAND 2");
	tap_eq(answer.seq, 3, "... next host seq (WELCOME 1, DENY 2, GRANT 3)");
	tap_eq(session_take_reply(&session, epoch, 2, &answer), -ESTALE, "... only once");

	/* A HELLO between the DEMAND and the answer makes it stale. */
	msg = demand(4, 64 * MIB, OMEM_RPC_URGENCY_NORMAL);
	session_receive(&session, &msg, &contract, 2000, &out);
	msg = hello(1);
	session_receive(&session, &msg, &contract, 2001, &out);
	tap_eq(session_take_reply(&session, epoch, 4, &answer), -ESTALE,
	       "an answer to the previous session is dropped");

	/* Bounds the codec cannot know: bytes above max - boot. */
	msg = demand(2, 1792 * MIB, OMEM_RPC_URGENCY_NORMAL);
	session_receive(&session, &msg, &contract, 3000, &out);
	tap_eq(out.replies[0].u.error.code, OMEM_RPC_ERR_BAD_VALUE, "DEMAND past max - boot: BAD_VALUE");
	tap_eq(out.replies[0].u.error.field_offset, 16 + 8, "... at demand.bytes");
}

static void test_events(void)
{
	Session session = open_session(0);
	SessionOutput out;
	struct rpc_msg msg = { .type = OMEM_RPC_SURPLUS, .seq = 2,
			       .u.surplus = { .free_bytes = 1, .clean_cache_bytes = 2,
					      .unpluggable_bytes = 3 } };

	session_receive(&session, &msg, &contract, 1, &out);
	tap_eq(out.event.type, SESSION_EVENT_SURPLUS, "SURPLUS -> event");
	tap_eq(out.event.u.surplus.unpluggable_bytes, 3, "... figures copied");
	msg = (struct rpc_msg){ .type = OMEM_RPC_STATS, .seq = 3,
				.u.stats = { .count = 1, .stats = { { OMEM_RPC_STAT_FREE_BYTES, 5 } } } };
	session_receive(&session, &msg, &contract, 2, &out);
	tap_eq(out.event.type, SESSION_EVENT_STATS, "STATS -> event");
	tap_eq(out.n_replies, 0, "... no reply");
	msg = (struct rpc_msg){ .type = OMEM_RPC_GOODBYE, .seq = 4,
				.u.goodbye.reason = OMEM_RPC_GOODBYE_UNLOAD };
	session_receive(&session, &msg, &contract, 3, &out);
	tap_eq(out.event.type, SESSION_EVENT_CLOSED, "GOODBYE -> CLOSED");
	tap_eq(session.state, SESSION_STATE_CLOSED, "... session closed");
	msg = ping(5, 1);
	session_receive(&session, &msg, &contract, 4, &out);
	tap_eq(out.replies[0].u.error.code, OMEM_RPC_ERR_NOT_NEGOTIATED, "after GOODBYE: NOT_NEGOTIATED");

	session = open_session(0);
	msg = (struct rpc_msg){ .type = OMEM_RPC_GOODBYE };
	tap_eq(session_take_message(&session, &msg), 0, "omemd's own GOODBYE is numbered");
	tap_eq(msg.seq, 2, "... after WELCOME");
	session.state = SESSION_STATE_CLOSED;
	tap_eq(session_take_message(&session, &msg), -ENOTCONN, "... not when closed");
}

static void test_errors(void)
{
	Session session = open_session(0);
	SessionOutput out;
	struct rpc_codec_error error = { .code = OMEM_RPC_ERR_RESERVED_NONZERO, .field = "x",
					 .field_offset = 20, .type = OMEM_RPC_DEMAND, .seq = 2 };
	struct rpc_msg msg;

	for (int i = 0; i < 3; i++) {
		session_receive_error(&session, &error, 1, &out);
		tap_eq(out.replies[0].u.error.code, OMEM_RPC_ERR_RESERVED_NONZERO,
		       "refused slot %d: ERROR with the codec's code", i + 1);
		tap_ok(replies_encode(&out), "... encodes");
	}
	session_receive_error(&session, &error, 1, &out);
	tap_eq(out.n_replies, 2, "error_limit reached: ERROR and GOODBYE");
	tap_eq(out.replies[1].type, OMEM_RPC_GOODBYE, "... GOODBYE");
	tap_eq(out.replies[1].u.goodbye.reason, OMEM_RPC_GOODBYE_PROTOCOL, "... PROTOCOL");
	tap_eq(out.event.type, SESSION_EVENT_CUT_OFF, "... event CUT_OFF");
	tap_eq(session.state, SESSION_STATE_CUT_OFF, "... cut off");
	msg = hello(1);
	session_receive(&session, &msg, &contract, 2, &out);
	tap_eq(out.n_replies + out.event.type, 0, "a cut-off guest is not answered, not even HELLO");

	/* Errors count per connection: a HELLO does not forgive them. */
	session = open_session(0);
	for (int i = 0; i < 3; i++)
		session_receive_error(&session, &error, 1, &out);
	msg = hello(1);
	session_receive(&session, &msg, &contract, 2, &out);
	session_receive_error(&session, &error, 3, &out);
	tap_eq(session.state, SESSION_STATE_CUT_OFF, "errors before a HELLO still count");

	session = open_session(0);
	session_ring_fault(&session, "broke the ring", &out);
	tap_eq(out.replies[0].type, OMEM_RPC_GOODBYE, "a ring fault: GOODBYE PROTOCOL at once");
	tap_eq(out.event.type, SESSION_EVENT_CUT_OFF, "... cut off");
	/* The transport logs a cut-off only for the CUT_OFF event: a fault
	 * found again (the GOODBYE itself hitting the broken ring) must not
	 * make a second one. */
	session_ring_fault(&session, "broke the ring", &out);
	tap_eq(out.n_replies + out.event.type, 0, "a second ring fault: no GOODBYE, no event");
	session = open_session(0);
	for (int i = 0; i < 4; i++)
		session_receive_error(&session, &error, 1, &out);
	session_ring_fault(&session, "broke the ring", &out);
	tap_eq(out.n_replies + out.event.type, 0, "a ring fault after a cut-off: no second cut-off");
}

/* Two LOW DEMANDs at @burst_ms (config's demand_burst), each answered,
 * then a third at @third_ms; *out is what the third got. */
static void burst_then_demand(Session *session, uint32_t *seq, int64_t burst_ms, int64_t third_ms,
			      SessionOutput *out)
{
	struct rpc_msg msg;

	for (int i = 0; i < 2; i++) {
		msg = demand((*seq)++, 2 * MIB, OMEM_RPC_URGENCY_LOW);
		session_receive(session, &msg, &contract, burst_ms, out);
		session_take_reply(session, out->event.epoch, out->event.seq, &msg);
	}
	msg = demand((*seq)++, 2 * MIB, OMEM_RPC_URGENCY_LOW);
	session_receive(session, &msg, &contract, third_ms, out);
}

/* A reload on an open session: limits at once, WELCOME intervals as
 * told until the next HELLO. */
static void test_set_config(void)
{
	Session session = open_session(0);
	SessionConfig next = config;
	SessionOutput out;
	struct rpc_msg msg;
	uint32_t seq = 2;
	int denied = 0;

	next.rate_burst = 5;
	next.rate_per_s = 10;
	next.error_limit = 2;
	next.demand_interval_ms = 1000;
	next.stats_interval_ms = 5000;
	session_set_config(&session, &next);
	tap_ok(session.tokens <= 5, "a smaller burst empties the bucket down to it (%.0f)",
	       session.tokens);
	for (int i = 0; i < 8; i++) {
		msg = ping(seq++, i);
		session_receive(&session, &msg, &contract, 0, &out);
		if (out.replies[0].type == OMEM_RPC_ERROR)
			denied++;
	}
	tap_eq(denied, 3, "PINGs past the new burst of 5: refused at once");

	/* The guest was told 100 ms: still enforced as 100 ms. */
	session = open_session(0);
	session_set_config(&session, &next);
	seq = 2;
	burst_then_demand(&session, &seq, 0, 10, &out);
	tap_ok(out.n_replies == 1 && out.replies[0].u.deny.reason == OMEM_RPC_DENY_RATE &&
	       out.replies[0].u.deny.retry_after_ms <= 91,
	       "the open session's DEMAND spacing stays what WELCOME told (retry %u ms)",
	       out.n_replies ? out.replies[0].u.deny.retry_after_ms : 0);
	msg = demand(seq++, 2 * MIB, OMEM_RPC_URGENCY_LOW);
	session_receive(&session, &msg, &contract, 120, &out);
	tap_eq(out.event.type, SESSION_EVENT_DEMAND, "... a DEMAND 110 ms later passes");
	session_take_reply(&session, out.event.epoch, out.event.seq, &msg);

	/* The next HELLO tells the new intervals, and they are enforced. */
	msg = hello(1);
	session_receive(&session, &msg, &contract, 1000, &out);
	tap_ok(out.replies[0].type == OMEM_RPC_WELCOME &&
	       out.replies[0].u.welcome.demand_interval_ms == 1000 &&
	       out.replies[0].u.welcome.stats_interval_ms == 5000,
	       "the next WELCOME tells the new intervals");
	seq = 2;
	burst_then_demand(&session, &seq, 3000, 3200, &out);
	tap_ok(out.n_replies == 1 && out.replies[0].u.deny.reason == OMEM_RPC_DENY_RATE &&
	       out.replies[0].u.deny.retry_after_ms > 700,
	       "... and enforced from then on (retry %u ms)",
	       out.n_replies ? out.replies[0].u.deny.retry_after_ms : 0);
}

/* A HELLO restarts the session (a decision, a log line on the main
 * thread): a paced flood of them, each under the message rate, is
 * refused past a small burst and ends in a cut-off. */
static void test_hello_flood(void)
{
	Session session = open_session(0);
	SessionOutput out;
	struct rpc_msg msg;
	int opened = 0, refused = 0;

	for (int i = 0; i < 400 && session.state != SESSION_STATE_CUT_OFF; i++) {
		msg = hello(1);
		session_receive(&session, &msg, &contract, 1 + i * 10, &out);
		if (out.event.type == SESSION_EVENT_OPENED)
			opened++;
		else if (out.n_replies && out.replies[0].type == OMEM_RPC_ERROR &&
			 out.replies[0].u.error.code == OMEM_RPC_ERR_RATE_LIMITED)
			refused++;
	}
	tap_ok(opened <= 8, "HELLO flood at 100/s: at most a burst and one per second open (%d)", opened);
	tap_ok(refused > 0, "... the rest get ERROR RATE_LIMITED (%d)", refused);
	tap_eq(session.state, SESSION_STATE_CUT_OFF, "... and the flooder is cut off");
	session = open_session(0);
	msg = hello(1);
	session_receive(&session, &msg, &contract, 5000, &out);
	tap_eq(out.event.type, SESSION_EVENT_OPENED, "a reconnect's HELLO after a while opens as ever");
}

static void test_rate(void)
{
	Session session = open_session(0);
	SessionOutput out;
	struct rpc_msg msg;
	uint32_t seq = 2;
	int denied = 0;

	/* DEMAND spacing: burst 2, then one per 100 ms. */
	burst_then_demand(&session, &seq, 0, 10, &out);
	tap_eq(out.replies[0].u.deny.reason, OMEM_RPC_DENY_RATE, "third DEMAND within the burst window: DENY RATE");
	tap_ok(out.replies[0].u.deny.retry_after_ms >= 80 && out.replies[0].u.deny.retry_after_ms <= 91,
	       "... retry after the rest of the interval (%u ms)", out.replies[0].u.deny.retry_after_ms);
	msg = demand(seq++, 2 * MIB, OMEM_RPC_URGENCY_CRITICAL);
	session_receive(&session, &msg, &contract, 11, &out);
	tap_eq(out.event.type, SESSION_EVENT_DEMAND, "a CRITICAL DEMAND is not spaced");
	session_take_reply(&session, out.event.epoch, out.event.seq, &msg);

	/* CRITICAL has a bucket of its own, as large: a guest may not
	 * flood CRITICAL DEMANDs (each a decision) to skip the spacing.
	 * One was taken at 11 ms; the burst's other one passes, the next
	 * is refused until an interval refills one. */
	msg = demand(seq++, 2 * MIB, OMEM_RPC_URGENCY_CRITICAL);
	session_receive(&session, &msg, &contract, 12, &out);
	tap_eq(out.event.type, SESSION_EVENT_DEMAND, "CRITICAL within its own burst passes");
	session_take_reply(&session, out.event.epoch, out.event.seq, &msg);
	msg = demand(seq++, 2 * MIB, OMEM_RPC_URGENCY_CRITICAL);
	session_receive(&session, &msg, &contract, 13, &out);
	tap_ok(out.n_replies == 1 && out.replies[0].type == OMEM_RPC_DENY &&
	       out.replies[0].u.deny.reason == OMEM_RPC_DENY_RATE,
	       "CRITICAL past its burst: DENY RATE");
	msg = demand(seq++, 2 * MIB, OMEM_RPC_URGENCY_LOW);
	session_receive(&session, &msg, &contract, 120, &out);
	tap_eq(out.event.type, SESSION_EVENT_DEMAND, "after the interval a DEMAND passes again");
	session_take_reply(&session, out.event.epoch, out.event.seq, &msg);
	msg = demand(seq++, 2 * MIB, OMEM_RPC_URGENCY_CRITICAL);
	session_receive(&session, &msg, &contract, 121, &out);
	tap_eq(out.event.type, SESSION_EVENT_DEMAND, "... and one interval later CRITICAL passes again");
	session_take_reply(&session, out.event.epoch, out.event.seq, &msg);

	/* A flood of DEMANDs: DENY RATE, then cut off after rate_strikes. */
	for (int i = 0; i < 20 && session.state != SESSION_STATE_CUT_OFF; i++) {
		msg = demand(seq++, 2 * MIB, OMEM_RPC_URGENCY_LOW);
		session_receive(&session, &msg, &contract, 121, &out);
		if (out.n_replies && out.replies[0].type == OMEM_RPC_DENY)
			denied++;
	}
	tap_eq(denied, 9, "a DEMAND flood gets DENY RATE (9 times)");
	tap_eq(session.state, SESSION_STATE_CUT_OFF, "... then is cut off (10 strikes)");
	tap_eq(out.event.type, SESSION_EVENT_CUT_OFF, "... event CUT_OFF");

	/* The message bucket: 50 at once, 100 per second. */
	session = open_session(0);
	seq = 2;
	denied = 0;
	for (int i = 0; i < 55; i++) {
		msg = ping(seq++, i);
		session_receive(&session, &msg, &contract, 0, &out);
		if (out.replies[0].type == OMEM_RPC_ERROR)
			denied++;
	}
	tap_eq(denied, 6, "PINGs past the bucket (49 left after HELLO): ERROR RATE_LIMITED");
	tap_eq(out.replies[0].u.error.code, OMEM_RPC_ERR_RATE_LIMITED, "... RATE_LIMITED");
	msg = ping(seq++, 0);
	session_receive(&session, &msg, &contract, 100, &out);
	tap_eq(out.replies[0].type, OMEM_RPC_PONG, "10 ms later the bucket has refilled some");
	tap_eq(session.strikes, 0, "... and an accepted message clears the strikes");
}

int main(void)
{
	test_hello();
	test_sequence();
	test_demand();
	test_events();
	test_errors();
	test_rate();
	test_hello_flood();
	test_set_config();
	tap_ok(!strcmp(session_state_name(SESSION_STATE_CUT_OFF), "cut-off"),
	       "state names follow docs/status.md");
	return tap_done();
}
