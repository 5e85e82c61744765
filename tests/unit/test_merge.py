#!/usr/bin/env python3
"""stampede merge, against reports of real runs (tests/unit/fixtures/merge:
two shards of one mix.yaml plan, a WebSocket run, an HTTPS run; plan_id,
shard and start_at written in by hand, shard 1's start moved 1.4 s later).

No figure is written here: every expected value is computed from the
inputs, the latency figures by a nearest-rank quantile written again below
from sp_hist.h's definition (an oracle independent of lib/metrics).

usage: test_merge.py STAMPEDE FIXTURE_DIR
"""
import copy
import json
import math
import os
import subprocess
import sys
import tempfile

STAMPEDE, FIX = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="sp-merge.")
FAILS = 0
CHECKS = 0


def check(what, ok, detail=""):
    global FAILS, CHECKS
    CHECKS += 1
    print(("ok   - " if ok else "FAIL - ") + what)
    if not ok:
        FAILS += 1
        if detail:
            print("     " + str(detail)[:2000])


def fx(name):
    return os.path.join(FIX, name)


def load(path):
    with open(path) as f:
        return json.load(f)


def merge(*args):
    p = subprocess.run([STAMPEDE, "merge", *args], capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def write(name, obj):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        if isinstance(obj, str):
            f.write(obj)
        else:
            json.dump(obj, f)
    return path


# ---- the histogram, from sp_hist.h's words ----
SUB = 7


def lowest(i):
    q = i >> SUB
    if q <= 1:
        return i
    return ((i & ((1 << SUB) - 1)) | (1 << SUB)) << (q - 1)


def highest(i):
    q = i >> SUB
    if q <= 1:
        return i
    return lowest(i) + (1 << (q - 1)) - 1


def quantile(h, q):
    """Nearest rank ceil(q * count); rank 1 is min, rank count is max, any
    other its bucket's midpoint (rounded down) clamped to [min, max]."""
    n = h["count"]
    if n == 0:
        return 0
    rank = 1 if q <= 0 else n if q >= 1 else math.ceil(q * n)
    if rank == 1:
        return h["min"]
    if rank >= n:
        return h["max"]
    seen = 0
    for i, c in h["buckets"]:
        seen += c
        if seen >= rank:
            lo = lowest(i)
            v = lo + (highest(i) - lo) // 2
            return min(max(v, h["min"]), h["max"])
    return h["max"]


def add_hists(a, b):
    bk = {}
    for i, c in a["buckets"] + b["buckets"]:
        bk[i] = bk.get(i, 0) + c
    h = {"count": a["count"] + b["count"],
         "buckets": sorted(bk.items())}
    for k in ("sum", "overflow"):
        if k in a:
            h[k] = a[k] + b[k]
    mins = [x["min"] for x in (a, b) if x["count"]]
    h["min"] = min(mins) if mins else 0
    h["max"] = max(a["max"], b["max"])
    return h


def lat_figures(h):
    r = lambda us: round(us / 1e3, 3)
    return {"min": r(h["min"] if h["count"] else 0),
            "mean": round(h["sum"] / h["count"] / 1e3, 3) if h["count"] else 0,
            "p50": r(quantile(h, 0.5)), "p90": r(quantile(h, 0.9)),
            "p95": r(quantile(h, 0.95)), "p99": r(quantile(h, 0.99)),
            "p999": r(quantile(h, 0.999)), "max": r(h["max"])}


def lat_objects(o, path=""):
    """(path, object) of every latency object (one with "hist")."""
    if isinstance(o, dict):
        if "hist" in o:
            yield path, o
            return
        for k, v in o.items():
            if path == "" and k == "timeline":
                continue
            yield from lat_objects(v, path + "." + k)
    elif isinstance(o, list):
        for i, v in enumerate(o):
            yield from lat_objects(v, "%s[%d]" % (path, i))


def at(o, path):
    """The value at a path of lat_objects/leaves' form."""
    for part in path.strip(".").replace("[", ".[").split("."):
        if part == "":
            continue
        o = o[int(part[1:-1])] if part.startswith("[") else o[part]
    return o


def leaves(o, path=""):
    if isinstance(o, dict):
        for k, v in o.items():
            yield from leaves(v, path + "." + k)
    elif isinstance(o, list):
        for i, v in enumerate(o):
            yield from leaves(v, "%s[%d]" % (path, i))
    else:
        yield path, o


# ---- 1. one report merges into itself ----
ADDED = {".shards"}
for name in ("mix_0.json", "chat.json", "tls.json"):
    src = load(fx(name))
    rc, out, err = merge(fx(name), "--json", os.path.join(TMP, "one.json"))
    one = load(os.path.join(TMP, "one.json"))
    check("%s alone: exit 0" % name, rc == 0, err)
    diffs = []
    for p, v in leaves(src):
        if p.startswith((".shard.", ".start_at.")):
            continue
        try:
            w = at(one, p)
        except (KeyError, IndexError):
            diffs.append(("missing", p))
            continue
        if v != w:
            diffs.append((p, v, w))
    check("%s alone: every figure as the run wrote it" % name, not diffs,
          diffs)
    check("%s alone: no shard/start_at/outputs in the merge" % name,
          not any(k in one for k in ("shard", "start_at", "outputs",
                                     "request_log")))
    check("%s alone: each core says its shard" % name,
          all("shard" in c for c in one["cores"]))

# ---- 2. two shards ----
A, B = load(fx("mix_0.json")), load(fx("mix_1.json"))
csv = os.path.join(TMP, "ab")
html = os.path.join(TMP, "ab.html")
jpath = os.path.join(TMP, "ab.json")
rc, out, err = merge(fx("mix_0.json"), fx("mix_1.json"), "--json", jpath,
                     "--csv", csv, "--html", html)
M = load(jpath)
check("A+B: exit 0", rc == 0, err)
check("A+B: a summary on stdout", "2 of 2 shards" in out, out)
# Counters: every integer of A (outside what is not a sum) is A's + B's.
NOT_SUMS = (".version", ".start_ms", ".hist_layout", ".shard", ".start_at",
            ".ws.max_message", ".pools.bytes_per_conn",
            ".ws.bytes_per_connection", ".tls.bytes_per_connection",
            # made of sums, not sums (jq wrote 26.000 as 26 in the
            # fixtures: integers to Python)
            ".summary.rps", ".summary.peak_rps", ".summary.duration_s",
            ".summary.bits_per_s", ".elapsed_s")
bad = []
for p, v in leaves(A):
    if (not isinstance(v, int) or isinstance(v, bool) or
            p.startswith(NOT_SUMS) or ".hist" in p or
            p.startswith((".timeline", ".cores", ".thresholds")) or
            p.endswith(".weight") or ".ws.memory." in p and "bytes" in p):
        continue
    if at(M, p) != v + at(B, p):
        bad.append((p, v, at(B, p), at(M, p)))
check("A+B: every counter is A's + B's", not bad, bad)
for k in A["summary"]["codes"]:
    check("A+B: codes %s" % k, M["summary"]["codes"][k] ==
          A["summary"]["codes"][k] + B["summary"]["codes"].get(k, 0))
check("A+B: cores concatenated, each with its shard",
      [c["shard"] for c in M["cores"]] ==
      [0] * len(A["cores"]) + [1] * len(B["cores"]))
# Latency objects: from the two histograms added up here.
bad = []
for p, lat in lat_objects(A):
    h = add_hists(lat["hist"], at(B, p)["hist"])
    m = at(M, p)
    if m["hist"]["buckets"] != [list(x) for x in h["buckets"]] or \
            m["hist"]["count"] != h["count"]:
        bad.append((p, "hist"))
    want = lat_figures(h)
    got = {k: m[k] for k in want}
    if got != want:
        bad.append((p, got, want))
check("A+B: every latency object is its added histogram's (%d)" %
      len(list(lat_objects(A))), not bad, bad)
# The span: earliest start to latest end; rates over it.
s0 = min(A["start_ms"], B["start_ms"])
el = max((x["start_ms"] - s0) / 1000 + x["elapsed_s"] for x in (A, B))
du = max((x["start_ms"] - s0) / 1000 + x["summary"]["duration_s"]
         for x in (A, B))
check("A+B: start_ms the earliest", M["start_ms"] == s0)
check("A+B: elapsed_s spans both", abs(M["elapsed_s"] - el) < 1e-6,
      (M["elapsed_s"], el))
check("A+B: duration_s spans both",
      abs(M["summary"]["duration_s"] - du) < 1e-6)
check("A+B: rps = responses / duration_s",
      abs(M["summary"]["rps"] - M["summary"]["responses"] / du) < 1e-3)
check("A+B: peak_rps >= rps", M["summary"]["peak_rps"] >= M["summary"]["rps"])
check("A+B: shards", M["shards"] == {
    "count": 2, "merged": [0, 1], "missing": [],
    "start_spread_ms": B["start_ms"] - A["start_ms"]}, M["shards"])
# Timeline: B's point t is t + round(1.4) = t + 1.
T = M["timeline"]
check("A+B: timeline t = 1, 2, ...", [p["t"] for p in T] ==
      list(range(1, len(T) + 1)))
off = round((B["start_ms"] - A["start_ms"]) / 1000)
check("A+B: timeline as long as B shifted by %d" % off,
      len(T) == max(len(A["timeline"]), len(B["timeline"]) + off))
for k in ("requests", "responses", "errors", "bytes_sent", "vus"):
    exp = [0] * len(T)
    for p in A["timeline"]:
        exp[p["t"] - 1] += p[k]
    for p in B["timeline"]:
        exp[p["t"] + off - 1] += p[k]
    check("A+B: timeline %s per second is A's + B's, aligned" % k,
          [p[k] for p in T] == exp, ([p[k] for p in T], exp))
for k, s in (("requests", "requests"), ("responses", "responses"),
             ("errors", "errors")):
    check("A+B: timeline %s add up to the summary" % k,
          sum(p[k] for p in T) == M["summary"][s])
bk = {}
for p in T:
    for i, c in p["hist"]["buckets"]:
        bk[i] = bk.get(i, 0) + c
check("A+B: the points' histograms add up to the summary's",
      sorted(bk.items()) == [tuple(x) for x in
                             M["summary"]["latency_ms"]["hist"]["buckets"]])
check("A+B: the points' counts add up to the summary's",
      sum(p["hist"]["count"] for p in T) ==
      M["summary"]["latency_ms"]["hist"]["count"])
bad = [p["t"] for p in T if p["p99_ms"] != round(quantile(p["hist"], .99) / 1e3, 3)
       or p["p50_ms"] != round(quantile(p["hist"], .5) / 1e3, 3)]
check("A+B: each point's percentiles are its merged histogram's", not bad, bad)
# Thresholds: the reports' own, judged on the merge.
th = {t["expr"]: t for t in M["thresholds"]}
ha = add_hists(A["requests"][0]["latency_ms"]["hist"],
               B["requests"][0]["latency_ms"]["hist"])
check("A+B: request:home p(99) judged on the merged histogram",
      A["requests"][0]["name"] == "home" and
      th["request:home p(99) < 2s"]["value"] ==
      round(quantile(ha, .99) / 1e3, 3), th)
# A threshold each shard meets and the whole does not: rps below a bound
# above each shard's rate, below the merged one.
bound = (max(A["summary"]["rps"], B["summary"]["rps"]) + M["summary"]["rps"]) / 2
check("fixture: the bound lies between the shards' rps and the merge's",
      A["summary"]["rps"] < bound < M["summary"]["rps"])
expr = "rps < %.3f" % bound
for one in ("mix_0.json", "mix_1.json"):
    rc, out, err = merge(fx(one), "--threshold", expr, "--json",
                         os.path.join(TMP, "t.json"))
    check("'%s' holds on %s alone: exit 0" % (expr, one), rc == 0, out + err)
rc, out, err = merge(fx("mix_0.json"), fx("mix_1.json"), "--threshold", expr,
                     "--json", os.path.join(TMP, "t.json"))
T2 = load(os.path.join(TMP, "t.json"))
check("'%s' fails on the merge: exit 1" % expr, rc == 1, out + err)
check("... the summary says FAILED", "FAILED" in out and expr in out, out)
check("... the report says so", [t["ok"] for t in T2["thresholds"]
                                 if t["expr"] == expr] == [False])
rc, out, err = merge(fx("mix_0.json"), fx("mix_1.json"), "--threshold",
                     "request:nosuch p(99) < 1s")
check("a --threshold naming no request: exit 2", rc == 2 and
      "no request is named 'nosuch'" in err, err)
rc, out, err = merge(fx("mix_0.json"), "--threshold", "p(99) <")
check("a --threshold that does not parse: exit 2", rc == 2, err)
# Outputs.
with open(csv + "_stats.csv") as f:
    rows = f.read().splitlines()
check("--csv: stats rows (total, 3 scenarios, 5 requests, lag)",
      rows[0].startswith("type,name,started") and
      rows[1] == "total,\"requests\",%d,%d,%d,%d,%.3f,%.3f,%.3f,%.3f,%.3f,"
      "%.3f,%.3f,%.3f" % ((M["summary"]["requests"], M["summary"]["responses"],
                           M["summary"]["errors"], M["summary"]["interrupted"]) +
                          tuple(M["summary"]["latency_ms"][k] for k in
                                ("min", "mean", "p50", "p90", "p95", "p99",
                                 "p999", "max"))) and
      len(rows) == 1 + 1 + len(M["scenarios"]) + len(M["lifecycle"]) +
      len(M["requests"]) + 1, rows)
with open(csv + "_timeline.csv") as f:
    rows = f.read().splitlines()
check("--csv: a timeline row per point",
      len(rows) == len(T) + 1 and rows[0].endswith("length_s"))
with open(html) as f:
    page = f.read()
check("--html: a page with the merged report",
      "<html" in page.lower() and '"shards"' in page)
rc, out, err = merge(fx("mix_0.json"), fx("mix_1.json"), "--json", "-")
check("--json -: the report on stdout, the summary on stderr",
      rc == 0 and json.loads(out)["shards"]["count"] == 2 and
      "2 of 2 shards" in err)

# ---- 3. missing shards ----
C = copy.deepcopy(A)
C["shard"]["count"] = 3
D = copy.deepcopy(B)
D["shard"]["count"] = 3
rc, out, err = merge(write("c.json", C), write("d.json", D), "--json",
                     os.path.join(TMP, "cd.json"))
check("shards 0 and 1 of 3: merged with a warning", rc == 0 and
      "warning" in err, err)
check("... shards.missing is [2]",
      load(os.path.join(TMP, "cd.json"))["shards"]["missing"] == [2])

# ---- 4. refusals: exit 2, a message, no file written ----


def refused(what, files, needle):
    out_json = os.path.join(TMP, "refused.json")
    if os.path.exists(out_json):
        os.unlink(out_json)
    rc, out, err = merge(*files, "--json", out_json, "--csv",
                         os.path.join(TMP, "refused"))
    check("refused, %s: exit 2, says '%s'" % (what, needle),
          rc == 2 and needle in err, (rc, err))
    check("refused, %s: no report written" % what,
          not os.path.exists(out_json) and
          not os.path.exists(os.path.join(TMP, "refused_stats.csv")))


X = copy.deepcopy(B)
X["plan_id"] = "0" * 64
refused("different plan_id", [fx("mix_0.json"), write("x.json", X)],
        "ran different scenarios (plan_id")
X = copy.deepcopy(B)
X["shard"]["index"] = 0
refused("the same shard twice", [fx("mix_0.json"), write("x.json", X)],
        "are the same shard")
X = copy.deepcopy(B)
X["shard"]["count"] = 5
refused("different shard counts", [fx("mix_0.json"), write("x.json", X)],
        "different counts")
X = copy.deepcopy(A)
X["breakpoint"] = {"outcome": "found", "steps": []}
refused("a capacity hunt", [write("x.json", X)], "capacity hunt")
refused("not JSON", [write("x.json", '{"version": 1,\n "mode": }')],
        "not JSON (line 2, column")
refused("a file that is not there", [os.path.join(TMP, "none.json")],
        "cannot read it")
X = copy.deepcopy(A)
del X["hist_layout"]
for p, lat in lat_objects(X):
    del lat["hist"]
refused("an older report (no hist)", [write("x.json", X)],
        "written by an older stampede")
X = copy.deepcopy(A)
X["hist_layout"]["sub_bucket_bits"] = 8
refused("another histogram layout", [write("x.json", X)], "layout")
X = copy.deepcopy(B)
X["stampede_version"] = "0.0.9"
refused("another stampede version", [fx("mix_0.json"), write("x.json", X)],
        "different stampede versions")
X = copy.deepcopy(A)
X["mode"] = "tcp"
refused("a tcp report", [write("x.json", X)], "not the JSON report of")
refused("no report", [], "no report to merge")
X = copy.deepcopy(B)
del X["shard"]
refused("a shard with a report that is not one",
        [fx("mix_0.json"), write("x.json", X)], "shard")
X = copy.deepcopy(B)
X["model"] = "open"
refused("a plan value that differs", [fx("mix_0.json"), write("x.json", X)],
        "differ on model")

# Hostile shapes: a clear refusal, never a crash (the ASan build runs this).
HOSTILE = [
    ("summary is a number", lambda r: r.__setitem__("summary", 5)),
    ("buckets is a string", lambda r: r["summary"]["latency_ms"]["hist"]
     .__setitem__("buckets", "x")),
    ("a bucket index past the layout", lambda r: r["summary"]["latency_ms"]
     ["hist"]["buckets"].append([99999, 1])),
    ("a bucket count negative", lambda r: r["summary"]["latency_ms"]["hist"]
     ["buckets"].__setitem__(0, [r["summary"]["latency_ms"]["hist"]
                                 ["buckets"][0][0], -1])),
    ("count unlike its buckets", lambda r: r["summary"]["latency_ms"]["hist"]
     .__setitem__("count", 1)),
    ("a point's t is a string", lambda r: r["timeline"][0]
     .__setitem__("t", "1")),
    ("points not ascending", lambda r: r["timeline"][1]
     .__setitem__("t", 1)),
    ("a point without hist", lambda r: r["timeline"][0].pop("hist")),
    ("timeline is an object", lambda r: r.__setitem__("timeline", {})),
    ("a huge t", lambda r: r["timeline"][-1].__setitem__("t", 10 ** 12)),
    ("start_ms negative", lambda r: r.__setitem__("start_ms", -5)),
    ("cores not an array", lambda r: r.__setitem__("cores", 3)),
    ("a scenario without a name", lambda r: r["scenarios"][0].pop("name")),
    ("thresholds with no expr", lambda r: r["thresholds"][0].pop("expr")),
    ("a threshold that does not parse", lambda r: r["thresholds"][0]
     .__setitem__("expr", "p(99) <<< x")),
    ("codes of another type", lambda r: r["summary"].__setitem__(
        "codes", [1, 2])),
    ("a latency object without hist", lambda r: r["summary"]["ttfb_ms"]
     .pop("hist")),
    ("responses a string", lambda r: r["summary"].__setitem__(
        "responses", "many")),
]
for what, spoil in HOSTILE:
    X = copy.deepcopy(B)
    spoil(X)
    rc, out, err = merge(fx("mix_0.json"), write("x.json", X), "--json",
                         os.path.join(TMP, "h.json"))
    check("hostile, %s: exit 2 with a message" % what,
          rc == 2 and err.startswith("stampede merge: "), (rc, err))
# Sums past 64 bits.
X, Y = copy.deepcopy(A), copy.deepcopy(B)
X["summary"]["bytes"]["sent"] = Y["summary"]["bytes"]["sent"] = 2 ** 63 - 1
rc, out, err = merge(write("x.json", X), write("y.json", Y))
check("hostile, a sum past 64 bits: exit 2", rc == 2 and "too large" in err,
      err)
# Unknown members: added up by type, no refusal.
X = copy.deepcopy(B)
X["summary"]["codes"]["599"] = 3
X["future"] = {"count": 2}
Y = copy.deepcopy(A)
Y["future"] = {"count": 5}
rc, out, err = merge(write("y.json", Y), write("x.json", X), "--json",
                     os.path.join(TMP, "u.json"))
U = load(os.path.join(TMP, "u.json"))
check("a code only one shard saw is kept",
      rc == 0 and U["summary"]["codes"]["599"] == 3, err)
check("an unknown counter adds up", U.get("future") == {"count": 7})

print("%d checks, %d failed" % (CHECKS, FAILS))
sys.exit(1 if FAILS else 0)
