# The benchmarks' parts that need no guest: bench/overcommit-report.py on
# a run folder the test writes itself (~2 s, no root; TAP SKIP without
# python3-matplotlib).  Included by tests/Makefile.am.
BENCH_TESTS = bench/overcommit-report.sh

TESTS += $(BENCH_TESTS)
EXTRA_DIST += $(BENCH_TESTS)
