# tests/chaos/probe.sh — what the chaos run reads and how it judges it,
# sourced by tests/chaos/run.sh.
#
# One probe reads, in this order: omemd's status document, libvirt's list
# of running domains and each of ours' live virtio-mem <target>
# (requested, current, size), omemd's status again, omemd's /proc
# figures (VmRSS, VmHWM) and its /metrics counters.  It writes one JSON
# line.  The two status reads bracket libvirt's: a VM whose figures
# differ between them was moving (a plug in flight), and its comparison
# with libvirt is left open rather than called a mismatch.  "agree" is
# true when omemd's VMs are exactly the running ones and every VM's
# requested and plugged equal libvirt's requested and current; false on
# a steady difference; null when something did not answer or moved.
#
#   chaos_probe_once        one probe on stdout; exit 0 if it agrees
#   chaos_sampler           probes every CHAOS_SAMPLE_S into $OMEM_SAMPLES
#                           (run by omem_sampler_start)
#   chaos_analyse EVENTS    reads the samples and the run's events, prints
#                           "CHECK 0|1 TEXT" and "FIGURE NAME VALUE" lines
# Inputs: OMEM_STATUS_SOCKET, CHAOS_METRICS_PORT_FILE (the metrics port of
# the running omemd), CHAOS_NAMES (our domains, comma-separated),
# OMEM_URI.
# shellcheck shell=bash

CHAOS_PROBE='
import json, os, re, socket, subprocess, sys, time, urllib.request
import xml.etree.ElementTree as ET

mode, sock_path, port_file, uri, names = sys.argv[1:6]
names = names.split(",")
interval = float(sys.argv[6]) if len(sys.argv) > 6 else 1.0
# No proxy for a loopback URL, whatever the environment says.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
COUNTERS = ("omem_grants_total", "omem_reclaims_total", "omem_resizes_total",
            "omem_denials_total", "omem_libvirt_errors_total",
            "omem_libvirt_reconnects_total")

def status():
    start = time.monotonic()
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(2)
        sock.connect(sock_path)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        sock.close()
        return json.loads(data), time.monotonic() - start
    except (OSError, ValueError):
        return None, None

def virsh(*args):
    try:
        run = subprocess.run(["virsh", "-q", "-c", uri] + list(args),
                             capture_output=True, text=True, timeout=5)
    except subprocess.TimeoutExpired:
        return None
    return run.stdout if run.returncode == 0 else None

def libvirt_view():
    listing = virsh("list", "--name")
    if listing is None:
        return None
    running = [name for name in listing.split() if name in names]
    devices = {}
    for name in running:
        xml = virsh("dumpxml", name)
        target = None
        if xml is not None:
            try:
                target = ET.fromstring(xml).find("./devices/memory[@model=\"virtio-mem\"]/target")
            except ET.ParseError:
                pass
        if target is None:
            devices[name] = None
            continue
        def field(tag):
            node = target.find(tag)
            return int(node.text) * 1024 if node is not None and node.text else None
        devices[name] = {"size": field("size"), "req": field("requested"), "cur": field("current")}
    return {"running": running, "devices": devices}

def proc(pid):
    out = {}
    try:
        for line in open("/proc/%d/status" % pid):
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    except (OSError, TypeError, ValueError):
        pass
    return out.get("VmRSS"), out.get("VmHWM")

def metrics():
    try:
        port = open(port_file).read().strip()
        with opener.open("http://127.0.0.1:%s/metrics" % port, timeout=2) as answer:
            text = answer.read().decode()
    except (OSError, ValueError):
        return None
    out = {}
    for line in text.splitlines():
        match = re.match(r"^(\w+)(\{[^}]*\})? ([0-9.e+]+)$", line)
        if match and match.group(1) in COUNTERS:
            out[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return out

def vm_view(doc):
    vms = {}
    for vm in doc.get("vms", []):
        contract = vm.get("contract") or {}
        vms[vm.get("name")] = {
            "req": vm.get("requested_bytes"), "plug": vm.get("plugged_bytes"),
            "boot": contract.get("boot_bytes"), "cap": contract.get("cap_bytes"),
            "charge": (vm.get("arbiter") or {}).get("charge_bytes"),
            "session": (vm.get("session") or {}).get("state")}
    return vms

def mib(value):
    return "?" if value is None else str(value >> 20)

def judge(first, libvirt, second):
    if first is None or second is None or libvirt is None:
        return None, "omemd or libvirt did not answer"
    a, b = vm_view(first), vm_view(second)
    running = set(libvirt["running"])
    ours_a = set(n for n in a if n in names)
    ours_b = set(n for n in b if n in names)
    if ours_a != ours_b:
        return None, "omemd VM set moved"
    if ours_b != running:
        return False, "omemd manages %s, libvirt runs %s" % (sorted(ours_b), sorted(running))
    verdict, notes = True, []
    for name in sorted(running):
        dev = libvirt["devices"].get(name)
        if dev is None:
            return None, "%s: no live virtio-mem target" % name
        if (a[name]["req"], a[name]["plug"]) != (b[name]["req"], b[name]["plug"]):
            if verdict:
                verdict = None
            notes.append("%s moving" % name)
            continue
        if (b[name]["req"], b[name]["plug"]) != (dev["req"], dev["cur"]):
            verdict = False
            notes.append("%s: omemd requested/plugged %s/%s MiB, libvirt %s/%s MiB" % (
                name, mib(b[name]["req"]), mib(b[name]["plug"]), mib(dev["req"]), mib(dev["cur"])))
    return verdict, "; ".join(notes)

def probe():
    record = {"t": round(time.time(), 2)}
    first, latency = status()
    libvirt = libvirt_view()
    second, _ = status()
    record["status_s"] = None if latency is None else round(latency, 3)
    doc = second or first
    if doc is not None:
        host = doc.get("host") or {}
        record["budget"] = host.get("budget_bytes")
        record["committed"] = host.get("committed_bytes")
        record["vms"] = vm_view(doc)
        record["charges"] = sum(vm["charge"] or 0 for vm in record["vms"].values())
        record["pid"] = (doc.get("omemd") or {}).get("pid")
        record["rss_kib"], record["hwm_kib"] = proc(record["pid"])
        record["metrics"] = metrics()
    if libvirt is not None:
        record["running"] = libvirt["running"]
        record["dev"] = libvirt["devices"]
        if second is not None:
            record["stale"] = sorted(n for n in vm_view(second) if n in names and n not in libvirt["running"])
    record["agree"], record["why"] = judge(first, libvirt, second)
    return record

if mode == "once":
    record = probe()
    print(json.dumps(record))
    sys.exit(0 if record["agree"] else 1)
while True:
    start = time.monotonic()
    print(json.dumps(probe()), flush=True)
    time.sleep(max(0.0, interval - (time.monotonic() - start)))
'

chaos_probe_once() {
    "$OMEM_PYTHON" -c "$CHAOS_PROBE" once "$OMEM_STATUS_SOCKET" "$CHAOS_METRICS_PORT_FILE" \
        "$OMEM_URI" "$CHAOS_NAMES"
}

chaos_sampler() {
    exec "$OMEM_PYTHON" -c "$CHAOS_PROBE" loop "$OMEM_STATUS_SOCKET" "$CHAOS_METRICS_PORT_FILE" \
        "$OMEM_URI" "$CHAOS_NAMES" "$CHAOS_SAMPLE_S" >>"$OMEM_SAMPLES"
}

# The analysis of the whole run.  Events (JSON lines, written by run.sh):
#   {"event": "fault", "kind": K, "start": T, "recovered": T}
#   {"event": "destroyed", "name": VM, "t": T}
#   {"event": "power-on", "name": VM, "t": T}
# Arguments: SAMPLES EVENTS DROP_S PERSIST_S.
CHAOS_ANALYSE='
import json, sys
samples_path, events_path, drop_s, persist_s = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
MIB = 1 << 20
samples = [json.loads(line) for line in open(samples_path) if line.strip()]
events = [json.loads(line) for line in open(events_path) if line.strip()]

def check(passed, text):
    print("CHECK %d %s" % (0 if passed else 1, text))

def figure(name, value):
    print("FIGURE %s %s" % (name, value))

answered = [s for s in samples if s.get("budget") is not None]
figure("samples", "%d (omemd answered in %d, libvirt in %d)" % (
    len(samples), len(answered), sum(1 for s in samples if "running" in s)))
check(len(answered) > 0, "omemd answered the sampler (%d of %d samples)" % (len(answered), len(samples)))

# The budget: what is charged never exceeds it, and the charges are the
# committed figure (no charge without a VM behind it).
over = [s for s in answered if s["committed"] > s["budget"] or s["charges"] > s["budget"]]
peak = max([s["committed"] for s in answered] or [0])
budget = answered[-1]["budget"] if answered else 0
check(not over, "the budget is never over-committed: committed and the sum of charges <= budget in %d samples (peak %d of %d MiB; %d over)" % (
    len(answered), peak // MIB, budget // MIB, len(over)))
for s in over[:3]:
    print("# over at %.1f: committed %d, charges %d, budget %d MiB" % (s["t"], s["committed"] // MIB, s["charges"] // MIB, s["budget"] // MIB))
skew = [s for s in answered if s["committed"] != s["charges"]]
check(not skew, "committed equals the sum of the listed VMs'"'"' charges in every sample (%d differ)" % len(skew))
for s in skew[:3]:
    print("# at %.1f: committed %d MiB, charges of %s sum to %d MiB" % (s["t"], s["committed"] // MIB, sorted(s["vms"]), s["charges"] // MIB))

# Caps: omemd'"'"'s view and libvirt'"'"'s.
above = []
for s in answered:
    for name, vm in s["vms"].items():
        if None in (vm["boot"], vm["cap"]):
            continue
        room = vm["cap"] - vm["boot"]
        dev = (s.get("dev") or {}).get(name) or {}
        for what, value in (("omemd plugged", vm["plug"]), ("omemd requested", vm["req"]),
                            ("libvirt current", dev.get("cur")), ("libvirt requested", dev.get("req"))):
            if value is not None and value > room:
                above.append("%.1f %s: %s %d MiB > cap - boot %d MiB" % (s["t"], name, what, value // MIB, room // MIB))
check(not above, "no VM above its cap, by omemd or by libvirt (%d sample(s) above)" % len(above))
for line in above[:3]:
    print("# " + line)

# No VM in omemd'"'"'s status that libvirt no longer runs, beyond drop_s
# after its destroy (or while it was being started again).
def excused(name, t):
    for e in events:
        if e.get("name") != name:
            continue
        if e["event"] == "destroyed" and e["t"] - 0.5 <= t <= e["t"] + drop_s:
            return True
        if e["event"] == "power-on" and e["t"] - 2 <= t <= e["t"] + 5:
            return True
    return False
stale = ["%.1f %s" % (s["t"], n) for s in samples for n in s.get("stale", []) if not excused(n, s["t"])]
check(not stale, "no VM stays in omemd'"'"'s status (and charge) after libvirt stopped running it (%d sample(s))" % len(stale))
for line in stale[:3]:
    print("# stale: " + line)

# Agreement outside the faults: the longest run of steady mismatches.
windows = [(e["start"], e["recovered"]) for e in events if e["event"] == "fault" and e.get("recovered")]
def in_fault(t):
    return any(a - 1 <= t <= b + 2 for a, b in windows)
longest, run_start, worst_why, agreeing, judged = 0.0, None, "", 0, 0
for s in samples:
    if in_fault(s["t"]):
        run_start = None
        continue
    if s["agree"] is False:
        judged += 1
        if run_start is None:
            run_start = s["t"]
        if s["t"] - run_start > longest:
            longest, worst_why = s["t"] - run_start, s["why"]
    else:
        if s["agree"]:
            judged += 1
            agreeing += 1
        run_start = None
check(longest <= persist_s, "outside the faults omemd'"'"'s requested/plugged never differ from libvirt'"'"'s for more than %gs (longest %.1fs; %d of %d judged samples agree)" % (
    persist_s, longest, agreeing, judged))
if worst_why:
    print("# longest mismatch: " + worst_why)

# Counters: the last reading of each omemd (a kill -9 loses at most the
# last sample period of one instance).
last = {}
for s in answered:
    if s.get("metrics") is not None and s.get("pid") is not None:
        last[s["pid"]] = s["metrics"]
def total(prefix, label=None):
    return int(sum(v for m in last.values() for k, v in m.items()
                   if k.split("{")[0] == prefix and (label is None or label in k)))
figure("omemd_instances", len(last))
figure("reclaims", total("omem_reclaims_total"))
figure("grants", "%d whole, %d partial, %d deferred" % (
    total("omem_grants_total", "\"grant\""), total("omem_grants_total", "\"partial\""), total("omem_grants_total", "\"defer\"")))
figure("resizes", "%d grow, %d shrink" % (total("omem_resizes_total", "\"grow\""), total("omem_resizes_total", "\"shrink\"")))
figure("libvirt", "%d failed calls, %d reconnects" % (total("omem_libvirt_errors_total"), total("omem_libvirt_reconnects_total")))
figure("max_rss_kib", max([s.get("rss_kib") or 0 for s in answered] or [0]))
figure("max_hwm_kib", max([s.get("hwm_kib") or 0 for s in answered] or [0]))
latencies = [s["status_s"] for s in samples if s.get("status_s") is not None]
figure("status_read_max_s", max(latencies or [0]))
'

chaos_analyse() {
    "$OMEM_PYTHON" -c "$CHAOS_ANALYSE" "$OMEM_SAMPLES" "$1" "$CHAOS_DROP_S" "$CHAOS_PERSIST_S"
}
