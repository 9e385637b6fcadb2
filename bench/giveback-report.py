#!/usr/bin/python3
"""A bench/giveback.sh run folder as a Markdown section.

Reads runs.tsv, samples.tsv and steps.tsv (and RUN.job.log for the
completion time) and prints one table with a column per configuration
(the median over its good runs), the ratios to static from the same
invocation, and the verdict on each goal.

The bursts are found in the samples, not assumed: a burst is a stretch of
samples whose used memory is at least BURST_MIB above the run's first
sample. The first one is the big burst; the others are the returns.
"""

import argparse
import os
import statistics
import sys

BURST_MIB = 128
CONFIGS = ("static", "omem-fixed", "omem")
NAMES = {"static": "static", "omem-fixed": "omem, fixed 10 s hold",
         "omem": "omem, adaptive hold"}
NONE = "\u2014"


class Bad(Exception):
    """A malformed input file: the message names the file and line."""


def read_tsv(path, columns):
    """Rows of PATH as dicts; COLUMNS maps a name to a converter."""
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            header = f.readline().rstrip("\n").split("\t")
            missing = [c for c in columns if c not in header]
            if missing:
                raise Bad("%s: no column %s" % (path, ", ".join(missing)))
            for number, line in enumerate(f, 2):
                cells = line.rstrip("\n").split("\t")
                if len(cells) != len(header):
                    raise Bad("%s:%d: %d cells, the header has %d" % (path, number, len(cells), len(header)))
                row = dict(zip(header, cells))
                try:
                    rows.append({c: convert(row[c]) for c, convert in columns.items()})
                except ValueError as e:
                    raise Bad("%s:%d: %s" % (path, number, e)) from None
    except OSError as e:
        raise Bad("%s: %s" % (path, e.strerror)) from None
    return rows


def number(text):
    """A float, or None for '-' (a figure the agent could not read)."""
    if text == "-":
        return None
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not a finite number: %r" % text)
    return value


def text(value):
    return value


def integral_gib_s(samples, key):
    """Trapezoids over the samples that have KEY, in GiB*s."""
    points = [(s["t_s"], s[key]) for s in samples if s[key] is not None]
    total = 0.0
    for (t0, v0), (t1, v1) in zip(points, points[1:]):
        total += (t1 - t0) * (v0 + v1) / 2
    return total / 1024


def bursts(samples):
    """(first index, last index) of each stretch of samples whose used
    memory is BURST_MIB above the first sample's."""
    used = [s["used_mib"] for s in samples]
    known = [u for u in used if u is not None]
    if not known:
        return []
    base, out, start = known[0], [], None
    for i, u in enumerate(used):
        high = u is not None and u >= base + BURST_MIB
        if high and start is None:
            start = i
        elif not high and start is not None and u is not None:
            out.append((start, i - 1))
            start = None
    if start is not None:
        out.append((start, len(used) - 1))
    return out


def completion_s(folder, run):
    """The job log's last stamp minus its first, or None."""
    try:
        with open(os.path.join(folder, run + ".job.log"), encoding="utf-8", errors="replace") as f:
            stamps = []
            for line in f:
                try:
                    stamps.append(float(line.split(None, 1)[0]))
                except (ValueError, IndexError):
                    continue
    except OSError:
        return None
    return stamps[-1] - stamps[0] if len(stamps) >= 2 else None


def figures(folder, run, samples, steps, buffer_percent, step_mib):
    """The per-run figures; None where the samples do not show them."""
    f = {"completion": completion_s(folder, run),
         "growth": sum(steps) / 1000 if steps else None,
         "slowest": max(steps) if steps else None,
         "committed": integral_gib_s(samples, "committed_mib"),
         "resident": integral_gib_s(samples, "resident_mib")}
    found = bursts(samples)
    f["bursts"] = len(found)
    if not found:
        return f
    committed = [s["committed_mib"] for s in samples]

    def peak(lo, hi, key):
        values = [s[key] for s in samples[lo:hi + 1] if s[key] is not None]
        return max(values) if values else None

    first_lo, first_hi = found[0]
    # The plug the burst set off lands a sample or two after its peak.
    f["committed_peak"] = peak(first_lo, min(first_hi + 3, len(samples) - 1), "committed_mib")
    f["used_peak"] = peak(first_lo, first_hi, "used_mib")
    if f["committed_peak"] is not None and f["used_peak"] is not None:
        f["allowed"] = f["used_peak"] + f["committed_peak"] * buffer_percent / 100 + step_mib
    # Give-back: from the first sample after the burst to the first at the
    # lowest level the run reaches after it (+ one virtio-mem block).
    after = [c for c in committed[first_hi + 1:] if c is not None]
    if after:
        level = min(after)
        f["level"] = level
        end_t = samples[first_hi + 1]["t_s"] if first_hi + 1 < len(samples) else None
        window_end = samples[found[1][0]]["t_s"] if len(found) > 1 else samples[-1]["t_s"]
        f["window"] = window_end - end_t if end_t is not None else None
        for s in samples[first_hi + 1:]:
            if s["committed_mib"] is not None and s["committed_mib"] <= level + 2:
                f["giveback"] = s["t_s"] - end_t if s["t_s"] <= window_end else None
                break
    # Flapping: a gap between two returns in which the guest unplugged a
    # grant step or more of what it held at the gap's start, only to plug
    # it again in the next burst.
    returns, cycles = found[1:], 0
    for (lo0, hi0), (lo1, hi1) in zip(returns, returns[1:]):
        held = committed[hi0]
        gap = [c for c in committed[hi0:lo1 + 1] if c is not None]
        again = peak(lo1, min(hi1 + 3, len(samples) - 1), "committed_mib")
        if held is not None and gap and again is not None and \
                min(gap) <= held - step_mib and again >= min(gap) + step_mib:
            cycles += 1
    f["gaps"] = max(len(returns) - 1, 0)
    f["cycles"] = cycles
    return f


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=0, unit=""):
    if value is None:
        return NONE
    return ("%." + str(digits) + "f%s") % (value, unit)


def ratio(a, b):
    return NONE if a is None or not b else "%.2f\u00d7" % (a / b)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--boot-mib", type=float, required=True)
    ap.add_argument("--buffer-percent", type=float, required=True)
    ap.add_argument("--step-mib", type=float, required=True)
    a = ap.parse_args(argv)
    try:
        runs = read_tsv(os.path.join(a.folder, "runs.tsv"),
                        {"run": text, "config": text, "round": int, "status": text, "reason": text})
        samples = read_tsv(os.path.join(a.folder, "samples.tsv"),
                           {"run": text, "t_s": float, "committed_mib": number,
                            "resident_mib": number, "used_mib": number})
        steps = read_tsv(os.path.join(a.folder, "steps.tsv"), {"run": text, "duration_ms": float})
    except Bad as e:
        print("giveback-report: %s" % e, file=sys.stderr)
        return 1
    known = {r["run"] for r in runs}
    for r in runs:
        if r["config"] not in CONFIGS:
            print("giveback-report: runs.tsv: unknown configuration %r" % r["config"], file=sys.stderr)
            return 1
    for name, rows in (("samples.tsv", samples), ("steps.tsv", steps)):
        strange = sorted({row["run"] for row in rows} - known)
        if strange:
            print("giveback-report: %s: run %r is not in runs.tsv" % (name, strange[0]), file=sys.stderr)
            return 1

    per = {c: [] for c in CONFIGS}
    failed = []
    for r in runs:
        if r["status"] != "ok":
            failed.append(r)
            continue
        mine = sorted((s for s in samples if s["run"] == r["run"]), key=lambda s: s["t_s"])
        durations = [s["duration_ms"] for s in steps if s["run"] == r["run"]]
        per[r["config"]].append(figures(a.folder, r["run"], mine, durations,
                                        a.buffer_percent, a.step_mib))
    m = {c: {k: median([f.get(k) for f in per[c]]) for k in
             ("completion", "growth", "slowest", "committed", "resident", "committed_peak",
              "used_peak", "allowed", "giveback", "window", "level", "cycles", "gaps")}
         for c in CONFIGS}
    base = m["static"]

    rows = [
        ("good runs", lambda c: "%d/%d" % (len(per[c]), sum(r["config"] == c for r in runs)), None),
        ("completion (s)", lambda c: fmt(m[c]["completion"], 1), "completion"),
        ("growth, the steps' sum (s)", lambda c: fmt(m[c]["growth"], 1), "growth"),
        ("slowest step (ms)", lambda c: fmt(m[c]["slowest"]), "slowest"),
        ("first burst: used peak (MiB)", lambda c: fmt(m[c]["used_peak"]), None),
        ("first burst: committed peak (MiB)", lambda c: fmt(m[c]["committed_peak"]), None),
        ("... the goal's bound: used + buffer + one grant step (MiB)", lambda c: fmt(m[c]["allowed"]), None),
        ("give-back: burst over to the idle level (s)",
         lambda c: fmt(m[c]["giveback"], 1) if m[c]["giveback"] is not None or m[c]["window"] is None
         else "> %.0f" % m[c]["window"], None),
        ("idle level, committed (MiB)", lambda c: fmt(m[c]["level"]), None),
        ("returns: gaps with an unplug and a re-plug", lambda c: NONE if m[c]["gaps"] is None
         else "%d of %d" % (m[c]["cycles"], m[c]["gaps"]), None),
        ("committed (GiB\u00b7s)", lambda c: fmt(m[c]["committed"], 1), "committed"),
        ("resident (GiB\u00b7s)", lambda c: fmt(m[c]["resident"], 1), "resident"),
    ]
    print("| | " + " | ".join(NAMES[c] for c in CONFIGS) + " |")
    print("|---|" + "---:|" * len(CONFIGS))
    for label, cell, key in rows:
        cells = []
        for c in CONFIGS:
            value = cell(c)
            if key and c != "static" and m[c][key] is not None and base[key]:
                value += " (%s)" % ratio(m[c][key], base[key])
            cells.append(value)
        print("| %s | %s |" % (label, " | ".join(cells)))
    print()
    print("Ratios in brackets are to static from the same invocation.")
    if failed:
        print()
        print("Failed runs: " + "; ".join("%s (%s)" % (r["run"], r["reason"] or "no reason") for r in failed) + ".")
    print()
    print("Goals (omem, adaptive hold):")
    print()
    o = m["omem"]

    def verdict(ok):
        return NONE + " not measured" if ok is None else ("**met**" if ok else "**not met**")

    over = None if o["committed_peak"] is None or o["allowed"] is None else o["committed_peak"] <= o["allowed"]
    print("- Overshoot: committed at the first burst's peak \u2264 used + buffer + one grant step: %s (%s \u2264 %s MiB)"
          % (verdict(over), fmt(o["committed_peak"]), fmt(o["allowed"])))
    give = None if o["window"] is None else (o["giveback"] is not None and o["giveback"] <= 10)
    print("- Give-back within 10 s: %s (%s s; the fixed hold: %s s)"
          % (verdict(give), fmt(o["giveback"], 1), fmt(m["omem-fixed"]["giveback"], 1)))
    flap = None if o["gaps"] is None or not o["gaps"] else o["cycles"] <= m["omem-fixed"]["cycles"] and o["cycles"] < o["gaps"]
    print("- No flapping when the workload returns: %s (unplug and re-plug in %s of %s gaps; the fixed hold: %s)"
          % (verdict(flap), fmt(o["cycles"]), fmt(o["gaps"]), fmt(m["omem-fixed"]["cycles"])))
    mt = None if o["resident"] is None or not base["resident"] else o["resident"] / base["resident"] <= 0.7
    print("- Resident memory\u2013time \u2264 0.7\u00d7 static: %s (%s)"
          % (verdict(mt), ratio(o["resident"], base["resident"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
