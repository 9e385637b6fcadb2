#!/bin/bash
# tests/bench/overcommit-agent.sh — the MOM rules of
# bench/overcommit-agent.py (the host policy behind the balloon and
# virtio-mem-by-hand rows of bench/overcommit.sh), decision by decision on
# VMs whose libvirt calls are replaced: who grows, who gives back, by how
# much, and never past the budget.  No libvirtd, no guest.  TAP on stdout;
# skips without python3-libvirt (the agent imports it).
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"

if ! /usr/bin/python3 -c 'import libvirt' 2>/dev/null; then
    skip_all "python3-libvirt is not installed (ci/install-deps installs it)"
fi

/usr/bin/python3 - "$top_srcdir/bench/overcommit-agent.py" <<'PY'
import importlib.util
import sys

sys.dont_write_bytecode = True
spec = importlib.util.spec_from_file_location("agent", sys.argv[1])
agent = importlib.util.module_from_spec(spec)
spec.loader.exec_module(agent)

n = 0
failed = 0


def check(cond, what, detail=""):
    global n, failed
    n += 1
    if cond:
        print("ok %d - %s" % (n, what))
    else:
        failed += 1
        print("not ok %d - %s" % (n, what))
        if detail:
            print("# %s" % detail)


class FakeVm:
    """A VM of SIZE MiB of which FREE MiB are available to the guest."""

    def __init__(self, label, size, free, boot=256, maxm=1024):
        self.label = self.name = label
        self.boot, self.max = boot, maxm
        self.size, self.free = size, free
        self.target = None
        self.dom = object()


# The agent's libvirt reads and writes, replaced by the fakes' figures.
agent.size_of = lambda vm, policy: (vm.size, vm.target or vm.size)
agent.used_of = lambda vm: (vm.size - vm.free, vm.size, vm.free)
calls = []


def fake_set(vm, policy, mib):
    mib = int(mib)
    calls.append((vm.label, mib))
    vm.size = mib


agent.set_size = fake_set


def decide(vms, budget):
    calls.clear()
    agent.decide(vms, "balloon", budget)
    return dict(calls)


# No pressure (4096 budget, 1024 held): a guest under 20 % free grows by
# 5 % of its max (51 MiB); one with enough free is left alone.
a, b = FakeVm("a", 512, 50), FakeVm("b", 512, 300)
got = decide([a, b], 4096)
check(got.get("a") == 563, "a guest under 20 % free grows by 5 % of its max", got)
check("b" not in got, "a guest with over 20 % free is left alone when the host is not short", got)

# A guest at its max does not grow.
c = FakeVm("c", 1024, 10)
got = decide([c], 4096)
check(got == {}, "a guest at its max is not grown", got)

# With room in the budget a grow is a whole 5 % of max.  1320 held of
# 1700: 380 free, over 20 %: the host is not short.
d, e = FakeVm("d", 600, 10), FakeVm("e", 720, 500)
got = decide([d, e], 1700)
check(got == {"d": 651}, "with room in the budget the grow is 5 % of max, the guest with free memory is left alone", got)

# A grow is cut at the budget, and the second guest's at what the first
# left: 200 held of 260 (60 free: not short), steps of 102 MiB.
k1 = FakeVm("k1", 100, 5, boot=64, maxm=2048)
k2 = FakeVm("k2", 100, 5, boot=64, maxm=2048)
got = decide([k1, k2], 260)
check(got == {"k1": 160}, "grows stop at the budget: the first takes the 60 MiB left, the second nothing", got)
check(k1.size + k2.size <= 260, "no grow takes the host past its budget", (k1.size, k2.size))

# Pressure (under 20 % of the budget free): guests above 20 % free give
# back at most 5 % of their max and keep 20 % free; a guest short of
# memory is not grown.
g, h, i = FakeVm("g", 800, 600), FakeVm("h", 800, 170), FakeVm("i", 400, 10)
got = decide([g, h, i], 2100)
check(got.get("g") == 748, "under pressure a guest with much free gives back 5 % of its max", got)
check(got.get("h") == 790, "the give-back keeps 20 % of the guest free (800 - (170 - 160))", got)
check("i" not in got, "under pressure a guest short of memory is not grown", got)

print("1..%d" % n)
sys.exit(1 if failed else 0)
PY
