/* SPDX-License-Identifier: MIT */
/*
 * fake-qemu: the tests' QEMU on an ivshmem-doorbell socket (see
 * fake-qemu.h).
 */
#include "config.h"

#include "fake-qemu.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>

int fake_qemu_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	struct timeval timeout = { .tv_sec = timeout_ms / 1000,
				   .tv_usec = (timeout_ms % 1000) * 1000 };
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (sock < 0)
		return -errno;
	g_strlcpy(address.sun_path, path, sizeof(address.sun_path));
	if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0 ||
	    connect(sock, (struct sockaddr *)&address, sizeof(address)) < 0) {
		int err = errno;

		close(sock);
		return -err;
	}
	return sock;
}

int fake_qemu_recv(int sock, int64_t *ret_value, int *ret_fd)
{
	gint64 wire;
	struct iovec iov = { .iov_base = &wire, .iov_len = sizeof(wire) };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;
	ssize_t n;

	*ret_fd = -1;
	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	if (n != sizeof(wire) || (msg.msg_flags & MSG_CTRUNC))
		return -EPROTO;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
		    cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(ret_fd, CMSG_DATA(cmsg), sizeof(int));
	}
	*ret_value = GINT64_FROM_LE(wire);
	return 0;
}

int fake_qemu_handshake_receive(int sock, FakeQemuHandshake *handshake)
{
	int i, ret;

	for (i = 0; i < FAKE_QEMU_HANDSHAKE_MESSAGES; i++)
		handshake->fds[i] = -1;
	for (i = 0; i < FAKE_QEMU_HANDSHAKE_MESSAGES; i++) {
		ret = fake_qemu_recv(sock, &handshake->values[i], &handshake->fds[i]);
		if (ret < 0)
			return ret;
		handshake->received++;
	}
	return 0;
}

void fake_qemu_handshake_clear(FakeQemuHandshake *handshake)
{
	int i;

	for (i = 0; i < FAKE_QEMU_HANDSHAKE_MESSAGES; i++) {
		if (handshake->fds[i] >= 0)
			close(handshake->fds[i]);
		handshake->fds[i] = -1;
	}
}

int fake_qemu_shm_fd(const FakeQemuHandshake *handshake)
{
	return handshake->fds[2];
}

int fake_qemu_server_doorbell_fd(const FakeQemuHandshake *handshake, unsigned vector)
{
	return handshake->fds[3 + vector];
}

int fake_qemu_guest_eventfd(const FakeQemuHandshake *handshake, unsigned vector)
{
	return handshake->fds[3 + OMEM_RPC_VECTORS + vector];
}
