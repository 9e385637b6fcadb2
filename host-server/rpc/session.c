/* SPDX-License-Identifier: MIT */
/*
 * session: the host's side of one VM's omem-rpc session (see session.h).
 */
#include "config.h"

#include "rpc/session.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* HELLOs one connection may send back to back (a module reload or two,
 * a reconnect), and then one per this: an honest guest says HELLO once
 * per module load. */
#define SESSION_HELLO_BURST 4
#define SESSION_HELLO_INTERVAL_MS 1000

/* Offset of a payload field in the slot, for ERROR.field_offset. */
#define SESSION_FIELD(wire, member) \
	((uint16_t)(sizeof(struct omem_rpc_header) + offsetof(struct omem_rpc_##wire, member)))
#define SESSION_HEADER_FIELD(member) ((uint16_t)offsetof(struct omem_rpc_header, member))

const char *session_state_name(SessionState state)
{
	switch (state) {
	case SESSION_STATE_NONE: return "none";
	case SESSION_STATE_OPEN: return "open";
	case SESSION_STATE_CLOSED: return "closed";
	case SESSION_STATE_CUT_OFF: return "cut-off";
	}
	return "none";
}

void session_init(Session *session, const SessionConfig *config, int64_t now_ms)
{
	*session = (Session){
		.config = *config,
		.state = SESSION_STATE_NONE,
		.next_seq = 1,
		.tokens = config->rate_burst,
		.tokens_ms = now_ms,
		.demand_tokens = config->demand_burst,
		.critical_tokens = config->demand_burst,
		.hello_tokens = SESSION_HELLO_BURST,
		.told_demand_interval_ms = config->demand_interval_ms,
	};
}

void session_set_config(Session *session, const SessionConfig *config)
{
	session->config = *config;
	if (session->tokens > config->rate_burst)
		session->tokens = config->rate_burst;
	if (session->demand_tokens > config->demand_burst)
		session->demand_tokens = config->demand_burst;
	if (session->critical_tokens > config->demand_burst)
		session->critical_tokens = config->demand_burst;
}

/* Our next sequence number: 1, 2, ... wrapping, skipping 0. */
static uint32_t session_next_seq(Session *session)
{
	uint32_t seq = session->next_seq++;

	if (session->next_seq == 0)
		session->next_seq = 1;
	return seq;
}

static struct rpc_msg *session_reply(Session *session, SessionOutput *out, uint16_t type,
				     uint32_t reply_to)
{
	struct rpc_msg *msg;

	if (out->n_replies >= SESSION_MAX_REPLIES)
		return NULL;
	msg = &out->replies[out->n_replies++];
	*msg = (struct rpc_msg){ .type = type, .reply_to = reply_to };
	msg->seq = session_next_seq(session);
	return msg;
}

static void session_cut_off(Session *session, const char *why, SessionOutput *out)
{
	struct rpc_msg *msg = session_reply(session, out, OMEM_RPC_GOODBYE, 0);

	if (msg)
		msg->u.goodbye.reason = OMEM_RPC_GOODBYE_PROTOCOL;
	session->state = SESSION_STATE_CUT_OFF;
	session->demand_pending = false;
	out->event = (SessionEvent){ .type = SESSION_EVENT_CUT_OFF, .epoch = session->epoch,
				     .why = why };
}

/* Refuse one message with ERROR; past the limit, cut the guest off. */
static void session_refuse(Session *session, enum omem_rpc_error_code code, uint16_t type,
			   uint16_t field_offset, uint32_t reply_to, bool protocol_error,
			   SessionOutput *out)
{
	struct rpc_msg *msg = session_reply(session, out, OMEM_RPC_ERROR, reply_to);

	if (msg) {
		msg->u.error.code = code;
		msg->u.error.type = type;
		msg->u.error.field_offset = field_offset;
	}
	session->refused++;
	if (protocol_error && ++session->errors >= session->config.error_limit)
		session_cut_off(session, "too many protocol errors", out);
}

/* Refill the buckets for the time passed; a clock going backwards
 * refills nothing. */
static void session_refill(Session *session, int64_t now_ms)
{
	double elapsed;

	if (now_ms <= session->tokens_ms)
		return;
	elapsed = (double)(now_ms - session->tokens_ms);
	session->tokens_ms = now_ms;
	session->hello_tokens += elapsed / SESSION_HELLO_INTERVAL_MS;
	if (session->hello_tokens > SESSION_HELLO_BURST)
		session->hello_tokens = SESSION_HELLO_BURST;
	session->tokens += elapsed * session->config.rate_per_s / 1000.0;
	if (session->tokens > session->config.rate_burst)
		session->tokens = session->config.rate_burst;
	if (session->told_demand_interval_ms) {
		session->demand_tokens += elapsed / session->told_demand_interval_ms;
		if (session->demand_tokens > session->config.demand_burst)
			session->demand_tokens = session->config.demand_burst;
		session->critical_tokens += elapsed / session->told_demand_interval_ms;
		if (session->critical_tokens > session->config.demand_burst)
			session->critical_tokens = session->config.demand_burst;
	} else {
		session->demand_tokens = session->config.demand_burst;
		session->critical_tokens = session->config.demand_burst;
	}
}

/* A message refused for its rate: DENY RATE for a DEMAND, ERROR
 * RATE_LIMITED for the rest; consecutive refusals end in a cut-off. */
static void session_rate_limited(Session *session, const struct rpc_msg *msg, uint32_t retry_ms,
				 SessionOutput *out)
{
	session->refused++;
	if (++session->strikes >= session->config.rate_strikes) {
		session_cut_off(session, "flooding (rate limit)", out);
		return;
	}
	if (msg->type == OMEM_RPC_DEMAND) {
		struct rpc_msg *reply = session_reply(session, out, OMEM_RPC_DENY, msg->seq);

		if (reply) {
			reply->u.deny.reason = OMEM_RPC_DENY_RATE;
			reply->u.deny.retry_after_ms = retry_ms;
		}
		return;
	}
	struct rpc_msg *reply = session_reply(session, out, OMEM_RPC_ERROR, msg->seq);

	if (reply) {
		reply->u.error.code = OMEM_RPC_ERR_RATE_LIMITED;
		reply->u.error.type = msg->type;
	}
}

static void session_on_hello(Session *session, const struct rpc_msg *msg,
			     const struct rpc_msg_welcome *contract, SessionOutput *out)
{
	uint16_t version = 0;
	struct rpc_msg *reply;

	if (msg->seq != 1) {
		session_refuse(session, OMEM_RPC_ERR_BAD_SEQUENCE, msg->type,
			       SESSION_HEADER_FIELD(seq), msg->seq, true, out);
		return;
	}
	/* A HELLO (re)starts the session; our numbering restarts with the
	 * answer, and any answer still on its way belongs to the old one. */
	session->epoch++;
	session->next_seq = 1;
	session->expect_seq = 2;
	session->demand_pending = false;
	if (rpc_codec_negotiate(msg->u.hello.version_min, msg->u.hello.version_max, &version) < 0) {
		reply = session_reply(session, out, OMEM_RPC_ERROR, msg->seq);
		if (reply) {
			reply->u.error.code = OMEM_RPC_ERR_BAD_VERSION;
			reply->u.error.type = OMEM_RPC_HELLO;
			reply->u.error.field_offset = SESSION_FIELD(hello, version_min);
		}
		reply = session_reply(session, out, OMEM_RPC_GOODBYE, 0);
		if (reply)
			reply->u.goodbye.reason = OMEM_RPC_GOODBYE_VERSION;
		session->state = SESSION_STATE_CLOSED;
		out->event = (SessionEvent){ .type = SESSION_EVENT_CLOSED, .epoch = session->epoch,
					     .seq = msg->seq, .reason = OMEM_RPC_GOODBYE_VERSION };
		return;
	}
	reply = session_reply(session, out, OMEM_RPC_WELCOME, msg->seq);
	if (reply) {
		reply->u.welcome = *contract;
		reply->u.welcome.version = version;
		reply->u.welcome.features = msg->u.hello.features & OMEM_RPC_FEATURES_KNOWN;
		reply->u.welcome.stats_interval_ms = session->config.stats_interval_ms;
		reply->u.welcome.demand_interval_ms = session->config.demand_interval_ms;
	}
	session->told_demand_interval_ms = session->config.demand_interval_ms;
	session->state = SESSION_STATE_OPEN;
	session->version = version;
	out->event = (SessionEvent){ .type = SESSION_EVENT_OPENED, .epoch = session->epoch,
				     .seq = msg->seq, .version = version };
	out->event.u.hello = msg->u.hello;
}

static void session_on_demand(Session *session, const struct rpc_msg *msg,
			      const struct rpc_msg_welcome *contract, SessionOutput *out)
{
	uint64_t room = contract->max_bytes > contract->boot_bytes ?
			contract->max_bytes - contract->boot_bytes : 0;
	struct rpc_msg *reply;
	double *tokens;

	if (msg->u.demand.bytes > room) {
		session_refuse(session, OMEM_RPC_ERR_BAD_VALUE, msg->type,
			       SESSION_FIELD(demand, bytes), msg->seq, true, out);
		return;
	}
	/* CRITICAL is not held back by the others' spacing (the guest is
	 * about to OOM), but has a bucket of its own, as large: a flood of
	 * CRITICAL DEMANDs is spaced like any other. */
	tokens = msg->u.demand.urgency < OMEM_RPC_URGENCY_CRITICAL ? &session->demand_tokens :
		 &session->critical_tokens;
	if (*tokens < 1.0) {
		uint32_t wait_ms = (uint32_t)((1.0 - *tokens) * session->told_demand_interval_ms) + 1;

		session_rate_limited(session, msg, wait_ms, out);
		return;
	}
	*tokens -= 1.0;
	if (session->demand_pending) {
		/* One DEMAND at a time with the manager: the next one waits
		 * for the answer to the first (coalescing). */
		reply = session_reply(session, out, OMEM_RPC_DENY, msg->seq);
		if (reply) {
			reply->u.deny.reason = OMEM_RPC_DENY_BUSY;
			reply->u.deny.retry_after_ms = session->told_demand_interval_ms;
		}
		return;
	}
	session->demand_pending = true;
	session->pending_demand_seq = msg->seq;
	out->event = (SessionEvent){ .type = SESSION_EVENT_DEMAND, .epoch = session->epoch,
				     .seq = msg->seq };
	out->event.u.demand = msg->u.demand;
}

void session_receive(Session *session, const struct rpc_msg *msg,
		     const struct rpc_msg_welcome *contract, int64_t now_ms, SessionOutput *out)
{
	struct rpc_msg *reply;

	memset(out, 0, sizeof(*out));
	if (session->state == SESSION_STATE_CUT_OFF)
		return;
	session->received++;
	session_refill(session, now_ms);
	if (session->tokens < 1.0) {
		/* Refused, but received: the guest's numbering moves on. */
		if (session->state == SESSION_STATE_OPEN && msg->type != OMEM_RPC_HELLO)
			session->expect_seq = msg->seq + 1 ?: 1;
		session_rate_limited(session, msg, 1000 / (session->config.rate_per_s ?: 1) + 1, out);
		return;
	}
	session->tokens -= 1.0;

	if (msg->type == OMEM_RPC_HELLO) {
		/* A HELLO restarts the session, which the manager logs and
		 * acts on: a small burst, then one per SESSION_HELLO_INTERVAL_MS.
		 * An accepted one does not forgive earlier refusals, so a
		 * paced HELLO flood still ends in a cut-off. */
		if (session->hello_tokens < 1.0) {
			session_rate_limited(session, msg, SESSION_HELLO_INTERVAL_MS, out);
			return;
		}
		session->hello_tokens -= 1.0;
		session_on_hello(session, msg, contract, out);
		return;
	}
	if (session->state != SESSION_STATE_OPEN) {
		session_refuse(session, OMEM_RPC_ERR_NOT_NEGOTIATED, msg->type,
			       SESSION_HEADER_FIELD(type), msg->seq, true, out);
		return;
	}
	if (msg->seq != session->expect_seq) {
		/* Resynchronise on the message in hand so one lost or
		 * replayed slot costs one error, not all that follow. */
		session->expect_seq = msg->seq + 1 ?: 1;
		session_refuse(session, OMEM_RPC_ERR_BAD_SEQUENCE, msg->type,
			       SESSION_HEADER_FIELD(seq), msg->seq, true, out);
		return;
	}
	session->expect_seq = msg->seq + 1 ?: 1;

	switch (msg->type) {
	case OMEM_RPC_DEMAND:
		session_on_demand(session, msg, contract, out);
		break;
	case OMEM_RPC_SURPLUS:
		out->event = (SessionEvent){ .type = SESSION_EVENT_SURPLUS, .epoch = session->epoch,
					     .seq = msg->seq };
		out->event.u.surplus = msg->u.surplus;
		break;
	case OMEM_RPC_STATS:
		out->event = (SessionEvent){ .type = SESSION_EVENT_STATS, .epoch = session->epoch,
					     .seq = msg->seq };
		out->event.u.stats = msg->u.stats;
		break;
	case OMEM_RPC_PING:
		reply = session_reply(session, out, OMEM_RPC_PONG, msg->seq);
		if (reply)
			reply->u.ping.cookie = msg->u.ping.cookie;
		break;
	case OMEM_RPC_GOODBYE:
		session->state = SESSION_STATE_CLOSED;
		session->demand_pending = false;
		out->event = (SessionEvent){ .type = SESSION_EVENT_CLOSED, .epoch = session->epoch,
					     .seq = msg->seq, .reason = msg->u.goodbye.reason };
		break;
	case OMEM_RPC_PONG:  /* omemd sends no PING in version 1: nothing to match */
	case OMEM_RPC_ERROR: /* the guest refused one of ours: the caller may log it */
	default:
		break;
	}
	if (out->n_replies == 0 || out->replies[0].type != OMEM_RPC_DENY ||
	    out->replies[0].u.deny.reason != OMEM_RPC_DENY_RATE)
		session->strikes = 0;
}

void session_receive_error(Session *session, const struct rpc_codec_error *error, int64_t now_ms,
			   SessionOutput *out)
{
	memset(out, 0, sizeof(*out));
	if (session->state == SESSION_STATE_CUT_OFF)
		return;
	session->received++;
	session_refill(session, now_ms);
	if (session->tokens >= 1.0)
		session->tokens -= 1.0;
	session_refuse(session, error->code, error->type, error->field_offset, error->seq, true, out);
}

void session_ring_fault(Session *session, const char *why, SessionOutput *out)
{
	memset(out, 0, sizeof(*out));
	if (session->state == SESSION_STATE_CUT_OFF)
		return;
	session_cut_off(session, why, out);
}

int session_take_reply(Session *session, uint32_t epoch, uint32_t reply_to, struct rpc_msg *msg)
{
	if (session->state != SESSION_STATE_OPEN || epoch != session->epoch ||
	    !session->demand_pending || reply_to != session->pending_demand_seq)
		return -ESTALE;
	session->demand_pending = false;
	msg->reply_to = reply_to;
	msg->seq = session_next_seq(session);
	return 0;
}

int session_take_message(Session *session, struct rpc_msg *msg)
{
	if (session->state != SESSION_STATE_OPEN)
		return -ENOTCONN;
	msg->seq = session_next_seq(session);
	return 0;
}
