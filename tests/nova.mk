# The nova shim (nova-shim/): its unit tests and its functional tests
# through nova's own stack, both unittest modules run as TAP by
# nova/unit.sh and nova/functional.sh with /usr/bin/python3 against
# Debian's python3-nova and python3-placement (they skip when those are
# missing).  Included by tests/Makefile.am.
NOVA_TESTS = nova/unit.sh nova/functional.sh
TESTS += $(NOVA_TESTS)
EXTRA_DIST += $(NOVA_TESTS) nova/lib.sh nova/tap_runner.py nova/shim_env.py \
	nova/test_units.py nova/test_functional.py nova/nova-domain.xml

# nova/e2e.sh: the XML OmemLibvirtDriver wrote on nova's functional stack
# (nova/driver_xml.py) boots as a real TCG guest, host-local parts edited
# by nova/host_local.py; omemd serves it and memload grows it.  A real
# guest (tests/lib/guest.sh): only with the guest tests.  ~1 minute.
NOVA_GUEST_SCENARIOS = nova/e2e.sh
if GUEST_TESTS
TESTS += $(NOVA_GUEST_SCENARIOS)
endif
EXTRA_DIST += $(NOVA_GUEST_SCENARIOS) nova/driver_xml.py nova/host_local.py
