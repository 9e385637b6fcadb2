#!/usr/bin/python3
"""bench/overcommit-agent.py: the host side of one bench/overcommit run.

Samples every VM of the run once a second into samples.tsv, and, for the
two policies that have no daemon of their own, is that policy:

  balloon  virtio-balloon targets set with virDomainSetMemoryFlags;
  vmem     virtio-mem requested sizes set through libvirt (what an operator
           can build with libvirt alone), by the same rules.

The rules are oVirt MOM's defaults: guest statistics every 5 s, a decision
every 10 s; the host is under pressure when less than 20 % of the budget is
free; under pressure every guest with more than 20 % of its memory free
gives back, otherwise every guest with less than 20 % free grows; a step
is at most 5 % of the guest's max; no grow takes the host past its budget.
static and omem are only sampled (omemd decides for omem).

A sample row (vm is the LABEL): run t_s vm committed_mib resident_mib used_mib target_mib,
where committed is what the host must hold for the VM (static: its max;
balloon: the balloon's actual; vmem and omem: boot + plugged), resident
its QEMU's RssShmem (guest RAM in the memfd; RSS would count TCG's code
cache too), used the guest's MemTotal - MemAvailable from the balloon's
statistics, target what the policy last asked for.

  overcommit-agent.py --run ID --policy P --budget-mib B --out FILE
                      [--uri URI] LABEL=DOMAIN:BOOT_MIB:MAX_MIB...

Runs until SIGTERM; prints nothing on stdout.  A VM that disappears (a
crashed guest) is sampled as "-" from then on, never an error.
"""

import argparse
import signal
import sys
import time
import xml.etree.ElementTree as ET

import libvirt

STATS_PERIOD_S = 5
DECIDE_EVERY_S = 10
SAMPLE_EVERY_S = 1.0
PRESSURE_FREE = 0.20     # host free fraction of the budget under which it is short
GUEST_FREE = 0.20        # the free fraction every guest should keep
MAX_STEP = 0.05          # of the guest's max, per decision
BLOCK_KIB = 2048         # virtio-mem block size of the bench's guests

stopping = False


def on_term(_signum, _frame):
    global stopping
    stopping = True


class Vm:
    def __init__(self, spec):
        label, _, rest = spec.partition("=")
        name, boot, maxm = rest.rsplit(":", 2)
        self.label = label
        self.name = name
        self.boot = int(boot)
        self.max = int(maxm)
        self.dom = None
        self.pid = None
        self.target = None       # what the policy asked last, MiB

    def lookup(self, conn):
        if self.dom is None:
            try:
                self.dom = conn.lookupByName(self.name)
            except libvirt.libvirtError:
                return False
        if self.pid is None:
            try:
                with open("/run/libvirt/qemu/%s.pid" % self.name) as f:
                    self.pid = int(f.read().strip())
            except (OSError, ValueError):
                return False
        return True

    def resident_mib(self):
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("RssShmem:"):
                        return int(line.split()[1]) // 1024
        except (OSError, TypeError):
            pass
        return None

    def stats(self):
        try:
            return self.dom.memoryStats()
        except libvirt.libvirtError:
            return {}

    def vmem_device(self):
        """The live virtio-mem element and its (requested, current) in MiB."""
        try:
            xml = self.dom.XMLDesc(0)
        except libvirt.libvirtError:
            return None, None, None
        root = ET.fromstring(xml)
        dev = root.find("./devices/memory[@model='virtio-mem']")
        if dev is None:
            return None, None, None
        req = dev.find("./target/requested")
        cur = dev.find("./target/current")
        to_mib = lambda e: int(e.text) // 1024 if e is not None else None
        return dev, to_mib(req), to_mib(cur)


def size_of(vm, policy):
    """(committed, target) in MiB for the VM now, None where unknown."""
    if policy == "static":
        return vm.max, vm.max
    if policy == "balloon":
        st = vm.stats()
        actual = st.get("actual")
        try:
            target = vm.dom.info()[2] // 1024
        except libvirt.libvirtError:
            target = None
        return (actual // 1024 if actual is not None else None), target
    _, req, cur = vm.vmem_device()
    if cur is None:
        return None, None
    return vm.boot + cur, vm.boot + (req or 0)


def used_of(vm):
    st = vm.stats()
    if "available" in st and "usable" in st:
        return (st["available"] - st["usable"]) // 1024, st["available"] // 1024, st["usable"] // 1024
    return None, None, None


def set_size(vm, policy, mib):
    """Ask libvirt for the VM at MIB total; the balloon's target or the
    virtio-mem device's requested size, in whole blocks."""
    mib = max(vm.boot, min(vm.max, int(mib)))
    if policy == "balloon":
        vm.dom.setMemoryFlags(mib * 1024, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    else:
        dev, _, _ = vm.vmem_device()
        if dev is None:
            return
        kib = (mib - vm.boot) * 1024 // BLOCK_KIB * BLOCK_KIB
        req = dev.find("./target/requested")
        req.text = str(kib)
        req.set("unit", "KiB")
        vm.dom.updateDeviceFlags(ET.tostring(dev, encoding="unicode"),
                                 libvirt.VIR_DOMAIN_AFFECT_LIVE)
    vm.target = mib


def decide(vms, policy, budget):
    """One MOM-like decision over every VM, from their last statistics."""
    state = []
    for vm in vms:
        size, _ = size_of(vm, policy)
        _, _, usable = used_of(vm)
        if size is None or usable is None:
            continue
        state.append((vm, size, usable))
    held = sum(s for _, s, _ in state)
    pressure = budget - held < PRESSURE_FREE * budget
    for vm, size, free in state:
        step = MAX_STEP * vm.max
        if pressure and free > GUEST_FREE * size:
            # give back, but keep 20 % free
            new = size - min(step, free - GUEST_FREE * size)
        elif not pressure and free < GUEST_FREE * size and size < vm.max:
            new = min(size + step, vm.max, size + (budget - held))
        else:
            continue
        if int(new) != size:
            try:
                set_size(vm, policy, new)
                held += int(new) - size
            except libvirt.libvirtError as e:
                print("overcommit-agent: %s: %s" % (vm.name, e), file=sys.stderr)


def fmt(v):
    return "-" if v is None else str(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--policy", required=True, choices=["static", "balloon", "vmem", "omem"])
    ap.add_argument("--budget-mib", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--uri", default="qemu:///system")
    ap.add_argument("vms", nargs="+")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    conn = libvirt.open(a.uri)
    vms = [Vm(s) for s in a.vms]
    out = open(a.out, "a", buffering=1)
    start = time.monotonic()
    next_decide = start + DECIDE_EVERY_S
    stats_set = set()
    while not stopping:
        t = time.monotonic()
        for vm in vms:
            if not vm.lookup(conn):
                out.write("%s\t%.1f\t%s\t-\t-\t-\t-\n" % (a.run, t - start, vm.label))
                continue
            if vm.name not in stats_set:
                try:
                    vm.dom.setMemoryStatsPeriod(STATS_PERIOD_S, libvirt.VIR_DOMAIN_AFFECT_LIVE)
                    stats_set.add(vm.name)
                except libvirt.libvirtError:
                    pass
            committed, target = size_of(vm, a.policy)
            used, _, _ = used_of(vm)
            out.write("%s\t%.1f\t%s\t%s\t%s\t%s\t%s\n" % (
                a.run, t - start, vm.label, fmt(committed), fmt(vm.resident_mib()),
                fmt(used), fmt(target)))
        if a.policy in ("balloon", "vmem") and t >= next_decide:
            decide([vm for vm in vms if vm.dom is not None], a.policy, a.budget_mib)
            next_decide += DECIDE_EVERY_S
        delay = SAMPLE_EVERY_S - (time.monotonic() - t)
        if delay > 0:
            time.sleep(delay)
    out.close()


if __name__ == "__main__":
    main()
