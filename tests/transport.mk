# The transport: host-server/rpc/ivshmem-server.c, one VM's ivshmem server,
# tested against a fake QEMU client on a unix socket.
check_PROGRAMS += unit/test-ivshmem-server
TESTS += unit/test-ivshmem-server
unit_test_ivshmem_server_SOURCES = unit/test-ivshmem-server.c
unit_test_ivshmem_server_LDADD = $(LIBOMEM_RPC)
