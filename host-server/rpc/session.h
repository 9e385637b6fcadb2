/* SPDX-License-Identifier: MIT */
/*
 * session: the host's side of one VM's omem-rpc session, as pure logic.
 *
 * The transport thread hands every slot it took off the guest->host ring
 * to session_receive (decoded) or session_receive_error (refused by the
 * codec); the session answers what it can answer alone (WELCOME, PONG,
 * ERROR, DENY RATE/BUSY, GOODBYE PROTOCOL) and reports one event for the
 * manager (a DEMAND to decide, a SURPLUS, STATS, the session opening or
 * ending, the guest cut off).  The manager's answer to a DEMAND comes back
 * through session_take_reply, which drops it if a HELLO restarted the
 * session meanwhile.
 *
 * Rules (include/omem/rpc.h): a session starts with HELLO seq 1 and a HELLO
 * inside a session restarts it; the host's numbering restarts with the
 * answer.  Messages before HELLO are refused (NOT_NEGOTIATED).  Every
 * message costs a token of a per-VM bucket; DEMANDs are also spaced by
 * demand_interval_ms, CRITICAL ones in a bucket of their own, and
 * HELLOs (each restarts the session) by a bucket of four, one a second.  A refused message costs a strike;
 * consecutive strikes past rate_strikes, protocol errors past error_limit
 * (per connection: a HELLO does not forgive them) or a broken ring index
 * cut the guest off (GOODBYE PROTOCOL, nothing more read until the next
 * connection).  No I/O, no logging, no clock: time is passed in.
 */
#ifndef OMEM_SESSION_H
#define OMEM_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "rpc/rpc-codec.h"

/* Replies one incoming message can cause: ERROR then GOODBYE at most. */
#define SESSION_MAX_REPLIES 2

/* Tunables, from omemd.conf. */
typedef struct {
	uint32_t stats_interval_ms;   /* sent in WELCOME: how often the guest sends STATS */
	uint32_t demand_interval_ms;  /* sent in WELCOME and enforced: DEMAND spacing */
	uint32_t rate_per_s;          /* message bucket refill, messages per second */
	uint32_t rate_burst;          /* message bucket size */
	uint32_t rate_strikes;        /* consecutive refused messages before cut-off */
	uint32_t error_limit;         /* protocol errors per connection before cut-off */
	uint32_t demand_burst;        /* DEMANDs allowed back to back before spacing applies */
} SessionConfig;

typedef enum {
	SESSION_STATE_NONE,      /* connected, no HELLO yet */
	SESSION_STATE_OPEN,      /* WELCOME sent */
	SESSION_STATE_CLOSED,    /* GOODBYE received (or version refused) */
	SESSION_STATE_CUT_OFF,   /* omemd cut the guest off */
} SessionState;

typedef enum {
	SESSION_EVENT_NONE,
	SESSION_EVENT_OPENED,    /* HELLO answered with WELCOME: hello, version */
	SESSION_EVENT_DEMAND,    /* decide it, answer with session_take_reply: demand, seq */
	SESSION_EVENT_SURPLUS,   /* surplus */
	SESSION_EVENT_STATS,     /* stats */
	SESSION_EVENT_CLOSED,    /* GOODBYE from the guest, or no common version: reason */
	SESSION_EVENT_CUT_OFF,   /* the guest was cut off: why */
} SessionEventType;

/* What the manager must hear about one incoming message. */
typedef struct {
	SessionEventType type;
	uint32_t epoch;          /* session number; answers must quote it */
	uint32_t seq;            /* the guest message's seq (a DEMAND's reply_to) */
	uint16_t version;        /* OPENED: protocol version chosen */
	uint32_t reason;         /* CLOSED: GOODBYE reason */
	const char *why;         /* CUT_OFF: static text for the log line */
	union {
		struct rpc_msg_hello hello;
		struct rpc_msg_demand demand;
		struct rpc_msg_surplus surplus;
		struct rpc_msg_stats stats;
	} u;
} SessionEvent;

/* Everything session_receive* produced: replies to send now, in order
 * (already numbered), and at most one event. */
typedef struct {
	struct rpc_msg replies[SESSION_MAX_REPLIES];
	unsigned n_replies;
	SessionEvent event;
} SessionOutput;

/* One connection's session state; plain data, zero-initialisable. */
typedef struct {
	SessionConfig config;
	SessionState state;
	uint32_t epoch;             /* +1 per HELLO */
	uint16_t version;           /* negotiated */
	uint32_t next_seq;          /* our next seq */
	uint32_t expect_seq;        /* the guest's next seq, 0 before HELLO */
	bool demand_pending;        /* a DEMAND is with the manager */
	uint32_t pending_demand_seq;
	double tokens;              /* message bucket */
	int64_t tokens_ms;          /* when the bucket was last refilled */
	double demand_tokens;       /* DEMAND spacing bucket */
	double critical_tokens;     /* CRITICAL DEMAND spacing bucket (same size and refill) */
	double hello_tokens;        /* HELLO bucket: a small burst, then one per second */
	uint32_t told_demand_interval_ms; /* the spacing the last WELCOME told (enforced) */
	uint32_t strikes;           /* consecutive refused messages */
	uint32_t errors;            /* protocol errors this connection */
	uint64_t received;          /* messages taken off the ring */
	uint64_t refused;           /* of which refused (errors and rate) */
} Session;

/* Start a fresh connection's session (new region generation): every
 * counter and the buckets reset, state NONE. */
void session_init(Session *session, const SessionConfig *config, int64_t now_ms);

/* New tunables (a reload) for a running session: the rate limits and the
 * error limit apply at once; the intervals a WELCOME tells the guest
 * (STATS period, DEMAND spacing) from its next HELLO, as the guest keeps
 * what it was told and its spacing is enforced as told. */
void session_set_config(Session *session, const SessionConfig *config);

/* Handle one decoded guest message.  @contract holds the WELCOME figures
 * (boot, min, max, cap, plugged, block, buffer) the manager last
 * published; version, intervals and features are the session's. */
void session_receive(Session *session, const struct rpc_msg *msg,
		     const struct rpc_msg_welcome *contract, int64_t now_ms, SessionOutput *out);

/* Handle a slot the codec refused: ERROR back, count, maybe cut off. */
void session_receive_error(Session *session, const struct rpc_codec_error *error, int64_t now_ms,
			   SessionOutput *out);

/* The guest broke a ring index (or the host->guest ring): cut off now. */
void session_ring_fault(Session *session, const char *why, SessionOutput *out);

/* Number the manager's GRANT/DENY to the DEMAND @reply_to of session
 * @epoch.  Returns 0, or -ESTALE when the session moved on (a new HELLO,
 * closed, cut off): drop the answer. */
int session_take_reply(Session *session, uint32_t epoch, uint32_t reply_to, struct rpc_msg *msg);

/* Number a message omemd sends on its own (GOODBYE SHUTDOWN).  Returns 0,
 * or -ENOTCONN when no session is open. */
int session_take_message(Session *session, struct rpc_msg *msg);

/* "none", "open", "closed", "cut-off" as docs/status.md spells them. */
const char *session_state_name(SessionState state);

#endif /* OMEM_SESSION_H */
