# The transport: host-server/rpc/ivshmem-server.c, one VM's ivshmem server,
# tested against a fake QEMU client on a unix socket (unit/fake-qemu.c),
# the unix socket listener it shares with omemd's status and admission
# sockets, and the back-pressure of omemd's per-VM transport
# (daemon/transport.c) against two fake QEMUs whose guests flood.
check_PROGRAMS += unit/test-ivshmem-server
TESTS += unit/test-ivshmem-server
unit_test_ivshmem_server_SOURCES = unit/test-ivshmem-server.c unit/fake-qemu.c unit/fake-qemu.h
unit_test_ivshmem_server_LDADD = $(LIBOMEM_RPC)
check_PROGRAMS += unit/test-unix-listener
TESTS += unit/test-unix-listener
unit_test_unix_listener_SOURCES = unit/test-unix-listener.c
unit_test_unix_listener_LDADD = $(LIBOMEM_RPC)
check_PROGRAMS += unit/test-transport-backlog
TESTS += unit/test-transport-backlog
unit_test_transport_backlog_SOURCES = unit/test-transport-backlog.c unit/fake-qemu.c unit/fake-qemu.h
unit_test_transport_backlog_LDADD = $(LIBOMEMD)
