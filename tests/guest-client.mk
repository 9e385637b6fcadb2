# The guest module's decision math (guest-client/omem_decide.c), pure C
# that also builds in user space, tested here without a kernel.  The
# module itself is built by Kbuild (guest-client/Makefile.am) and tested
# in real guests (e2e/).  Included by tests/Makefile.am.

check_PROGRAMS += unit/test-guest-decide
TESTS += unit/test-guest-decide

unit_test_guest_decide_SOURCES = unit/test-guest-decide.c ../guest-client/omem_decide.c
unit_test_guest_decide_CPPFLAGS = -I$(top_srcdir)/include -I$(top_srcdir)/guest-client \
	-I$(top_srcdir)/tests/unit
unit_test_guest_decide_CFLAGS = $(OMEM_CFLAGS)
