# The outsourcing loop end to end (tests/e2e/outsourcing.sh): a real guest
# with omem_client.ko, the real omemd, libvirtd's virtio-mem; helpers in
# lib/omem.sh (also used by bench/ and ci/demo).  Included by
# tests/Makefile.am.
#
# All five scenarios, 5 (omemd killed mid-growth) included: it used to end
# in a guest OOM kill in about half the runs (the guest's boot RAM filled
# before the plug caught up, so onlining the next block failed for its
# memmap); the guest module now keeps its consumption trend across the
# restart and asks a plug's latency ahead of it (docs/guest-client.md,
# "Why the trend is in the marks").  Its omemd manages only the script's
# own guest (omemd_start passes --domains "omemtest-*-$$"), so it may run
# beside the other real-guest scripts under make -j check.  ~90 s under
# TCG.
# e2e/hostile.sh: two guests under one omemd, one made hostile through the
# module's debugfs inject hook (flood, garbage, ring index, lies): it is
# rate-limited or cut off alone with one log line, the other keeps
# growing.  ~30 s under TCG.
OUTSOURCING_SCENARIOS = e2e/outsourcing.sh e2e/hostile.sh

if GUEST_TESTS
TESTS += $(OUTSOURCING_SCENARIOS)
endif

EXTRA_DIST += $(OUTSOURCING_SCENARIOS) lib/omem.sh
