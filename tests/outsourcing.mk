# The outsourcing loop end to end (tests/e2e/outsourcing.sh): a real guest
# with omem_client.ko, the real omemd, libvirtd's virtio-mem; helpers in
# lib/omem.sh (also used by bench/ and ci/demo).  Included by
# tests/Makefile.am.
#
# Not in TESTS yet: it has not passed against the finished module policy
# and omemd.  Once it passes reliably, add it under GUEST_TESTS:
#   if GUEST_TESTS
#   TESTS += $(OUTSOURCING_SCENARIOS)
#   endif
# omemd manages every omem VM of the libvirtd, so the scenario must not
# run beside the other real-guest scripts (make check without -j).
OUTSOURCING_SCENARIOS = e2e/outsourcing.sh

EXTRA_DIST += $(OUTSOURCING_SCENARIOS) lib/omem.sh
