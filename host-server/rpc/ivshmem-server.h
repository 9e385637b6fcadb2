/* SPDX-License-Identifier: MIT */
/*
 * ivshmem-server: omemd's end of one VM's ivshmem-doorbell device.
 *
 * omemd is the ivshmem server of each VM's device (see include/omem/rpc.h,
 * "Transport", and docs/transport.md).  One IvshmemServer serves exactly
 * one VM: it owns the unix socket that VM's QEMU connects to, the memfd
 * behind BAR2 and every eventfd, and it is itself the device's second peer.
 * It knows nothing of the omem-rpc protocol: the caller lays out the
 * region and reacts to doorbells.
 *
 * Threading: QEMU reads the handshake synchronously inside device_add, so
 * the server must answer while libvirt's attach call is still running.
 * ivshmem_server_start() therefore attaches everything to a GMainContext the
 * caller iterates in a thread that never waits on libvirt; every callback
 * runs on that context.  Only ivshmem_server_notify_guest() and the two
 * getters may be called from other threads.
 */
#ifndef OMEM_IVSHMEM_SERVER_H
#define OMEM_IVSHMEM_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include <glib.h>

/* The server's own peer id when the config leaves it 0.  The guest learns
 * it from the region header (omem_rpc_region.host_peer_id). */
#define IVSHMEM_SERVER_DEFAULT_PEER_ID 1u

/* The doorbell register carries the peer id in 16 bits. */
#define IVSHMEM_SERVER_MAX_PEER_ID 65535u

/* omem uses OMEM_RPC_VECTORS (2); the bound keeps the eventfds one VM can
 * cost omemd small. */
#define IVSHMEM_SERVER_MAX_VECTORS 16u

typedef struct _IvshmemServer IvshmemServer;

/**
 * IvshmemServerCallbacks - what the server reports, always on the context
 * given to ivshmem_server_start().  Every member may be NULL.
 * @doorbell:           the guest rang (server peer id << 16) | @vector.
 *                      Rings are coalesced: one call may stand for several,
 *                      so the caller must look at all its work each time.
 * @guest_connected:    QEMU completed the handshake and now holds the
 *                      region and the eventfds; @peer_id is the guest's
 *                      peer id for this connection (fresh every time).  The
 *                      guest cannot touch the new device before device_add
 *                      returns, so this is the place to (re)initialise the
 *                      region.
 * @guest_disconnected: QEMU closed the socket (device detached, QEMU gone);
 *                      ivshmem_server_notify_guest() now returns -ENOTCONN.
 * @connection_dropped: the server closed a connection on its own: refused
 *                      without a handshake (wrong uid or pid, a guest is
 *                      already connected), handshake not sent, client cut
 *                      off for sending data (QEMU never does; followed by
 *                      @guest_disconnected), or accept() failing (reported
 *                      once until it works again).  @reason says who and
 *                      why, ready for one log line; the library never logs.
 */
typedef struct {
	void (*doorbell)(IvshmemServer *server, unsigned vector, gpointer user_data);
	void (*guest_connected)(IvshmemServer *server, unsigned peer_id, gpointer user_data);
	void (*guest_disconnected)(IvshmemServer *server, unsigned peer_id, gpointer user_data);
	void (*connection_dropped)(IvshmemServer *server, const GError *reason,
	                           gpointer user_data);
} IvshmemServerCallbacks;

/**
 * IvshmemServerConfig - everything ivshmem_server_new() needs; copied.
 * @socket_path:    where QEMU connects (libvirt <server path='...'/>).  The
 *                  folder must belong to omemd; a stale socket there is
 *                  replaced, any other file is an error.
 * @region_size:    shared region (BAR2) in bytes: a power of two,
 *                  OMEM_RPC_REGION_MIN_SIZE..OMEM_RPC_REGION_MAX_SIZE.
 * @vectors:        1..IVSHMEM_SERVER_MAX_VECTORS; must equal the device's
 *                  vectors (OMEM_RPC_VECTORS for omem).
 * @server_peer_id: the server's own peer id, 1..IVSHMEM_SERVER_MAX_PEER_ID;
 *                  0 means IVSHMEM_SERVER_DEFAULT_PEER_ID.
 * @allowed_uid:    the only uid that may connect (QEMU's, libvirt-qemu);
 *                  the socket file is chowned to it, mode 0600.
 * @allow_root:     also accept uid 0 (tests; a root-run QEMU).
 * @allowed_pid:    the only process that may connect (that VM's QEMU);
 *                  0 (not known) refuses every peer, since all QEMUs
 *                  share one uid, unless @allow_any_pid.
 * @allow_any_pid:  accept any pid of the allowed uid (test tools serving
 *                  a QEMU started after the server, whose pid they cannot
 *                  know).
 * @callbacks:      see IvshmemServerCallbacks.
 * @user_data:      passed to every callback.
 */
typedef struct {
	const char *socket_path;
	size_t region_size;
	unsigned vectors;
	unsigned server_peer_id;
	uid_t allowed_uid;
	gboolean allow_root;
	pid_t allowed_pid;
	gboolean allow_any_pid;
	IvshmemServerCallbacks callbacks;
	gpointer user_data;
} IvshmemServerConfig;

/* Create the region and the listening socket for one VM; QEMU may connect
 * from now on but is answered only once ivshmem_server_start() ran. */
IvshmemServer *ivshmem_server_new(const IvshmemServerConfig *config, GError **error);

/* Serve the socket and the doorbells from @context (the transport thread's
 * context, which must never wait on libvirt).  Call once. */
void ivshmem_server_start(IvshmemServer *server, GMainContext *context);

/* The shared region, for the protocol layer to lay out and use; mapped for
 * the server's lifetime, not locked.  Any thread. */
void *ivshmem_server_get_region(IvshmemServer *server, size_t *ret_size);

/* The server's own peer id, which the guest needs in the region header. */
unsigned ivshmem_server_get_peer_id(IvshmemServer *server);

/* Interrupt the guest on @vector.  Any thread.  0, -ENOTCONN when no guest
 * is connected, -EINVAL for a vector out of range, other -errno from write. */
int ivshmem_server_notify_guest(IvshmemServer *server, unsigned vector);

/* Close the guest connection, the socket (unlinked), the region and every
 * eventfd.  Call from the context's thread or once nobody iterates that
 * context any more.  Accepts NULL. */
void ivshmem_server_free(IvshmemServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(IvshmemServer, ivshmem_server_free)

#endif /* OMEM_IVSHMEM_SERVER_H */
