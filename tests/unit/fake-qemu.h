/* SPDX-License-Identifier: MIT */
/*
 * fake-qemu: the tests' QEMU on an ivshmem-doorbell socket.  It connects
 * as QEMU's ivshmem device does and reads the server's handshake
 * (version, peer id, the shared memory fd, then an eventfd per vector
 * for the server and for the guest), so a test can map the region, ring
 * the server's doorbells and watch the guest's.  Shared by the tests of
 * the ivshmem server and of omemd's transport.
 */
#ifndef OMEM_TEST_FAKE_QEMU_H
#define OMEM_TEST_FAKE_QEMU_H

#include <stdint.h>

#include "omem/rpc.h"

/* Messages in a handshake: version, id, shm, then two per vector. */
#define FAKE_QEMU_HANDSHAKE_MESSAGES ((int)(3 + 2 * OMEM_RPC_VECTORS))

/* A handshake as received, messages in order; fds -1 where none came. */
typedef struct {
	int64_t values[FAKE_QEMU_HANDSHAKE_MESSAGES];
	int fds[FAKE_QEMU_HANDSHAKE_MESSAGES];
	int received;
} FakeQemuHandshake;

/* Connect to @path like QEMU, blocking, reads timing out after
 * @timeout_ms.  The socket, or -errno. */
int fake_qemu_connect(const char *path, int timeout_ms);

/* Read one message as QEMU does: 8 bytes, maybe one fd (else -1).  0,
 * -EPIPE on EOF, -EPROTO on a short or malformed message, -errno. */
int fake_qemu_recv(int sock, int64_t *ret_value, int *ret_fd);

/* Read a whole handshake; 0 or the first fake_qemu_recv error, with
 * what came before it in @handshake. */
int fake_qemu_handshake_receive(int sock, FakeQemuHandshake *handshake);

/* Close every fd the handshake brought. */
void fake_qemu_handshake_clear(FakeQemuHandshake *handshake);

/* The shared memory fd (message 3). */
int fake_qemu_shm_fd(const FakeQemuHandshake *handshake);

/* The eventfd the guest writes to ring the server on @vector. */
int fake_qemu_server_doorbell_fd(const FakeQemuHandshake *handshake, unsigned vector);

/* The eventfd the server writes to interrupt the guest on @vector. */
int fake_qemu_guest_eventfd(const FakeQemuHandshake *handshake, unsigned vector);

#endif /* OMEM_TEST_FAKE_QEMU_H */
