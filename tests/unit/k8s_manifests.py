#!/usr/bin/python3
"""deploy/kubernetes checked without a cluster.

The manifests are parsed (python3-yaml) and held to the rules a distributed
run depends on: the shards' Indexed Job (completions == parallelism ==
STAMPEDE_SHARDS, backoffLimit 0, restartPolicy Never, the shard and start
wiring, the report path per index, one pod per node, hugepages and
IPC_LOCK on SR-IOV, no hugepages on af_packet), every $(NAME) Kubernetes
must expand, the merge Job's glob against the shards' paths, the example
scenario through `stampede validate`. The pods' shell wrappers run with a
fake stampede (exit codes, SIGTERM passed on, missing or stale shard
reports refused). run.sh passes bash -n and shellcheck, refuses bad
arguments, and renders a run that keeps the same rules.

kubectl, when there is one, runs with a kubeconfig whose server is a closed
loopback port and, as root, in a network namespace of its own with no
interface but loopback: nothing it does can leave the machine. Offline it
can: `kubectl kustomize`, `kubectl patch --local` (run.sh's rendering) and
`kubectl set env --local`, which decodes a Job or a Pod into its typed
object (a wrong type fails; a misspelled field is dropped, which this test
detects by comparing the output with the input). `kubectl apply/create
--dry-run=client` cannot: both ask the API server for its resource list
first (kubectl 1.20 and later).

usage: k8s_manifests.py STAMPEDE_BINARY SOURCE_ROOT
"""
import datetime
import fnmatch
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import yaml

FAILS = []
CHECKS = 0


def check(ok, what):
    global CHECKS
    CHECKS += 1
    if not ok:
        FAILS.append(what)
        print(f"FAIL: {what}")
    return ok


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def container(obj, name=None):
    spec = obj["spec"]["template"]["spec"] if obj["kind"] == "Job" else obj["spec"]
    cs = spec["containers"]
    return next(c for c in cs if name is None or c["name"] == name), spec


def env_of(c):
    return {e["name"]: e for e in c.get("env", [])}


def arg_after(args, opt):
    for i, a in enumerate(args[:-1]):
        if a == opt:
            return args[i + 1]
    return None


REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def resource_env(resource):
    """The variable the SR-IOV device plugin sets for a resource."""
    return "PCIDEVICE_" + re.sub(r"[./]", "_", resource).upper()


def check_refs(name, c, spec, extra=()):
    """Every $(NAME) in command, args and subPathExpr is a variable the
    container has: Kubernetes leaves an unknown one as it is, silently."""
    known = set(env_of(c)) | set(extra)
    texts = list(c.get("command", [])) + list(c.get("args", []))
    texts += [m.get("subPathExpr", "") for m in c.get("volumeMounts", [])]
    for t in texts:
        for ref in REF.findall(t):
            check(ref in known, f"{name}: $({ref}) is no variable of the container")


def check_shard_job(name, job, nads, pvc, cm):
    c, spec = container(job, "stampede")
    env = env_of(c)
    args = c.get("args", [])
    js = job["spec"]
    n = env.get("STAMPEDE_SHARDS", {}).get("value")
    check(js.get("completionMode") == "Indexed", f"{name}: completionMode Indexed")
    check(n is not None and n.isdigit() and int(n) >= 1,
          f"{name}: STAMPEDE_SHARDS a number ({n})")
    check(js.get("completions") == js.get("parallelism") == (int(n) if n and n.isdigit() else -1),
          f"{name}: completions {js.get('completions')} == parallelism "
          f"{js.get('parallelism')} == STAMPEDE_SHARDS {n}")
    check(js.get("backoffLimit") == 0, f"{name}: backoffLimit 0")
    check(spec.get("restartPolicy") == "Never", f"{name}: restartPolicy Never")
    idx = env.get("JOB_COMPLETION_INDEX", {}).get("valueFrom", {}).get("fieldRef", {})
    check(idx.get("fieldPath") ==
          "metadata.annotations['batch.kubernetes.io/job-completion-index']",
          f"{name}: JOB_COMPLETION_INDEX from the completion index annotation")
    check(args[:2] == ["run", "/scenario/scenario.yaml"], f"{name}: run /scenario/scenario.yaml")
    check(arg_after(args, "--shard") == "$(JOB_COMPLETION_INDEX)/$(STAMPEDE_SHARDS)",
          f"{name}: --shard $(JOB_COMPLETION_INDEX)/$(STAMPEDE_SHARDS)")
    check(arg_after(args, "--start-at") == "$(STAMPEDE_START_AT)",
          f"{name}: --start-at $(STAMPEDE_START_AT)")
    start = env.get("STAMPEDE_START_AT", {}).get("value", "")
    try:
        datetime.datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ")
        ok = True
    except ValueError:
        ok = False
    check(ok, f"{name}: STAMPEDE_START_AT RFC 3339 UTC ({start!r})")
    check(arg_after(args, "--json") == "/reports/shard-$(JOB_COMPLETION_INDEX).json",
          f"{name}: --json /reports/shard-$(JOB_COMPLETION_INDEX).json")
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    rep = mounts.get("/reports", {})
    check(rep.get("subPathExpr") == "runs/$(STAMPEDE_RUN)",
          f"{name}: /reports is runs/$(STAMPEDE_RUN) of the volume")
    check(vols.get(rep.get("name"), {}).get("persistentVolumeClaim", {}).get("claimName")
          == pvc["metadata"]["name"], f"{name}: /reports on the PVC {pvc['metadata']['name']}")
    sc = mounts.get("/scenario", {})
    check(vols.get(sc.get("name"), {}).get("configMap", {}).get("name")
          == cm["metadata"]["name"] and "scenario.yaml" in cm["data"],
          f"{name}: /scenario/scenario.yaml from the ConfigMap")
    # One pod per node.
    labels = job["spec"]["template"]["metadata"]["labels"]
    terms = (spec.get("affinity", {}).get("podAntiAffinity", {})
             .get("requiredDuringSchedulingIgnoredDuringExecution", []))
    check(any(t.get("topologyKey") == "kubernetes.io/hostname" and
              t.get("labelSelector", {}).get("matchLabels") and
              all(labels.get(k) == v for k, v in t["labelSelector"]["matchLabels"].items())
              for t in terms), f"{name}: required anti-affinity per node on its own labels")
    caps = c.get("securityContext", {}).get("capabilities", {})
    check(caps.get("drop") == ["ALL"], f"{name}: capabilities dropped but those added")
    res = c.get("resources", {})
    lim, req = res.get("limits", {}), res.get("requests", {})
    huge = [k for k in lim if k.startswith("hugepages-")]
    nets = job["spec"]["template"]["metadata"].get("annotations", {}).get(
        "k8s.v1.cni.cncf.io/networks", "")
    extra = []
    if "sriov" in name:
        check(len(huge) == 1 and req.get(huge[0]) == lim[huge[0]],
              f"{name}: one hugepages size, request == limit")
        check(any(v.get("emptyDir", {}).get("medium", "").startswith("HugePages")
                  and any(m["name"] == v["name"] for m in c["volumeMounts"])
                  for v in vols.values()), f"{name}: a hugepages volume mounted")
        check("IPC_LOCK" in caps.get("add", []), f"{name}: IPC_LOCK")
        nad = nads.get(nets)
        check(nad is not None, f"{name}: networks annotation {nets!r} names a NAD")
        resource = (nad or {}).get("metadata", {}).get("annotations", {}).get(
            "k8s.v1.cni.cncf.io/resourceName", "")
        check(resource and lim.get(resource) == "1" and req.get(resource) == "1",
              f"{name}: one {resource or 'SR-IOV resource'} requested")
        check(arg_after(args, "--port") == f"$({resource_env(resource)})",
              f"{name}: --port $({resource_env(resource)})")
        check('"type": "sriov"' in (nad or {}).get("spec", {}).get("config", ""),
              f"{name}: the NAD uses the sriov CNI")
        extra = [resource_env(resource)]
    else:
        check(not huge and not any("medium" in v.get("emptyDir", {}) for v in vols.values()),
              f"{name}: no hugepages")
        check("--no-huge" in (arg_after(args, "--eal") or "").split(),
              f"{name}: --eal --no-huge")
        check({"NET_RAW", "NET_ADMIN"} <= set(caps.get("add", [])),
              f"{name}: NET_RAW and NET_ADMIN")
        try:
            net = yaml.safe_load(nets)[0]
        except (yaml.YAMLError, IndexError, KeyError, TypeError):
            net = {}
        check(net.get("name") in nads and
              arg_after(args, "--port") == "af_packet:" + str(net.get("interface")),
              f"{name}: --port af_packet: on the interface Multus adds")
    check_refs(name, c, spec, extra)
    return int(n) if n and n.isdigit() else 0


def run_sh(script, argv, fakebin, env_extra=None, wait=True):
    env = {"PATH": fakebin + ":/usr/bin:/bin"}
    env.update(env_extra or {})
    # Output to a file, not a pipe: a stray child cannot hold it open. A
    # session of its own, so that a stray child can be ended with it.
    log = tempfile.TemporaryFile()
    p = subprocess.Popen(["/bin/sh", "-c", script] + argv, env=env, stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True)
    if not wait:
        return p
    try:
        p.wait(timeout=60)
    finally:
        end_group(p)
    log.seek(0)
    return p.returncode, log.read().decode(errors="replace")


def end_group(p):
    """End whatever is left of @p's session (a fake stampede the wrapper
    did not stop)."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def fake_stampede(d):
    """A stampede that logs its arguments, exits $FAKE_RC, or on SIGTERM
    writes $FAKE_DIR/term and exits 0 (as stampede's graceful stop does)."""
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "stampede")
    with open(path, "w") as f:
        f.write('#!/bin/sh\n'
                'echo "$@" >>"$FAKE_DIR/calls"\n'
                'if [ -n "${FAKE_WAIT:-}" ]; then\n'
                '  trap \'echo >"$FAKE_DIR/term"; exit 0\' TERM\n'
                '  echo >"$FAKE_DIR/started"\n'
                '  while :; do sleep 0.05; done\n'
                'fi\n'
                'exit "${FAKE_RC:-0}"\n')
    os.chmod(path, 0o755)
    return d


def check_wrapper(name, script, tmp):
    """The shards' wrapper: exit 1 is success, 2 and 3 are not, SIGTERM
    reaches stampede and its graceful exit is the pod's."""
    fb = fake_stampede(os.path.join(tmp, "bin"))
    check(subprocess.run(["/bin/sh", "-n", "-c", script]).returncode == 0,
          f"{name}: the wrapper parses (sh -n)")
    for rc, want in ((0, 0), (1, 0), (2, 2), (3, 3)):
        got, out = run_sh(script, ["stampede-shard", "run", "x.yaml"], fb,
                          {"FAKE_DIR": tmp, "FAKE_RC": str(rc)})
        check(got == want, f"{name}: stampede exit {rc} -> pod exit {got}, want {want} ({out.strip()})")
    with open(os.path.join(tmp, "calls")) as f:
        check(f.readline().strip() == "run x.yaml", f"{name}: the arguments passed on as given")
    for f in ("started", "term"):
        if os.path.exists(os.path.join(tmp, f)):
            os.unlink(os.path.join(tmp, f))
    p = run_sh(script, ["stampede-shard", "run"], fb,
               {"FAKE_DIR": tmp, "FAKE_WAIT": "1"}, wait=False)
    deadline = time.monotonic() + 20
    while not os.path.exists(os.path.join(tmp, "started")) and time.monotonic() < deadline:
        time.sleep(0.02)
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    end_group(p)
    p.wait()
    check(os.path.exists(os.path.join(tmp, "term")) and p.returncode == 0,
          f"{name}: SIGTERM reaches stampede and its exit 0 is the pod's ({p.returncode})")


def check_merge(merge, shard_jobs, n, pvc, tmp):
    name = "merge-job.yaml"
    c, spec = container(merge)
    env = env_of(c)
    script = c["command"][2]
    check(merge["spec"].get("backoffLimit") == 0, f"{name}: backoffLimit 0")
    check(spec.get("restartPolicy") == "Never", f"{name}: restartPolicy Never")
    check(env.get("STAMPEDE_SHARDS", {}).get("value") == str(n),
          f"{name}: STAMPEDE_SHARDS == the shards' ({n})")
    want = ("stampede merge /reports/shard-*.json --json /reports/merged.json "
            "--html /reports/merged.html")
    check(want in " ".join(script.replace("\\\n", " ").split()), f"{name}: runs `{want}`")
    mount = next(m for m in c["volumeMounts"] if m["mountPath"] == "/reports")
    vol = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    check(vol.get("persistentVolumeClaim", {}).get("claimName") == pvc["metadata"]["name"],
          f"{name}: reads the shards' PVC")
    for jn, job in shard_jobs.items():
        jc, _ = container(job, "stampede")
        jm = next(m for m in jc["volumeMounts"] if m["mountPath"] == "/reports")
        check(jm.get("subPathExpr") == mount.get("subPathExpr"),
              f"{name}: the same run directory as {jn}")
        path = arg_after(jc["args"], "--json")
        paths = [path.replace("$(JOB_COMPLETION_INDEX)", str(i)) for i in range(n)]
        check(all(fnmatch.fnmatch(p, "/reports/shard-*.json") for p in paths),
              f"{name}: the glob matches {jn}'s reports")
    check_refs(name, c, spec)
    # The script itself, on a directory of the test's own.
    rdir = os.path.join(tmp, "reports")
    os.makedirs(rdir)
    local = script.replace("/reports", rdir)
    fb = fake_stampede(os.path.join(tmp, "bin"))
    e = {"FAKE_DIR": tmp, "STAMPEDE_SHARDS": "3", "STAMPEDE_RUN": "t"}
    for i in (0, 2):
        with open(os.path.join(rdir, f"shard-{i}.json"), "w") as f:
            f.write("{}")
    rc, out = run_sh(local, ["stampede-merge"], fb, e)
    check(rc == 2 and "shard-1.json" in out and not os.path.exists(os.path.join(tmp, "calls")),
          f"{name}: a missing shard refused before merging ({rc}: {out.strip()})")
    with open(os.path.join(rdir, "shard-1.json"), "w") as f:
        f.write("{}")
    with open(os.path.join(rdir, "shard-3.json"), "w") as f:
        f.write("{}")
    rc, out = run_sh(local, ["stampede-merge"], fb, e)
    check(rc == 2 and not os.path.exists(os.path.join(tmp, "calls")),
          f"{name}: a report of another shard count refused ({rc}: {out.strip()})")
    os.unlink(os.path.join(rdir, "shard-3.json"))
    rc, out = run_sh(local, ["stampede-merge"], fb, dict(e, FAKE_RC="1"))
    with open(os.path.join(tmp, "calls")) as f:
        call = f.read().split()
    check(rc == 1, f"{name}: the merge's exit is the Job's ({rc})")
    check(call[:4] == ["merge"] + [os.path.join(rdir, f"shard-{i}.json") for i in range(3)],
          f"{name}: merges exactly the N shards ({call})")


class Kubectl:
    """kubectl with nowhere to go: a kubeconfig whose server is a closed
    loopback port, and as root a network namespace of its own."""

    def __init__(self, tmp):
        self.bin = shutil.which("kubectl")
        self.kubeconfig = os.path.join(tmp, "kubeconfig")
        with open(self.kubeconfig, "w") as f:
            f.write("apiVersion: v1\nkind: Config\n"
                    "clusters: [{name: none, cluster: {server: 'https://127.0.0.1:1'}}]\n"
                    "users: [{name: none, user: {token: offline}}]\n"
                    "contexts: [{name: none, context: {cluster: none, user: none}}]\n"
                    "current-context: none\n")
        self.prefix = []
        if self.bin and os.geteuid() == 0 and shutil.which("unshare"):
            if subprocess.run(["unshare", "-n", "true"]).returncode == 0:
                self.prefix = ["unshare", "-n"]
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "KUBECONFIG": self.kubeconfig, "HOME": tmp}

    def run(self, *argv, cwd=None):
        return subprocess.run(self.prefix + [self.bin] + list(argv), env=self.env, cwd=cwd,
                              capture_output=True, text=True, errors="replace",
                              timeout=120)

    def version(self):
        r = self.run("version", "--client")
        m = re.search(r'(?:GitVersion:"|Client Version: )v(\d+)\.(\d+)', r.stdout)
        return (int(m.group(1)), int(m.group(2))) if m else None


def paths(obj, prefix=""):
    """Every key path of a YAML value, list items by position."""
    out = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            p = f"{prefix}.{k}"
            out.add(p)
            out |= paths(v, p)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out |= paths(v, f"{prefix}[{i}]")
    return out


# Fields newer than some kubectl a Debian machine may have: Debian 12's
# kubectl 1.20 predates Indexed Jobs (1.21) and drops the field it does not
# know, as it would a misspelled one.
NEWER = {".spec.completionMode": (1, 21)}


def typed_roundtrip(kc, path, tmp):
    """The key paths of @path that kubectl's typed decoding drops (a
    misspelled or misplaced field), or None when kubectl refuses it; fields
    newer than this kubectl excepted."""
    r = kc.run("set", "env", "--local", "-f", path, "KUBECTL_ROUNDTRIP=1", "-o", "yaml")
    if r.returncode != 0:
        return None
    before = paths(load(path)[0])
    after = paths(yaml.safe_load(r.stdout))
    ver = kc.version() or (0, 0)
    return sorted(p for p in before - after
                  if "env[" not in p and NEWER.get(p, (0, 0)) <= ver)


def check_kubectl(kc, root, d, tmp, stampede):
    os.makedirs(tmp)
    ver = kc.version()
    print(f"kubectl {ver}, {'in a network namespace of its own' if kc.prefix else 'loopback kubeconfig'}")
    check(ver is not None, "kubectl version --client")
    for field, since in NEWER.items():
        if ver is not None and ver < since:
            print(f"note: kubectl {ver} predates {field} ({since}): not checked by it")
    r = kc.run("kustomize", d)
    kinds = [o["kind"] for o in yaml.safe_load_all(r.stdout) if o] if r.returncode == 0 else []
    check(r.returncode == 0 and sorted(kinds) ==
          ["ConfigMap", "Job", "NetworkAttachmentDefinition", "PersistentVolumeClaim"],
          f"kubectl kustomize: {kinds} {r.stderr.strip()[:300]}")
    for f in ("job-sriov.yaml", "job-afpacket.yaml", "merge-job.yaml",
              "merge-job-upload.yaml", "fetch-pod.yaml"):
        dropped = typed_roundtrip(kc, os.path.join(d, f), tmp)
        check(dropped == [], f"kubectl typed decode of {f}: dropped {dropped}")
    # The two ways the round trip fails, so that it is known to.
    job = load(os.path.join(d, "job-sriov.yaml"))[0]
    job["spec"]["completionz"] = 4
    bad = os.path.join(tmp, "bad-field.yaml")
    with open(bad, "w") as f:
        yaml.safe_dump(job, f)
    check(typed_roundtrip(kc, bad, tmp) == [".spec.completionz"],
          "kubectl typed decode drops a misspelled field")
    job = load(os.path.join(d, "job-sriov.yaml"))[0]
    job["spec"]["completions"] = "four"
    with open(bad, "w") as f:
        yaml.safe_dump(job, f)
    check(typed_roundtrip(kc, bad, tmp) is None, "kubectl typed decode refuses a wrong type")

    # run.sh's rendering, both variants, both report routes.
    scen = os.path.join(tmp, "scn.yaml")
    cm = load(os.path.join(d, "scenario-configmap.yaml"))[0]
    with open(scen, "w") as f:
        f.write(cm["data"]["scenario.yaml"])
    urls = os.path.join(tmp, "urls")
    os.makedirs(urls)
    for i in range(3):
        for m in ("put", "get"):
            with open(os.path.join(urls, f"shard-{i}.{m}"), "w") as f:
                f.write(f"https://store.stampede.test/r/shard-{i}.json?sig={m}\n")
    for f in ("merged.json.put", "merged.html.put"):
        with open(os.path.join(urls, f), "w") as fh:
            fh.write("https://store.stampede.test/r/x?sig=put\n")
    env = dict(kc.env, KUBECTL=kc.bin)
    for variant, reports in (("sriov", "pvc"), ("afpacket", "pvc"), ("sriov", "upload")):
        out = os.path.join(tmp, f"render-{variant}-{reports}")
        argv = [os.path.join(d, "run.sh"), "-N", "3", "-s", scen, "--start-at", "1796655600",
                "--run", "r7", "-i", "registry.stampede.test/stampede:9", "--variant", variant,
                "--reports", reports, "--render-only", out]
        if reports == "upload":
            argv += ["--upload-urls", urls]
        r = subprocess.run(kc.prefix + argv, env=env, capture_output=True, text=True, timeout=120)
        tag = f"run.sh --render-only ({variant}, {reports})"
        if not check(r.returncode == 0, f"{tag}: {r.stderr.strip()[:300]}"):
            continue
        job = load(os.path.join(out, "job.yaml"))[0]
        merge = load(os.path.join(out, "merge-job.yaml"))[0]
        c, spec = container(job, "stampede")
        e = env_of(c)
        check(job["spec"]["completions"] == job["spec"]["parallelism"] == 3 and
              e["STAMPEDE_SHARDS"]["value"] == "3", f"{tag}: N = 3 in all three places")
        check(e["STAMPEDE_START_AT"]["value"] == "2026-12-07T15:00:00Z", f"{tag}: the start time")
        check(e["STAMPEDE_RUN"]["value"] == "r7", f"{tag}: the run id")
        check(c["image"] == "registry.stampede.test/stampede:9", f"{tag}: the image")
        check(job["spec"]["backoffLimit"] == 0 and job["spec"]["completionMode"] == "Indexed"
              and spec["restartPolicy"] == "Never", f"{tag}: the Job's invariants kept")
        check(arg_after(c["args"], "--shard") == "$(JOB_COMPLETION_INDEX)/$(STAMPEDE_SHARDS)"
              and "JOB_COMPLETION_INDEX" in e, f"{tag}: the shard wiring kept")
        mc, mspec = container(merge)
        check(env_of(mc)["STAMPEDE_SHARDS"]["value"] == "3" and
              mc["image"] == c["image"], f"{tag}: the merge Job's N and image")
        vols = {v["name"]: v for v in spec["volumes"]}
        if reports == "upload":
            check("emptyDir" in vols["reports"] and "persistentVolumeClaim" not in vols["reports"]
                  and vols["upload"]["secret"]["secretName"] == "stampede-upload",
                  f"{tag}: reports on a scratch volume, URLs from the Secret")
            check("curl -fsS --retry 3 -T" in c["command"][2] and
                  "curl -fsS --retry 3 -o" in mc["command"][2], f"{tag}: shards put, merge gets")
            check(not any("subPathExpr" in m for m in c["volumeMounts"]),
                  f"{tag}: no run directory on a scratch volume")
        else:
            fetch = load(os.path.join(out, "fetch-pod.yaml"))[0]
            fc, _ = container(fetch)
            check(env_of(mc)["STAMPEDE_RUN"]["value"] == "r7" and
                  env_of(fc)["STAMPEDE_RUN"]["value"] == "r7", f"{tag}: merge and fetch on run r7")
        cmap = load(os.path.join(out, "scenario-configmap.yaml"))[0]
        check(cmap["metadata"]["name"] == "stampede-scenario" and
              cmap["data"]["scenario.yaml"] == cm["data"]["scenario.yaml"],
              f"{tag}: the scenario ConfigMap from the file")


def check_run_sh(d, tmp):
    rs = os.path.join(d, "run.sh")
    check(subprocess.run(["bash", "-n", rs]).returncode == 0, "run.sh: bash -n")
    with open(rs) as f:
        check("set -euo pipefail" in f.read(), "run.sh: set -euo pipefail")
    if shutil.which("shellcheck"):
        r = subprocess.run(["shellcheck", rs], capture_output=True, text=True)
        check(r.returncode == 0, f"run.sh: shellcheck\n{r.stdout}")
    else:
        print("SKIP: shellcheck not installed")
    scen = os.path.join(tmp, "s.yaml")
    with open(scen, "w") as f:
        f.write("target: http://198.18.0.2\n")
    # Refused before any kubectl: KUBECTL names one that fails loudly.
    for argv, why in ((["-N", "0", "-s", scen], "zero shards"),
                      (["-N", "2"], "no scenario"),
                      (["-N", "2", "-s", scen, "--variant", "dpdk"], "an unknown variant"),
                      (["-N", "2", "-s", scen, "--reports", "upload"], "upload without URLs"),
                      (["-N", "2", "-s", scen, "--start-at", "soon"], "a start that is no time"),
                      (["-N", "2", "-s", scen, "--bogus"], "an unknown option")):
        r = subprocess.run([rs] + argv, capture_output=True, text=True, timeout=60,
                           env={"PATH": "/usr/bin:/bin", "KUBECTL": "/bin/false"})
        check(r.returncode == 2 and r.stderr.startswith("run.sh: "),
              f"run.sh refuses {why} (exit {r.returncode}: {r.stderr.strip()})")


URL = re.compile(r"\b[a-z][a-z0-9+.-]*://([^/\s'\"`)]+)")


def check_urls(root, files):
    """The repository's network rule for hosts in URLs: a .test name, or an
    address of 198.18.0.0/15 (addr_scan checks the addresses themselves)."""
    for path in files:
        with open(path) as f:
            for no, line in enumerate(f, 1):
                for host in URL.findall(line):
                    host = host.rsplit("@", 1)[-1].split(":")[0].rstrip(".,;")
                    ok = (host.endswith(".test") or host.startswith("198.18.") or
                          host.startswith("198.19.") or host in ("HOST", "127.0.0.1") or
                          host.startswith("$"))
                    check(ok, f"{os.path.relpath(path, root)}:{no}: URL host {host}")


def main():
    stampede, root = sys.argv[1], sys.argv[2]
    d = os.path.join(root, "deploy", "kubernetes")
    tmp = tempfile.mkdtemp(prefix="sp-k8s-")
    try:
        docs = {}
        for path in sorted(glob.glob(os.path.join(d, "*.yaml"))):
            base = os.path.basename(path)
            with open(path) as f:
                check(f.readline().startswith("#"), f"{base}: begins with a comment for the user")
            try:
                docs[base] = load(path)
            except yaml.YAMLError as e:
                check(False, f"{base}: {e}")
                continue
            for o in docs[base]:
                if base == "kustomization.yaml":
                    continue
                check(all(k in o for k in ("apiVersion", "kind", "metadata")) and
                      o["metadata"].get("name"), f"{base}: apiVersion, kind, metadata.name")
        one = {b: v[0] for b, v in docs.items() if v}
        nads = {o["metadata"]["name"]: o for o in one.values()
                if o.get("kind") == "NetworkAttachmentDefinition"}
        pvc, cm = one["reports-pvc.yaml"], one["scenario-configmap.yaml"]
        check("ReadWriteMany" in pvc["spec"]["accessModes"], "reports-pvc.yaml: ReadWriteMany")
        for o in nads.values():
            check('"ipam": {}' in o["spec"]["config"], f"NAD {o['metadata']['name']}: no IPAM")
        shard_jobs = {b: one[b] for b in ("job-sriov.yaml", "job-afpacket.yaml")}
        ns = {b: check_shard_job(b, j, nads, pvc, cm) for b, j in shard_jobs.items()}
        check(len(set(ns.values())) == 1, f"both shard Jobs have one N: {ns}")
        wrappers = {b: container(j, "stampede")[0]["command"] for b, j in shard_jobs.items()}
        check(wrappers["job-sriov.yaml"] == wrappers["job-afpacket.yaml"],
              "both shard Jobs run the same wrapper")
        cmd = wrappers["job-sriov.yaml"]
        check(cmd[:2] == ["/bin/sh", "-c"] and len(cmd) == 4, "the wrapper is sh -c SCRIPT NAME")
        check_wrapper("shard wrapper", cmd[2], os.path.join(tmp, "w1"))
        up = one["reports-upload-patch.yaml"]
        upc = up["spec"]["template"]["spec"]["containers"][0]
        check(upc["command"][2].startswith(cmd[2][:cmd[2].rindex('exit "$rc"')]),
              "the upload patch's wrapper begins as the shards'")
        check_wrapper("upload wrapper", upc["command"][2].replace(
            'if [ -s "$report" ]', 'if false'), os.path.join(tmp, "w2"))
        check_merge(one["merge-job.yaml"], shard_jobs, ns["job-sriov.yaml"], pvc,
                    os.path.join(tmp, "m"))
        # The example scenario validates.
        scen = os.path.join(tmp, "scenario.yaml")
        with open(scen, "w") as f:
            f.write(cm["data"]["scenario.yaml"])
        r = subprocess.run([stampede, "validate", scen], capture_output=True, text=True)
        check(r.returncode == 0, f"stampede validate of the ConfigMap's scenario: {r.stderr.strip()}")
        # kustomization.yaml names files that exist, the commented ones too.
        with open(os.path.join(d, "kustomization.yaml")) as f:
            named = re.findall(r"^\s*#?\s*-\s+(\S+\.yaml)\s*$", f.read(), re.M)
        check(len(named) >= 7 and all(os.path.exists(os.path.join(d, n)) for n in named),
              f"kustomization.yaml names existing files: {named}")
        with open(os.path.join(root, "deploy", "container", "Dockerfile")) as f:
            df = f.read()
        check(df.count("FROM debian:12") == 2 and "tools/install-deps --build-only" in df
              and "meson setup build" in df, "Dockerfile: Debian 12, install-deps, meson")
        check_run_sh(d, tmp)
        check_urls(root, [p for p in glob.glob(os.path.join(root, "deploy", "**", "*"),
                                               recursive=True) + [os.path.join(root, "docs",
                                                                               "distributed.md")]
                          if os.path.isfile(p)])
        kc = Kubectl(tmp)
        if kc.bin:
            check_kubectl(kc, root, d, os.path.join(tmp, "kc"), stampede)
        else:
            print("SKIP: no kubectl (tools/install-deps installs Debian's kubernetes-client)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{CHECKS - len(FAILS)} passed, {len(FAILS)} failed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
