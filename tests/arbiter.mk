# The arbiter (host-server/arbiter/arbiter*.c): focused unit cases and a seeded
# property test that drives random VM lifecycles, demands and size events
# against a simulated virtio-mem device (OMEM_PROPERTY_SEED replays a
# run).  Both call arbiter_check after every step.  Included by
# tests/Makefile.am.
check_PROGRAMS += unit/test-arbiter unit/test-arbiter-property
TESTS += unit/test-arbiter unit/test-arbiter-property

unit_test_arbiter_SOURCES = unit/test-arbiter.c
unit_test_arbiter_LDADD = $(LIBOMEM_ARBITER)

unit_test_arbiter_property_SOURCES = unit/test-arbiter-property.c
unit_test_arbiter_property_LDADD = $(LIBOMEM_ARBITER)
