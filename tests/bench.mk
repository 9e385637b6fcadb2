# The benchmarks' parts that need no guest (no root), included by
# tests/Makefile.am:
#   bench/overcommit-report.sh  bench/overcommit-report.py on a run folder
#                               the test writes itself (~2 s; TAP SKIP
#                               without python3-matplotlib);
#   bench/overcommit-agent.sh   the MOM rules of bench/overcommit-agent.py,
#                               libvirt's calls replaced (TAP SKIP without
#                               python3-libvirt);
#   bench/giveback-report.sh    bench/giveback-report.py on a run folder
#                               the test writes itself (~1 s).
BENCH_TESTS = bench/overcommit-report.sh bench/overcommit-agent.sh \
	bench/giveback-report.sh

TESTS += $(BENCH_TESTS)
EXTRA_DIST += $(BENCH_TESTS)
