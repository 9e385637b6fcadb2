#!/bin/sh
# tests/docs/config-keys.sh: every omemd.conf key is written in four
# places: the reader's key table (host-server/formats/omemd-config.c), the
# example file (host-server/daemon/omemd.conf), the manual page
# (host-server/daemon/omemd.8) and docs/omemd.md.  This TAP test checks
# that the four name the same keys and that the example, the manual and
# docs/omemd.md give each key the same default, so that none of them can
# drift.  The defaults the reader really uses are checked against the
# example by unit/test-omemd-config.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
exec /usr/bin/python3 - "$top_srcdir" <<'PY'
import re
import sys

top = sys.argv[1]
count = 0
failed = 0


def ok(condition, what, detail=""):
    global count, failed
    count += 1
    if condition:
        print("ok %d - %s" % (count, what))
    else:
        failed += 1
        print("not ok %d - %s" % (count, what))
        for line in str(detail).splitlines():
            print("# " + line)


def read(path):
    with open("%s/%s" % (top, path), encoding="utf-8") as f:
        return f.read()


def normal(value):
    """Defaults as the four write them: roff escapes and quoting aside."""
    return value.replace("\\-", "-").replace("`", "").strip().strip('"')


# The reader's table: KEY("group", "key", ...).
source = {(g, k): None for g, k in
          re.findall(r'KEY\("([a-z_]+)", "([a-z_]+)",', read("host-server/formats/omemd-config.c"))}

# The example: [group] headers, then "key = value" lines.
example, group = {}, None
for line in read("host-server/daemon/omemd.conf").splitlines():
    m = re.match(r"^\[([a-z_]+)\]\s*$", line)
    if m:
        group = m.group(1)
        continue
    m = re.match(r"^([a-z_]+)\s*=\s*(.*?)\s*$", line)
    if m and group:
        example[(group, m.group(1))] = normal(m.group(2))

# The manual page: .SS [group], then .BR key " = " value (one line may
# name two keys: key " = " value ", " key " = " value).
manual, group = {}, None
for line in read("host-server/daemon/omemd.8").splitlines():
    m = re.match(r"^\.SS \[([a-z_]+)\]", line)
    if m:
        group = m.group(1)
        continue
    if line.startswith(".SH"):
        group = None
    if line.startswith(".BR ") and group:
        for key, value in re.findall(r'([a-z_]+) " = " ([^" ]+)', line):
            manual[(group, key)] = normal(value)

# docs/omemd.md: table rows "| `[group] key` | `default` | ...", where one
# row may name several keys of a group with as many defaults.
docs = {}
for line in read("docs/omemd.md").splitlines():
    m = re.match(r"^\| `\[([a-z_]+)\] ([^|]*)\| ([^|]*)\|", line)
    if not m:
        continue
    keys = [k.strip() for k in m.group(2).replace("`", "").split(",")]
    values = [v.strip() for v in m.group(3).split(",")]
    if len(values) != len(keys):
        values = [m.group(3)] * len(keys)
    for k, v in zip(keys, values):
        docs[(m.group(1), k)] = normal(v)

ok(len(source) >= 30, "the reader's key table is found (%d keys)" % len(source))
for name, found in (("host-server/daemon/omemd.conf", example),
                    ("host-server/daemon/omemd.8", manual),
                    ("docs/omemd.md", docs)):
    missing = sorted(set(source) - set(found))
    extra = sorted(set(found) - set(source))
    ok(not missing, "%s shows every key the reader takes" % name,
       "missing: " + ", ".join("[%s] %s" % k for k in missing))
    ok(not extra, "%s shows no key the reader refuses" % name,
       "unknown: " + ", ".join("[%s] %s" % k for k in extra))

for name, found in (("host-server/daemon/omemd.8", manual), ("docs/omemd.md", docs)):
    differ = ["[%s] %s: omemd.conf %r, here %r" % (k[0], k[1], example[k], found[k])
              for k in sorted(set(example) & set(found)) if example[k] != found[k]]
    ok(not differ, "%s gives every key omemd.conf's default" % name, "\n".join(differ))

print("1..%d" % count)
sys.exit(1 if failed else 0)
PY
