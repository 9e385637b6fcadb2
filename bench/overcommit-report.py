#!/usr/bin/python3
"""bench/overcommit-report.py: a bench/overcommit.sh run folder as Markdown.

Reads RUN_DIR/runs.tsv, samples.tsv, jobs.tsv and steps.tsv (tab-separated,
a header line, "-" for unknown; bench/overcommit.sh describes each column),
prints one section per scenario with its figures, the density table and
whether each goal is met, and with --plots draws the PNGs it links to.

  overcommit-report.py RUN_DIR [--plots DIR] [--img-prefix P] [--title TEXT]

Bad input (a missing file or column, a non-number where a number belongs,
an unknown policy or scenario) is one "FILE:LINE: what" line on stderr and
exit status 2.  Only the standard library, and matplotlib for --plots.
"""

import argparse
import math
import os
import statistics
import sys

POLICIES = ("static", "balloon", "vmem", "omem")
POLICY_NAMES = {"static": "static", "balloon": "balloon (MOM rules)",
                "vmem": "virtio-mem by hand", "omem": "omem"}
SCENARIOS = {
    "a": "one VM: growth, hold, free, a minute idle",
    "b": "density: out-of-phase bursts on a budget below the sum of peaks",
    "c": "a page-cache-heavy VM beside an anonymous-memory-hungry one",
    "d": "growth faster than any polling policy",
}
# A step that waited longer than this beyond static's counts as stalled:
# below it, the difference is the noise of a TCG guest's timer.
STALLED_MS = 20
# The goals, as fractions of the other policy's figure.
GOAL_MEMORY_VS_STATIC = 0.6
GOAL_MEMORY_VS_BALLOON = 0.8
GOAL_COMPLETION_VS_STATIC = 1.05
GOAL_DENSITY_VS_STATIC = 1.5
GOAL_DENSITY_VS_BALLOON = 1.2
GOAL_REACTION_VS_BALLOON = 0.25
NONE = "\u2014"  # what a table shows for a figure that does not exist


class BadInput(Exception):
    pass


# ------------------------------------------------------------ reading

# How each column is read: "number", "whole" (a whole number), "exit" (an
# exit code or "lost"), "text", or a tuple of the names allowed; a trailing
# "?" lets the column say "-" (unknown), read as None.  Other columns are
# ignored.
COLUMNS = {
    "runs.tsv": {"run": "text", "scenario": tuple(SCENARIOS), "policy": POLICIES, "n": "whole",
                 "round": "whole", "budget_mib": "number?", "status": ("ok", "failed"),
                 "reason": "text"},
    "samples.tsv": {"run": "text", "t_s": "number", "vm": "text", "committed_mib": "number?",
                    "resident_mib": "number?", "used_mib": "number?", "target_mib": "number?"},
    "jobs.tsv": {"run": "text", "vm": "text", "job": "text", "status": "exit?",
                 "completion_s": "number?", "oom_kills": "whole?"},
    "steps.tsv": {"run": "text", "vm": "text", "job": "text", "index": "whole",
                  "duration_ms": "number"},
}
KINDS = {"number": "a number", "whole": "a whole number", "exit": "an exit code or 'lost'"}


def read_value(text, kind):
    """TEXT read as KIND; the ValueError says what KIND accepts."""
    if isinstance(kind, tuple):
        if text in kind:
            return text
        raise ValueError("one of " + ", ".join(kind))
    if kind == "text":
        return text
    if kind.endswith("?") and text == "-":
        return None
    try:
        if kind.startswith("number") and math.isfinite(float(text)):
            return float(text)
        if kind.startswith("whole"):
            return int(text, 10)
        if kind.startswith("exit"):
            return text if text == "lost" else str(int(text, 10))
    except ValueError:
        pass
    raise ValueError(KINDS[kind.rstrip("?")] + (" or -" if kind.endswith("?") else ""))


def read_table(run_dir, name):
    """NAME's rows as dicts, each with its line number under "line"."""
    path = os.path.join(run_dir, name)
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput("%s: cannot read: %s" % (path, getattr(e, "strerror", None) or e))
    header = lines[0].rstrip("\r").split("\t")
    columns = COLUMNS[name]
    for column in columns:
        if column not in header:
            raise BadInput("%s:1: no column '%s' in the header (%s)"
                           % (path, column, " ".join(header)))
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(header):
            raise BadInput("%s:%d: %d fields, the header has %d"
                           % (path, number, len(fields), len(header)))
        row = {"line": number}
        for column, kind in columns.items():
            text = fields[header.index(column)]
            try:
                row[column] = read_value(text, kind)
            except ValueError as e:
                raise BadInput("%s:%d: column %s: '%s' is not %s" % (path, number, column, text, e))
        rows.append(row)
    return path, rows


def load(run_dir):
    """The runs by id, each with its samples, jobs and steps attached."""
    path, rows = read_table(run_dir, "runs.tsv")
    runs = {}
    for row in rows:
        if row["run"] in runs:
            raise BadInput("%s:%d: run '%s' appears twice" % (path, row["line"], row["run"]))
        runs[row["run"]] = dict(row, samples=[], jobs=[], steps=[])
    for name, key in (("samples.tsv", "samples"), ("jobs.tsv", "jobs"), ("steps.tsv", "steps")):
        path, rows = read_table(run_dir, name)
        for row in rows:
            if row["run"] not in runs:
                raise BadInput("%s:%d: run '%s' is not in runs.tsv" % (path, row["line"], row["run"]))
            runs[row["run"]][key].append(row)
    return runs


# ------------------------------------------------------------ figures

def median(values):
    return statistics.median(values) if values else None


def percentile_95(values):
    """Nearest rank: the smallest value that 95 % of the values do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def host_series(run, column):
    """[(t_s, MiB)]: COLUMN summed over the run's VMs at each sample time.
    An unknown value (a VM gone) adds nothing; a time with no known value
    at all is left out."""
    sums = {}
    for sample in run["samples"]:
        if sample[column] is not None:
            sums[sample["t_s"]] = sums.get(sample["t_s"], 0.0) + sample[column]
    return sorted(sums.items())


def integral_gib_s(series):
    """The trapezoid integral of a MiB series over seconds, in GiB·s."""
    area = sum((t1 - t0) * (v0 + v1) / 2 for (t0, v0), (t1, v1) in zip(series, series[1:]))
    return area / 1024


def peak_gib(series):
    return max(v for _, v in series) / 1024 if series else None


def static_baselines(runs):
    """{(scenario, step index): median duration_ms of static's steps}.
    Static has all its memory from boot, so its steps never wait for the
    host: whatever a step takes beyond static's is waiting for memory."""
    durations = {}
    for run in runs.values():
        if run["policy"] == "static":
            for step in run["steps"]:
                durations.setdefault((run["scenario"], step["index"]), []).append(step["duration_ms"])
    return {key: statistics.median(values) for key, values in durations.items()}


def group_figures(group, baselines):
    """The figures of one (scenario, n, policy): its runs over all rounds."""
    f = {"runs": len(group), "failed": sum(r["status"] != "ok" for r in group)}
    jobs = [j for r in group for j in r["jobs"]]
    # Guest OOM kills: summed over every job of every run, failed ones too.
    kills = [j["oom_kills"] for j in jobs if j["oom_kills"] is not None]
    f["oom"] = sum(kills) if kills else None
    # Completion: over the good jobs (exit 0) only; a job killed early must
    # not look fast.  How many were good is shown beside it.
    done = [j["completion_s"] for j in jobs if j["status"] == "0" and j["completion_s"] is not None]
    f["jobs"] = "%d/%d" % (len(done), len(jobs))
    f["completion"], f["completion_max"] = median(done), max(done) if done else None
    # Stall: a step's duration minus static's median for the same scenario
    # and step index, never below 0; pooled over all the group's steps.
    # Reaction: the median stall of the steps that did stall.
    stalls, f["unmatched"] = [], 0
    for r in group:
        for step in r["steps"]:
            base = baselines.get((r["scenario"], step["index"]))
            if base is None:
                f["unmatched"] += 1
            else:
                stalls.append(max(0.0, step["duration_ms"] - base))
    f["stall_p95"], f["stall_worst"] = percentile_95(stalls), max(stalls) if stalls else None
    f["reaction"] = median([s for s in stalls if s > STALLED_MS])
    f["stalls"] = len(stalls)
    # Host memory: per run, the sum over its VMs as a time integral and a
    # peak; the median over the runs that have samples.
    for column, key in (("committed_mib", "committed"), ("resident_mib", "resident")):
        series = [s for s in (host_series(r, column) for r in group) if s]
        f[key] = median([integral_gib_s(s) for s in series])
        f[key + "_peak"] = median([peak_gib(s) for s in series])
    return f


def ratio(a, b):
    return a / b if a is not None and b else None


def sustained_n(runs, policy):
    """The largest n such that n and every smaller n that POLICY tried in
    scenario b had only good runs at zero OOM kills; 0 if the smallest
    failed, None if it never ran b."""
    by_n = {}
    for r in runs.values():
        if r["scenario"] == "b" and r["policy"] == policy:
            good = r["status"] == "ok" and not any(j["oom_kills"] for j in r["jobs"])
            by_n[r["n"]] = by_n.get(r["n"], True) and good
    if not by_n:
        return None
    best = 0
    for n in sorted(by_n):
        if not by_n[n]:
            break
        best = n
    return best


# ------------------------------------------------------------ Markdown

def fmt(value, digits=0):
    return NONE if value is None else "%.*f" % (digits, value)


def fmt_ms(value):
    return "never stalled" if value is None else "%.0f ms" % value


def fmt_ratio(value):
    return NONE if value is None else "%.2f\u00d7" % value


def numeric(cell):
    """A cell a table aligns right: a number, a ratio, a count "k/n" or none."""
    try:
        float(str(cell).replace("\u00d7", "").replace("/", "").replace(NONE, "0"))
        return True
    except ValueError:
        return False


def table(header, rows):
    align = ["---:" if i > 0 and all(numeric(row[i]) for row in rows) else "---"
             for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    # A "|" in a cell (a failure's reason) would end the cell early.
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def vms(n):
    return "%d VM%s" % (n, "" if n == 1 else "s")


def scenario_section(scenario, runs, figures, args):
    out = ["### Scenario %s: %s" % (scenario, SCENARIOS[scenario]), ""]
    keys = sorted({(n, p) for (s, n, p) in figures if s == scenario},
                  key=lambda k: (k[0], POLICIES.index(k[1])))
    rows, memory, ratios = [], [], []
    for n, policy in keys:
        f = figures[(scenario, n, policy)]
        rows.append([POLICY_NAMES[policy], n, "%d/%d" % (f["failed"], f["runs"]), fmt(f["oom"]),
                     f["jobs"], fmt(f["completion"], 1), fmt(f["completion_max"], 1),
                     fmt(f["stall_p95"]), fmt(f["stall_worst"]), fmt(f["reaction"])])
        memory.append([POLICY_NAMES[policy], n, fmt(f["committed"], 1), fmt(f["committed_peak"], 2),
                       fmt(f["resident"], 1), fmt(f["resident_peak"], 2)])
    for n in sorted({n for n, p in keys if p == "omem"}):
        mine = figures[(scenario, n, "omem")]
        for other in POLICIES[:3]:
            theirs = figures.get((scenario, n, other))
            if not theirs:
                continue
            if theirs["failed"] or mine["failed"]:
                # A run cut short by an OOM kill holds less memory for
                # less time: a ratio to it would flatter whoever failed.
                who = "omem" if mine["failed"] else other
                ratios.append(["omem / " + POLICY_NAMES[other], n] + ["— (%s failed)" % who] + ["—"] * 3)
                continue
            ratios.append(["omem / " + POLICY_NAMES[other], n] +
                          [fmt_ratio(ratio(mine[k], theirs[k]))
                           for k in ("completion", "committed", "resident", "reaction")])
    out += [table(["policy", "VMs", "runs failed", "guest OOM kills", "good jobs",
                   "completion median (s)", "completion max (s)", "stall p95 (ms)",
                   "stall worst (ms)", "reaction (ms)"], rows), ""]
    unmatched = sum(figures[(scenario, n, p)]["unmatched"] for n, p in keys)
    if unmatched:
        out += ["%d steps had no static step of the same index to compare with and are left out "
                "of the stall figures." % unmatched, ""]
    out += [table(["policy", "VMs", "host committed (GiB\u00b7s)", "committed peak (GiB)",
                   "host resident (GiB\u00b7s)", "resident peak (GiB)"], memory), ""]
    if ratios:
        out += [table(["ratio", "VMs", "completion median", "committed GiB\u00b7s",
                       "resident GiB\u00b7s", "reaction"], ratios), ""]
    failed = sorted((r for r in runs.values() if r["scenario"] == scenario and r["status"] != "ok"),
                    key=lambda r: (r["n"], POLICIES.index(r["policy"]), r["round"]))
    if failed:
        out += ["Failed runs:", "",
                table(["run", "policy", "VMs", "round", "reason"],
                      [[r["run"], POLICY_NAMES[r["policy"]], r["n"], r["round"], r["reason"] or NONE]
                       for r in failed]), ""]
    if scenario == "b":
        out += density_section(runs, args)
    if args.plots:
        for kind, caption in (("memory", "guest memory per policy"), ("host", "host memory per policy")):
            out += ["![Scenario %s: %s](%s/overcommit-%s-%s.png)"
                    % (scenario, caption, args.img_prefix, scenario, kind), ""]
    return out


def density_cell(group):
    if not group:
        return NONE
    bad = [r for r in group if r["status"] != "ok"]
    if not bad:
        return "ok"
    share = " %d/%d" % (len(bad), len(group)) if len(group) > 1 else ""
    return "failed%s: %s" % (share, bad[0]["reason"] or "no reason given")


def density_ratio(mine, theirs, other):
    if mine is None or theirs is None:
        return "not measured"
    return "%s sustains none" % other if theirs == 0 else fmt_ratio(mine / theirs)


def density_section(runs, args):
    b = [r for r in runs.values() if r["scenario"] == "b"]
    present = [p for p in POLICIES if any(r["policy"] == p for r in b)]
    rows = [[n] + [density_cell([r for r in b if r["n"] == n and r["policy"] == p]) for p in present]
            for n in sorted({r["n"] for r in b})]
    best = {p: sustained_n(runs, p) for p in present}
    out = ["Density, every run of scenario b:", "",
           table(["VMs"] + [POLICY_NAMES[p] for p in present], rows), "",
           table(["policy", "VMs sustained at zero OOM kills", "largest n tried"],
                 [[POLICY_NAMES[p], best[p], max(r["n"] for r in b if r["policy"] == p)]
                  for p in present]), ""]
    omem = best.get("omem")
    out += ["Density omem / static: %s; omem / balloon: %s."
            % (density_ratio(omem, best.get("static"), "static"),
               density_ratio(omem, best.get("balloon"), "balloon")), ""]
    if args.plots:
        out += ["![Scenario b: VMs sustained per policy](%s/overcommit-density.png)" % args.img_prefix, ""]
    return out


# ------------------------------------------------------------ goals

def common_n(runs, scenario, policies=("omem", "static", "balloon")):
    """The largest n at which each of POLICIES had a good run."""
    ok = lambda p: {r["n"] for r in runs.values()
                    if r["scenario"] == scenario and r["policy"] == p and r["status"] == "ok"}
    both = set.intersection(*(ok(p) for p in policies))
    return max(both) if both else None


VERDICTS = {True: "met", False: "not met", None: "not measured"}


def combine(flags):
    """False if any part is not met, else None if any is not measured."""
    return False if False in flags else None if None in flags or not flags else True


def verdict(results):
    """results: [(True, False or None, text)] as one line; with several
    parts, each says its own verdict too."""
    overall = combine([r for r, _ in results])
    if len(results) > 1:
        results = [(r, "%s (%s)" % (text, VERDICTS[r])) for r, text in results]
    return "**%s**: %s" % (VERDICTS[overall], "; ".join(text for _, text in results))


def memory_goal(runs, figures, scenario):
    """omem against static at the largest n both ran well, and against
    balloon at the largest n both ran well: a run cut short by an OOM kill
    is no measure of the memory a workload needs."""
    parts = []
    for other, checks in (("static", (("resident", GOAL_MEMORY_VS_STATIC),
                                      ("committed", GOAL_MEMORY_VS_STATIC),
                                      ("completion", GOAL_COMPLETION_VS_STATIC))),
                          ("balloon", (("resident", GOAL_MEMORY_VS_BALLOON),
                                       ("committed", GOAL_MEMORY_VS_BALLOON)))):
        n = common_n(runs, scenario, ("omem", other))
        if n is None:
            parts.append((None, "%s: no n with a good run of omem and %s each" % (other, other)))
            continue
        mine, theirs = figures[(scenario, n, "omem")], figures[(scenario, n, other)]
        passed, texts = [mine["failed"] == 0], []
        for key, limit in checks:
            value = ratio(mine[key], theirs[key])
            passed.append(None if value is None else value <= limit)
            texts.append("%s %s" % (key, fmt_ratio(value)))
        parts.append((combine(passed), "%s at %s: %s" % (other, vms(n), ", ".join(texts))))
    met = combine([m for m, _ in parts])
    return met, "; ".join("%s (%s)" % (t, VERDICTS[m]) for m, t in parts)


def oom_goal(figures):
    results = []
    for (s, n, p), f in sorted(figures.items()):
        if p == "balloon" and f["oom"]:
            mine = figures.get((s, n, "omem"))
            where = "scenario %s at %s (balloon %d)" % (s, vms(n), f["oom"])
            if mine is None or mine["oom"] is None:
                results.append((None, "%s: omem not measured" % where))
            else:
                results.append((mine["oom"] == 0, "%s: omem %d" % (where, mine["oom"])))
    return verdict(results or [(None, "balloon had no guest OOM kill in any run, nothing to compare")])


def density_goal(runs):
    mine, results = sustained_n(runs, "omem"), []
    for other, limit in (("static", GOAL_DENSITY_VS_STATIC), ("balloon", GOAL_DENSITY_VS_BALLOON)):
        theirs = sustained_n(runs, other)
        if mine is None or theirs is None:
            met = None
        else:
            met = mine > 0 if theirs == 0 else mine >= limit * theirs
        results.append((met, "omem / %s: %s (%s / %s VMs)"
                        % (other, density_ratio(mine, theirs, other), fmt(mine), fmt(theirs))))
    return verdict(results)


def reaction_goal(runs, figures):
    """At the largest n where omem ran well and balloon ran: balloon's
    median wait when its runs were good; when one ended in an OOM kill,
    its workload waited for memory that did not come in time, an
    unbounded wait (the steps recorded before it would flatter it)."""
    results = []
    for scenario in sorted(SCENARIOS):
        both = [n for (s, n, p) in figures if s == scenario and p == "balloon"
                and (s, n, "omem") in figures and figures[(s, n, "omem")]["failed"] == 0]
        if not both:
            continue
        n = max(both)
        mine, balloon = figures[(scenario, n, "omem")], figures[(scenario, n, "balloon")]
        ours, theirs = mine["reaction"], balloon["reaction"]
        if balloon["oom"]:
            results.append((True, "scenario %s at %s: omem %s, balloon's workload OOM-killed "
                            "waiting for memory" % (scenario, vms(n), fmt_ms(ours))))
            continue
        if balloon["failed"]:
            results.append((None, "scenario %s at %s: balloon's run failed otherwise"
                            % (scenario, vms(n))))
            continue
        text = "scenario %s at %s: omem %s, balloon %s" % (
            scenario, vms(n), fmt_ms(ours), fmt_ms(theirs))
        if ours is None:  # omem never stalled: met if it had steps and balloon stalled
            met = True if mine["stalls"] and theirs is not None else None
        elif theirs is None:
            met = None
        else:
            met = ours / theirs <= GOAL_REACTION_VS_BALLOON
            text += ", %s" % fmt_ratio(ours / theirs)
        results.append((met, text))
    return verdict(results or [(None, "no scenario where omem ran well and balloon ran")])


def goals_section(runs, figures):
    goal = ("- Host memory\u2013time (resident and committed) \u2264 0.6\u00d7 static at \u2264 5 %% "
            "longer completion and \u2264 0.8\u00d7 balloon, scenario %s: %s")
    return ["### Goals", ""] + \
        [goal % (s, verdict([memory_goal(runs, figures, s)])) for s in ("a", "b")] + \
        ["- Zero guest OOM kills where balloon has any: %s" % oom_goal(figures),
         "- Density \u2265 1.5\u00d7 static and \u2265 1.2\u00d7 balloon: %s" % density_goal(runs),
         "- Reaction median \u2264 0.25\u00d7 balloon's: %s" % reaction_goal(runs, figures), ""]


# ------------------------------------------------------------ plots

def plotted_runs(runs, scenario):
    """The runs a scenario's plots show, by policy: the first round, at the
    n where the most policies ran (the larger n on a tie), so that the
    policies are drawn side by side; the density plot covers larger n."""
    mine = [r for r in runs.values() if r["scenario"] == scenario]
    first = min(r["round"] for r in mine)
    mine = [r for r in mine if r["round"] == first and "(not run)" not in (r["reason"] or "")]
    by_n = {}
    for r in mine:
        by_n.setdefault(r["n"], set()).add(r["policy"])
    n = max(by_n, key=lambda k: (len(by_n[k]), k))
    chosen = {r["policy"]: r for r in mine if r["n"] == n}
    return n, first, [chosen[p] for p in POLICIES if p in chosen]


def finish(fig, ax_list, path, xlabel, ylabel):
    """Labels, a grid and a zero floor on every subplot; the PNG written."""
    for ax in ax_list:
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.tick_params(labelbottom=True, labelleft=True)
        ax.grid(alpha=0.3)
    # After the labels, so titles and axis labels do not overlap.
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path)


def plot_memory(plt, shown, title, path):
    """One subplot per policy, a colour per VM: committed solid, used
    dashed, target dotted."""
    from matplotlib.lines import Line2D
    styles = (("committed_mib", "-", "committed"), ("used_mib", "--", "used"),
              ("target_mib", ":", "target"))
    rows = math.ceil(len(shown) / 2)
    fig, axes = plt.subplots(rows, 2, figsize=(9, 3.2 * rows + 0.8), sharex=True, sharey=True,
                             squeeze=False)
    names = sorted({s["vm"] for r in shown for s in r["samples"]})
    for ax, run in zip(axes.flat, shown):
        for i, vm in enumerate(names):
            samples = sorted((s for s in run["samples"] if s["vm"] == vm), key=lambda s: s["t_s"])
            for key, style, _ in styles:
                ax.plot([s["t_s"] for s in samples],
                        [math.nan if s[key] is None else s[key] for s in samples],
                        style, color="C%d" % (i % 10), linewidth=1.3)
        if run["status"] == "ok":
            ax.set_title("%s (ok)" % POLICY_NAMES[run["policy"]], fontsize=10)
        else:
            # The reason on a line of its own: a subplot is too narrow for both.
            reason = run["reason"] or "no reason given"
            ax.set_title("%s (failed)\n%s" % (POLICY_NAMES[run["policy"]],
                         reason if len(reason) <= 48 else reason[:47] + "\u2026"), fontsize=10)
        if not run["samples"]:
            ax.text(0.5, 0.5, "no samples", ha="center", va="center", transform=ax.transAxes)
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    handles = [Line2D([], [], color="C%d" % (i % 10), label=vm) for i, vm in enumerate(names)]
    handles += [Line2D([], [], color="black", linestyle=style, label=what) for _, style, what in styles]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), frameon=False)
    fig.suptitle(title)
    finish(fig, axes.flat[:len(shown)], path, "time (s)", "MiB")


def plot_host(plt, shown, title, path):
    """Committed and resident summed over the VMs, a line per policy."""
    fig, axes = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True)
    for ax, (key, what) in zip(axes, (("committed_mib", "committed"), ("resident_mib", "resident"))):
        for run in shown:
            series = host_series(run, key)
            ax.plot([t for t, _ in series], [v for _, v in series], linewidth=1.5,
                    color="C%d" % POLICIES.index(run["policy"]), label=POLICY_NAMES[run["policy"]])
        ax.set_title("host %s memory, summed over the VMs" % what)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    finish(fig, axes, path, "time (s)", "MiB")


def plot_density(plt, runs, present, path):
    """A bar per policy: the VMs it sustained, and how far it was tried."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    values = [sustained_n(runs, p) for p in present]
    tried = [max(r["n"] for r in runs.values() if r["scenario"] == "b" and r["policy"] == p)
             for p in present]
    bars = ax.bar([POLICY_NAMES[p] for p in present], values,
                  color=["C%d" % POLICIES.index(p) for p in present])
    ax.bar_label(bars, labels=["%d (tried up to %d)" % vt for vt in zip(values, tried)])
    ax.set_title("Scenario b: the largest n with every run good up to it")
    ax.set_ylim(0, max(tried) + 1)
    fig.tight_layout()
    finish(fig, [ax], path, "policy", "VMs sustained at zero OOM kills")


def draw_plots(runs, directory):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"font.size": 10, "figure.dpi": 100})
    os.makedirs(directory, exist_ok=True)
    for scenario in sorted({r["scenario"] for r in runs.values()}):
        n, first, shown = plotted_runs(runs, scenario)
        label = "Scenario %s, %s, round %d" % (scenario, vms(n), first)
        plot_memory(plt, shown, "%s: each VM's memory per policy" % label,
                    os.path.join(directory, "overcommit-%s-memory.png" % scenario))
        plot_host(plt, shown, "%s: host memory per policy" % label,
                  os.path.join(directory, "overcommit-%s-host.png" % scenario))
    present = [p for p in POLICIES if sustained_n(runs, p) is not None]
    if present:
        plot_density(plt, runs, present, os.path.join(directory, "overcommit-density.png"))
    plt.close("all")


# ------------------------------------------------------------ main

def main():
    parser = argparse.ArgumentParser(description="A bench/overcommit.sh run folder as Markdown.")
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--plots", metavar="DIR", help="write the PNGs here and link them")
    parser.add_argument("--img-prefix", metavar="P", default="img", help="the links' folder (img)")
    parser.add_argument("--title", metavar="TEXT", help="a heading above the section")
    args = parser.parse_args()
    try:
        runs = load(args.run_dir)
    except BadInput as e:
        print("overcommit-report: %s" % e, file=sys.stderr)
        return 2
    baselines = static_baselines(runs)
    keys = {(r["scenario"], r["n"], r["policy"]) for r in runs.values()}
    figures = {k: group_figures([r for r in runs.values() if (r["scenario"], r["n"], r["policy"]) == k],
                                baselines) for k in keys}
    out = ["### " + args.title, ""] if args.title else []
    out += ["A row is one scenario, VM count and policy over all its rounds. Completion: the jobs "
            "that exited 0. A step's stall: its duration minus static's median for the same "
            "scenario and step index, 0 at least, over all the row's steps (p95 by nearest rank); "
            "reaction: the median stall of the steps that stalled (> %d ms). Host memory: the sum "
            "over the VMs, integrated over the run (trapezoids) and its peak, the median of the "
            "row's runs." % STALLED_MS, ""]
    for scenario in sorted({r["scenario"] for r in runs.values()}):
        out += scenario_section(scenario, runs, figures, args)
    out += goals_section(runs, figures)
    if args.plots:
        draw_plots(runs, args.plots)
    sys.stdout.write("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
