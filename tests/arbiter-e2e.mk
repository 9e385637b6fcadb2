# The arbiter end to end (tests/e2e/arbiter.sh): three real guests share
# one host budget under the real omemd and libvirtd: contention with
# reclaim, omemd killed and restarted, a libvirtd restart with the
# admission hook, an admission refusal, a VM destroyed mid-grant.
# Included by tests/Makefile.am.
#
# Its omemd manages only the script's own guests (--domains), so it may
# run beside the other real-guest scripts; its libvirtd restart step runs
# only when ci/libvirtd started libvirtd and no other domain runs (TAP
# SKIP otherwise).  ~1 to 1.5 minutes under TCG (measured 58-81 s).
ARBITER_SCENARIOS = e2e/arbiter.sh

if GUEST_TESTS
TESTS += $(ARBITER_SCENARIOS)
endif

EXTRA_DIST += $(ARBITER_SCENARIOS)
