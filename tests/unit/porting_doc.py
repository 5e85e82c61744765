#!/usr/bin/env python3
"""docs/porting.md shows only syntax that stampede accepts.

1. Every fenced block whose info string is "yaml stampede" is a complete
   scenario file: it is written to a scratch directory (beside copies of
   docs/porting/'s data files, which the blocks name relatively) and
   `stampede validate` must exit 0 on it. The number of such blocks must
   equal grep's count of their opening fences, so a block the extractor
   missed cannot go unchecked.
2. In every table with a "stampede" column, each code span of that column
   is either an option (it starts with "-": its first word must be in
   `stampede run --help`) or text that occurs in one of the validated
   blocks (whitespace-normalized, "\\|" read as "|"), so a key in a table
   is one a block proves.

usage: porting_doc.py STAMPEDE SOURCE_ROOT   (exit 0, or 1 with one line
       per fault)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

FENCE = "```yaml stampede"


def blocks(lines):
    out, cur, start = [], None, 0
    for i, line in enumerate(lines, 1):
        if cur is None and line.strip() == FENCE:
            cur, start = [], i
        elif cur is not None and line.strip() == "```":
            out.append((start, "\n".join(cur) + "\n"))
            cur = None
        elif cur is not None:
            cur.append(line)
    return out


def cells(row):
    """The cells of a table row, split on pipes that are not escaped."""
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", row)]


def stampede_spans(lines):
    """(line number, code span) of every table's stampede column."""
    spans, col = [], None
    for i, line in enumerate(lines, 1):
        if not line.lstrip().startswith("|"):
            col = None
            continue
        cs = cells(line)
        if col is None:
            col = cs.index("stampede") if "stampede" in cs else -1
            continue
        if col < 0 or col >= len(cs) or re.fullmatch(r"[-: ]*", cs[col]):
            continue
        for m in re.finditer(r"`([^`]+)`", cs[col]):
            spans.append((i, m.group(1).replace("\\|", "|")))
    return spans


def stages_ok(stampede, stages):
    """Whether a --stages value validates as a file's stages: string (the
    form both take)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "stages.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write("target: http://app.example.test\n"
                    f"load: {{ stages: \"{stages}\" }}\n"
                    "scenarios: [ { name: a, steps: [ { request: "
                    "{ path: / } } ] } ]\n")
        r = subprocess.run([stampede, "validate", path],
                           capture_output=True, text=True)
        return r.returncode == 0


def norm(s):
    return re.sub(r"\s+", " ", s).strip()


def main():
    stampede, root = sys.argv[1], sys.argv[2]
    doc = os.path.join(root, "docs", "porting.md")
    data = os.path.join(root, "docs", "porting")
    lines = open(doc, encoding="utf-8").read().splitlines()
    faults = []

    found = blocks(lines)
    fences = sum(1 for line in lines if line.strip() == FENCE)
    if not found:
        faults.append("docs/porting.md: no yaml stampede block")
    if len(found) != fences:
        faults.append(f"docs/porting.md: {fences} yaml stampede fences, "
                      f"{len(found)} blocks extracted")

    env = dict(os.environ, API_TOKEN="example-token")
    with tempfile.TemporaryDirectory() as tmp:
        for name in os.listdir(data):
            shutil.copy(os.path.join(data, name), tmp)
        for start, text in found:
            path = os.path.join(tmp, f"block{start}.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            r = subprocess.run([stampede, "validate", path], env=env,
                               capture_output=True, text=True)
            if r.returncode != 0:
                faults.append(f"docs/porting.md:{start}: validate exit "
                              f"{r.returncode}: {r.stderr.strip()}")

    corpus = norm("\n".join(t for _, t in found))
    helptext = subprocess.run([stampede, "run", "--help"],
                              capture_output=True, text=True).stdout
    opts = set(re.findall(r"--[a-z][a-z0-9-]*", helptext))
    spans = stampede_spans(lines)
    if not spans:
        faults.append("docs/porting.md: no code in a stampede column")
    for i, s in spans:
        if s.startswith("-") or s.startswith("stampede run "):
            for w in re.findall(r"--[a-z][a-z0-9-]*", s):
                if w not in opts:
                    faults.append(f"docs/porting.md:{i}: {w} is not an "
                                  f"option of stampede run")
            m = re.search(r'--stages "([^"]+)"', s)
            if m and not stages_ok(stampede, m.group(1)):
                faults.append(f"docs/porting.md:{i}: stages "
                              f"\"{m.group(1)}\" refused")
        elif norm(s) not in corpus:
            faults.append(f"docs/porting.md:{i}: `{s}` is in no "
                          f"validated block")

    for f in faults:
        print(f)
    print(f"{len(found)} blocks, {len(spans)} table spans, "
          f"{len(faults)} faults")
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main())
