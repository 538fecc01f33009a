#!/usr/bin/env python3
"""deploy.manifests: the deployment files cannot drift from each other or from the code.

Reads deploy/Dockerfile, deploy/compose.yaml, deploy/.env.example, deploy/k8s/*.yaml,
deploy/overleg.conf.example and signaling/config.c, and checks that
  - the Kubernetes manifests are valid YAML with the fields issue 7 requires (probes on /readyz
    and /healthz, a grace period that matches the drain time, a restricted securityContext,
    resources, Services for TCP and UDP, Secret, ConfigMap, PVC, every reference resolvable);
  - compose, Kubernetes and the Dockerfile name the same ports (EXPOSE) and only OVERLEG_*
    variables that the configuration documentation defines (OVERLEG_<KEY> for each key of
    deploy/overleg.conf.example), and that documentation names the keys the code parses;
  - compose and .env.example name the same knobs, and the optional coturn service shares
    Overleg's TURN secret.
Python 3 standard library only (YAML through yaml_subset.py). Prints one line per check;
exits 1 if any check fails.

  check_manifests.py [--root REPO]          check the tree
  check_manifests.py --self-test [--root]   break a copy of the files in known ways and check
                                            that each break is caught
"""

import argparse
import os
import re
import shlex
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from yaml_subset import YamlError, load_all  # noqa: E402

# OVERLEG_* variables the manifests may name before the configuration documents them: the media
# relay (issue 4) reads them. Allowed only while deploy/overleg.conf.example has no media key yet;
# once the relay's keys land there, each of these must be documented too, or the check fails.
PENDING = {"OVERLEG_PUBLIC_IP": "the public media address, read by the media relay (issue 4)"}
MEDIA_KEY = re.compile(r"media|udp|rtc|relay|public_ip|worker")
MEDIA_PORT_KEY = re.compile(r"^(media|udp|rtc|relay)\w*port\w*$|^\w*port\w*(media|udp|rtc)\w*$")


class Report:
    def __init__(self, quiet=False):
        self.fails, self.oks, self.pending, self.quiet = [], 0, 0, quiet

    def _out(self, tag, msg):
        if not self.quiet:
            print(f"{tag:8} {msg}")

    def check(self, cond, msg, why=""):
        if cond:
            self.oks += 1
            self._out("ok", msg)
        else:
            self.fails.append(msg + (f": {why}" if why else ""))
            self._out("FAIL", msg + (f": {why}" if why else ""))
        return cond

    def fail(self, msg):
        return self.check(False, msg)

    def note(self, msg):
        self._out("NOTE", msg)

    def pend(self, msg):
        self.pending += 1
        self._out("PENDING", msg)


def read(root, rel):
    path = os.path.join(root, rel)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return f.read()


def duration(s):
    """Seconds of '10s', '2m', '1h30m', '15' (compose and overleg.conf spellings); None if bad."""
    if isinstance(s, (int, float)) and not isinstance(s, bool):
        return float(s)
    if not isinstance(s, str) or not s:
        return None
    total, pos = 0.0, 0
    for m in re.finditer(r"([0-9.]+)(ms|us|s|m|h|d)?", s):
        if m.start() != pos:
            return None
        unit = {"ms": 0.001, "us": 1e-6, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}[m.group(2)]
        total += float(m.group(1)) * unit
        pos = m.end()
    return total if pos == len(s) else None


def env_name(key):
    return "OVERLEG_" + key.upper()


def port_set(specs):
    """{(port, 'tcp'|'udp')} from '8443/tcp', '10000-10007/udp', (port, proto) pairs."""
    out = set()
    for spec in specs:
        if isinstance(spec, tuple):
            out.add((int(spec[0]), spec[1].lower()))
            continue
        num, _, proto = str(spec).partition("/")
        lo, _, hi = num.partition("-")
        for p in range(int(lo), int(hi or lo) + 1):
            out.add((p, (proto or "tcp").lower()))
    return out


def fmt_ports(ports):
    return ", ".join(f"{p}/{t}" for p, t in sorted(ports, key=lambda x: (x[1], x[0])))


def listen_port(listen):
    first = str(listen).split(",")[0].strip()
    m = re.search(r":([0-9]+)$", first)
    return int(m.group(1)) if m else None


# --- Dockerfile -------------------------------------------------------------------------------


def parse_dockerfile(text):
    """Stages as lists of (line number, INSTRUCTION, arguments), with continuations joined."""
    stages, args, cur, buf, start = [], {}, None, "", 0
    for n, line in enumerate(text.split("\n"), 1):
        s = line.strip()
        if not buf and (not s or s.startswith("#")):
            continue
        if buf and s.startswith("#"):
            continue
        if not buf:
            start = n
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        buf += s
        instr, _, rest = buf.partition(" ")
        instr, rest, buf = instr.upper(), rest.strip(), ""
        if instr == "FROM":
            cur = []
            stages.append(cur)
        if instr == "ARG" and cur is None:
            k, _, v = rest.partition("=")
            args[k.strip()] = v.strip()
        if cur is not None:
            cur.append((start, instr, rest))
    return stages, args


def dockerfile_env(stage):
    env = {}
    for _, instr, rest in stage:
        if instr != "ENV":
            continue
        toks = shlex.split(rest)
        if toks and "=" not in toks[0]:
            env[toks[0]] = " ".join(toks[1:])
        else:
            for t in toks:
                k, _, v = t.partition("=")
                env[k] = v
    return env


def check_dockerfile(root, r, ctx):
    text = read(root, "deploy/Dockerfile")
    if not r.check(text is not None, "deploy/Dockerfile exists"):
        return False
    stages, args = parse_dockerfile(text)
    r.check(len(stages) >= 2, "Dockerfile is multi-stage (a build stage and a runtime stage)")
    final = stages[-1] if stages else []
    base = final[0][2].split()[0] if final else ""
    base = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), base)
    r.check(base == "debian:bookworm-slim", "runtime stage is FROM debian:bookworm-slim", f"got {base!r}")
    build_runs = " ".join(rest for st in stages[:-1] for _, i, rest in st if i == "RUN")
    r.check("deploy/install-deps.sh" in build_runs, "build stage installs its packages with deploy/install-deps.sh")
    final_runs = " ".join(rest for _, i, rest in final if i == "RUN")
    bad = re.findall(r"\b(build-essential|gcc|g\+\+|clang|cmake|[\w.+-]+-dev)\b", final_runs)
    r.check(not bad, "runtime stage installs no compiler and no -dev package", f"found {bad}")

    instrs = {}
    for n, i, rest in final:
        instrs.setdefault(i, []).append(rest)
    env = dockerfile_env(final)
    ctx["docker_env"] = env
    user = (instrs.get("USER") or [""])[-1]
    uid = user.split(":")[0]
    r.check(uid.isdigit() and int(uid) != 0, "runtime stage runs as a numeric non-root USER", f"USER {user!r}")
    ctx["uid"] = int(uid) if uid.isdigit() else None
    expose = []
    for rest in instrs.get("EXPOSE", []):
        expose += rest.split()
    ctx["ports"] = port_set(expose)
    tcp = sorted(p for p, t in ctx["ports"] if t == "tcp")
    udp = sorted(p for p, t in ctx["ports"] if t == "udp")
    r.check(len(tcp) == 1 and udp, "EXPOSE names one TCP port and a UDP range", fmt_ports(ctx["ports"]))
    ctx["tcp"] = tcp[0] if tcp else None
    ctx["udp"] = udp
    r.check(listen_port(env.get("OVERLEG_LISTEN", "")) == ctx["tcp"],
            "Dockerfile OVERLEG_LISTEN listens on the EXPOSEd TCP port",
            f"OVERLEG_LISTEN={env.get('OVERLEG_LISTEN')!r}, EXPOSE {fmt_ports(ctx['ports'])}")
    data_dir = env.get("OVERLEG_DATA_DIR")
    ctx["data_dir"] = data_dir
    volumes = " ".join(instrs.get("VOLUME", []))
    r.check(data_dir and data_dir in volumes, "the data directory (OVERLEG_DATA_DIR) is a VOLUME",
            f"OVERLEG_DATA_DIR={data_dir!r}, VOLUME {volumes!r}")
    hc = " ".join(instrs.get("HEALTHCHECK", []))
    r.check("CMD" in hc and "NONE" not in hc.upper().split(), "runtime stage has a HEALTHCHECK")
    ctx["healthcheck"] = hc
    r.check(instrs.get("STOPSIGNAL", [""])[-1] == "SIGTERM", "STOPSIGNAL SIGTERM")
    secrets = [k for k in env if k in ("OVERLEG_API_KEY", "OVERLEG_TURN_SECRET") or re.search(r"PASSWORD|TOKEN", k)]
    arg_secrets = [rest for st in stages for _, i, rest in st if i == "ARG" and re.search(r"(?i)secret|password|api_key|token", rest)]
    r.check(not secrets and not arg_secrets, "the image carries no secret (no API key, TURN secret or password in ENV/ARG)",
            f"{secrets + arg_secrets}")
    copies = " ".join(rest for _, i, rest in final if i in ("COPY", "ADD") and "--from=" not in rest)
    r.check(not re.search(r"overleg-data|secret\.key|\.pem\b|\.env\b", copies),
            "runtime stage copies no data directory, key or certificate from the context", copies)
    for k in env:
        ctx["vars"].setdefault(k, []).append("deploy/Dockerfile ENV")
    return True


# --- configuration documentation and code -------------------------------------------------------


def check_config(root, r, ctx):
    text = read(root, "deploy/overleg.conf.example")
    code = read(root, "signaling/config.c")
    ctx["keys"] = None
    if text is None:
        if code is not None:
            r.fail("deploy/overleg.conf.example exists (signaling/config.c does: the keys must be documented)")
        else:
            r.note("deploy/overleg.conf.example and signaling/config.c not in this tree yet: "
                   "OVERLEG_* names and the listen port are not checked against them")
        return
    keys = {}
    for line in text.split("\n"):
        m = re.match(r"^#?\s*([a-z][a-z0-9_]*)\s*=\s*(.*?)\s*$", line)
        if m:
            keys[m.group(1)] = m.group(2).strip('"')
    ctx["keys"] = keys
    r.check(keys, "deploy/overleg.conf.example documents its keys", "no 'key = value' lines found")
    if code is not None:
        code_keys = set(re.findall(r"^\s*K\((\w+),", code, re.M))
        r.check(code_keys == set(keys), "overleg.conf.example documents exactly the keys signaling/config.c parses",
                f"undocumented {sorted(code_keys - set(keys))}, unknown to the code {sorted(set(keys) - code_keys)}")
    else:
        r.note("signaling/config.c not in this tree: the documented keys are not checked against the code")
    if "listen" in keys and ctx.get("tcp"):
        r.check(listen_port(keys["listen"]) == ctx["tcp"], "the documented default listen port is the EXPOSEd TCP port",
                f"listen = {keys['listen']}, EXPOSE {ctx['tcp']}/tcp")
    media = sorted(k for k in keys if MEDIA_KEY.search(k))
    ctx["media_keys"] = media
    port_keys = [k for k in keys if MEDIA_PORT_KEY.match(k)]
    if port_keys and ctx.get("udp"):
        for k in port_keys:
            v = keys[k]
            r.check(v.isdigit() and int(v) == ctx["udp"][0], f"documented {k} is the first EXPOSEd UDP port",
                    f"{k} = {v!r}, EXPOSE {ctx['udp'][0]}-{ctx['udp'][-1]}/udp")
    elif not media:
        r.note("no media (UDP) key in overleg.conf.example yet: the UDP range is taken from the Dockerfile alone")


def check_vars(r, ctx):
    """Every OVERLEG_* name a manifest sets is a documented configuration key."""
    keys = ctx.get("keys")
    known = {env_name(k) for k in keys} if keys is not None else None
    for var, where in sorted(ctx["vars"].items()):
        places = ", ".join(sorted(set(where)))
        if known is None:
            continue
        if var in known:
            r.check(True, f"{var} ({places}) is a documented key")
        elif var in PENDING and not ctx.get("media_keys"):
            r.pend(f"{var} ({places}): {PENDING[var]}; not in overleg.conf.example until the relay lands "
                   f"(this check fails once media keys appear there without it)")
        else:
            r.fail(f"{var} ({places}) is not OVERLEG_<key> of any key in deploy/overleg.conf.example")


# --- compose ----------------------------------------------------------------------------------


_VAR = re.compile(r"\$(?:\{(\w+)(?:(:?[-?])([^}]*))?\}|(\w+)|(\$))")


def compose_vars(s):
    return {m.group(1) or m.group(4) for m in _VAR.finditer(s) if not m.group(5)}


def deep_vars(node):
    """Variables interpolated anywhere in a parsed compose file (keys and values, not comments)."""
    if isinstance(node, dict):
        return set().union(set(), *(compose_vars(str(k)) | deep_vars(v) for k, v in node.items()))
    if isinstance(node, list):
        return set().union(set(), *(deep_vars(v) for v in node))
    return compose_vars(node) if isinstance(node, str) else set()


def interpolate(s, env):
    def sub(m):
        if m.group(5):
            return "$"
        name, op, arg = m.group(1) or m.group(4), m.group(2), m.group(3)
        val = env.get(name)
        if op in (":-", ":?") and not val or op in ("-", "?") and val is None:
            return arg if op.endswith("-") else (val or "REQUIRED")
        return val or ""

    return _VAR.sub(sub, s) if isinstance(s, str) else s


def deep_interpolate(node, env):
    if isinstance(node, dict):
        return {k: deep_interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [deep_interpolate(v, env) for v in node]
    return interpolate(node, env)


def parse_env_file(text):
    out = {}
    for line in text.split("\n"):
        s = line.strip()
        if s and not s.startswith("#") and "=" in s:
            k, _, v = s.partition("=")
            out[k.strip()] = v.strip().strip('"').strip("'")
    return out


def compose_ports(entries):
    """[(host_ip, host_port_spec, container_port_spec, proto)] from short or long syntax."""
    out = []
    for e in entries or []:
        if isinstance(e, dict):
            out.append((e.get("host_ip", ""), str(e.get("published", "")), str(e["target"]), e.get("protocol", "tcp")))
            continue
        spec, _, proto = str(e).partition("/")
        m = re.match(r"^(?:(\[[^\]]*\]|[^:\[]*):)?(?:([0-9-]+):)?([0-9-]+)$", spec)
        if not m:
            out.append(("?", "?", spec, proto or "tcp"))
            continue
        out.append((m.group(1) or "", m.group(2) or "", m.group(3), proto or "tcp"))
    return out


def check_compose(root, r, ctx):
    text = read(root, "deploy/compose.yaml")
    envtext = read(root, "deploy/.env.example")
    if not r.check(text is not None, "deploy/compose.yaml exists"):
        return
    try:
        docs = load_all(text, "deploy/compose.yaml")
    except YamlError as e:
        r.fail(f"deploy/compose.yaml is valid YAML: {e}")
        return
    r.check(len(docs) == 1 and isinstance(docs[0], dict), "deploy/compose.yaml is one YAML mapping")
    raw = docs[0]
    r.check(envtext is not None, "deploy/.env.example exists")
    dotenv = parse_env_file(envtext or "")
    used = deep_vars(raw)
    r.check(used <= set(dotenv), "every variable compose.yaml uses is set in .env.example",
            f"missing {sorted(used - set(dotenv))}")
    own = {k for k in dotenv if k.startswith("COMPOSE_")}  # compose's own settings
    r.check(set(dotenv) - own <= used, "every variable .env.example sets is used by compose.yaml",
            f"unused {sorted(set(dotenv) - own - used)}")
    doc = deep_interpolate(raw, dotenv)
    services = doc.get("services") or {}
    svc = services.get("overleg")
    if not r.check(isinstance(svc, dict), "compose.yaml has a service 'overleg'"):
        return
    rawsvc = raw["services"]["overleg"]

    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.partition("=")[::2] for e in env)
    for k in env:
        if k.startswith("OVERLEG_"):
            ctx["vars"].setdefault(k, []).append("compose.yaml")

    ports = compose_ports(svc.get("ports"))
    cports = set()
    for ip, host, cont, proto in ports:
        cports |= port_set([f"{cont}/{proto}"])
        if proto == "udp":
            r.check(host == cont, f"compose publishes UDP {cont} on the same host ports",
                    f"host {host}: the relay announces the port it binds")
    r.check(cports == ctx["ports"], "compose publishes exactly the Dockerfile's EXPOSEd ports",
            f"compose {fmt_ports(cports)}; Dockerfile {fmt_ports(ctx['ports'])}")
    tcp_host = [host for ip, host, cont, proto in ports if proto == "tcp" and cont == str(ctx["tcp"])]
    if "OVERLEG_PUBLIC_PORT" in env:
        r.check(tcp_host and str(env["OVERLEG_PUBLIC_PORT"]) == tcp_host[0],
                "compose OVERLEG_PUBLIC_PORT (the port in links) is the published HTTPS port",
                f"{env['OVERLEG_PUBLIC_PORT']} vs {tcp_host}")

    user = str(svc.get("user", ""))
    r.check(user.split(":")[0] == str(ctx.get("uid")), "compose runs the image's non-root user", f"user {user!r}")
    r.check(svc.get("read_only") is True, "compose runs overleg with a read-only root filesystem")
    r.check("ALL" in (svc.get("cap_drop") or []), "compose drops ALL capabilities")
    r.check(any(str(o).startswith("no-new-privileges") and not str(o).endswith("false")
                for o in svc.get("security_opt") or []), "compose sets no-new-privileges")
    vols = [str(v) for v in svc.get("volumes") or []]
    r.check(any(v.split(":")[1:2] == [ctx.get("data_dir")] for v in vols),
            f"compose mounts a volume on the data directory {ctx.get('data_dir')}", f"{vols}")
    hc = svc.get("healthcheck") or {}
    test = hc.get("test")
    r.check(test and test != ["NONE"] and not hc.get("disable"), "compose has a health check")
    drain = duration(env.get("OVERLEG_DRAIN_TIME") or ctx["docker_env"].get("OVERLEG_DRAIN_TIME")
                     or (ctx.get("keys") or {}).get("drain_time") or "10s")
    grace = duration(svc.get("stop_grace_period", "10s"))
    r.check(grace is not None and drain is not None and drain < grace <= drain + 30,
            "compose stop_grace_period is a little longer than the drain time",
            f"stop_grace_period {svc.get('stop_grace_period')!r}, drain {drain}s")
    sig = svc.get("stop_signal", "SIGTERM")
    r.check(sig == "SIGTERM", "compose stops overleg with SIGTERM")

    turn = services.get("coturn")
    if turn is None:
        r.note("compose.yaml has no coturn service (TURN built into overleg?)")
        return
    rawturn = raw["services"]["coturn"]
    r.check(turn.get("profiles") == ["turn"], "coturn runs only with the optional profile 'turn'")
    cmd = turn.get("command") or []
    cmd = shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]
    r.check("--use-auth-secret" in cmd or "use-auth-secret" in cmd, "coturn uses use-auth-secret (TURN REST credentials)")
    rawcmd = rawturn.get("command") or []
    rawcmd = rawcmd if isinstance(rawcmd, list) else shlex.split(rawcmd)
    turn_secret_vars = set()
    for c in rawcmd:
        if str(c).lstrip("-").startswith("static-auth-secret"):
            turn_secret_vars |= compose_vars(str(c))
    ov_secret_vars = compose_vars(str((rawsvc.get("environment") or {}).get("OVERLEG_TURN_SECRET", "")))
    r.check(turn_secret_vars and turn_secret_vars == ov_secret_vars,
            "coturn's static-auth-secret and overleg's OVERLEG_TURN_SECRET come from the same variable",
            f"coturn {sorted(turn_secret_vars)}, overleg {sorted(ov_secret_vars)}")
    r.check(any(str(c).startswith("--denied-peer-ip=0.0.0.0") for c in cmd)
            and any(str(c).startswith("--allowed-peer-ip=") for c in cmd),
            "coturn relays only to the allowed peer (Overleg's media address)")


# --- Kubernetes ---------------------------------------------------------------------------------


def k8s_docs(root, r):
    folder = os.path.join(root, "deploy/k8s")
    out = []
    if not r.check(os.path.isdir(folder), "deploy/k8s/ exists"):
        return out
    for name in sorted(os.listdir(folder)):
        if not name.endswith((".yaml", ".yml")):
            continue
        rel = f"deploy/k8s/{name}"
        try:
            docs = load_all(read(root, rel), rel)
        except YamlError as e:
            r.fail(f"{rel} is valid YAML: {e}")
            continue
        ok = True
        for i, d in enumerate(docs):
            where = f"{rel}#{i + 1}"
            if not isinstance(d, dict):
                ok = r.check(False, f"{where} is a mapping")
                continue
            kind = d.get("kind")
            needs_name = kind != "Kustomization"
            good = bool(d.get("apiVersion")) and bool(kind) and (
                not needs_name or bool((d.get("metadata") or {}).get("name")))
            ok &= r.check(good, f"{where} ({kind}) has apiVersion, kind and metadata.name")
            out.append((name, d))
        if ok:
            r.check(True, f"{rel} is valid YAML ({len(docs)} document{'s' if len(docs) != 1 else ''})")
    return out


def get(d, *path, default=None):
    for p in path:
        if isinstance(d, dict) and p in d:
            d = d[p]
        elif isinstance(d, list) and isinstance(p, int) and p < len(d):
            d = d[p]
        else:
            return default
    return d


def parse_conf(text):
    out = {}
    for line in (text or "").split("\n"):
        s = line.strip()
        if s and not s.startswith("#") and "=" in s:
            k, _, v = s.partition("=")
            out[k.strip()] = v.strip().strip('"')
    return out


def check_k8s(root, r, ctx):
    docs = k8s_docs(root, r)
    if not docs:
        return
    by_kind = {}
    for fname, d in docs:
        by_kind.setdefault(d["kind"], []).append((fname, d))
    names = {(d["kind"], get(d, "metadata", "name")) for _, d in docs}
    ns = [get(d, "metadata", "name") for _, d in by_kind.get("Namespace", [])]
    if ns:
        for fname, d in docs:
            if d["kind"] not in ("Namespace", "Kustomization"):
                r.check(get(d, "metadata", "namespace") == ns[0], f"{fname}: {d['kind']} is in namespace {ns[0]}")
        r.check(get(by_kind["Namespace"][0][1], "metadata", "labels", "pod-security.kubernetes.io/enforce") == "restricted",
                "the namespace enforces the 'restricted' Pod Security Standard")

    workloads = by_kind.get("Deployment", []) + by_kind.get("StatefulSet", [])
    if not r.check(len(workloads) == 1, "one Deployment or StatefulSet runs overleg"):
        return
    wfile, w = workloads[0]
    pod = get(w, "spec", "template", "spec") or {}
    containers = pod.get("containers") or []
    c = next((c for c in containers if c.get("name") == "overleg"), containers[0] if containers else {})
    r.check(bool(c.get("image")), f"{wfile}: the overleg container names an image")
    psc, csc = pod.get("securityContext") or {}, c.get("securityContext") or {}

    def sc(key):
        return csc.get(key, psc.get(key))

    r.check(sc("runAsNonRoot") is True, f"{wfile}: runAsNonRoot: true")
    uid = sc("runAsUser")
    r.check(uid is None or uid == ctx.get("uid"), f"{wfile}: runAsUser is the image's USER", f"{uid} vs {ctx.get('uid')}")
    r.check(csc.get("readOnlyRootFilesystem") is True, f"{wfile}: readOnlyRootFilesystem: true")
    r.check(csc.get("allowPrivilegeEscalation") is False, f"{wfile}: allowPrivilegeEscalation: false")
    r.check("ALL" in (get(csc, "capabilities", "drop") or []) and not get(csc, "capabilities", "add"),
            f"{wfile}: drops ALL capabilities and adds none")
    seccomp = get(csc, "seccompProfile", "type") or get(psc, "seccompProfile", "type")
    r.check(seccomp in ("RuntimeDefault", "Localhost"), f"{wfile}: seccompProfile RuntimeDefault (restricted)")
    r.check(not csc.get("privileged") and not pod.get("hostNetwork") and not pod.get("hostPID"),
            f"{wfile}: not privileged, no host network or PID namespace (restricted)")
    res = c.get("resources") or {}
    r.check(all(get(res, a, b) for a in ("requests", "limits") for b in ("cpu", "memory")),
            f"{wfile}: resource requests and limits for cpu and memory")
    svc_names = [get(d, "metadata", "name") for _, d in by_kind.get("Service", [])]
    if any(n.upper().replace("-", "_").startswith("OVERLEG") for n in svc_names):
        r.check(pod.get("enableServiceLinks") is False,
                f"{wfile}: enableServiceLinks: false (a Service named overleg would inject OVERLEG_* variables)")

    cports = {}
    for p in c.get("ports") or []:
        cports[p.get("name") or str(p["containerPort"])] = (int(p["containerPort"]), (p.get("protocol") or "TCP").lower())
    r.check(set(cports.values()) == ctx["ports"], f"{wfile}: containerPorts are the Dockerfile's EXPOSEd ports",
            f"{fmt_ports(set(cports.values()))} vs {fmt_ports(ctx['ports'])}")

    def resolve(port):
        return cports[port][0] if isinstance(port, str) and port in cports else port

    # Configuration: ConfigMap file, environment, drain time.
    mounts = c.get("volumeMounts") or []
    vols = {v.get("name"): v for v in pod.get("volumes") or []}
    conf = {}
    cargs = [str(a) for a in (c.get("command") or []) + (c.get("args") or [])]
    if "--config" in cargs and cargs.index("--config") + 1 < len(cargs):
        path = cargs[cargs.index("--config") + 1]
        found = None
        for m in mounts:
            v = vols.get(m.get("name")) or {}
            cm = get(v, "configMap", "name")
            if not cm:
                continue
            mp = m.get("mountPath", "")
            key = m.get("subPath") if mp == path else (path[len(mp) + 1:] if path.startswith(mp + "/") else None)
            if key:
                found = (cm, key)
        if r.check(found is not None, f"{wfile}: --config {path} is a mounted ConfigMap key"):
            cmdoc = next((d for _, d in by_kind.get("ConfigMap", []) if get(d, "metadata", "name") == found[0]), None)
            text = get(cmdoc, "data", found[1])
            if r.check(isinstance(text, str), f"ConfigMap {found[0]} has key {found[1]}"):
                conf = parse_conf(text)
                for k in conf:
                    ctx["vars"].setdefault(env_name(k), []).append(f"k8s ConfigMap {found[0]} (key {k})")
    env = {}
    for e in c.get("env") or []:
        env[e["name"]] = e.get("value")
        if e["name"].startswith("OVERLEG_"):
            ctx["vars"].setdefault(e["name"], []).append(f"k8s {wfile} env")
        ref = get(e, "valueFrom", "secretKeyRef")
        if ref:
            sec = next((d for _, d in by_kind.get("Secret", []) if get(d, "metadata", "name") == ref.get("name")), None)
            keys = set((sec or {}).get("data") or {}) | set((sec or {}).get("stringData") or {})
            r.check(ref.get("key") in keys, f"{wfile}: env {e['name']} reads key {ref.get('key')} of Secret {ref.get('name')}",
                    "no such Secret or key in deploy/k8s")

    def setting(key):
        return env.get(env_name(key)) or conf.get(key) or ctx["docker_env"].get(env_name(key)) or (ctx.get("keys") or {}).get(key)

    lp = listen_port(setting("listen") or "")
    r.check(lp == ctx["tcp"], f"{wfile}: overleg listens on the EXPOSEd TCP port", f"listen port {lp}")
    data_dir = setting("data_dir")
    data_mounts = [m for m in mounts if m.get("mountPath") == data_dir]
    pvc = get(vols.get(data_mounts[0]["name"]) if data_mounts else {}, "persistentVolumeClaim", "claimName")
    tmpl = [get(t, "metadata", "name") for t in get(w, "spec", "volumeClaimTemplates", default=[])]
    r.check(bool(pvc) or (data_mounts and data_mounts[0]["name"] in tmpl),
            f"{wfile}: the data directory {data_dir} is a PersistentVolumeClaim")
    drain = duration(setting("drain_time") or "10s")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    r.check(drain is not None and drain < grace <= drain + 30,
            f"{wfile}: terminationGracePeriodSeconds ({grace}) is a little longer than drain_time ({drain}s)")

    # Probes.
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        hg = get(c, probe, "httpGet") or {}
        r.check(hg.get("path") == path and str(hg.get("scheme", "HTTP")).upper() == "HTTPS"
                and resolve(hg.get("port")) == ctx["tcp"],
                f"{wfile}: {probe} is HTTPS GET {path} on port {ctx['tcp']}", f"{hg}")

    # References from volumes resolve (or are documented as made outside these files).
    readme = read(root, "deploy/README.md") or ""
    for v in vols.values():
        for kind, field, key in (("PersistentVolumeClaim", "persistentVolumeClaim", "claimName"),
                                 ("ConfigMap", "configMap", "name"), ("Secret", "secret", "secretName")):
            ref = get(v, field, key)
            if ref and not get(v, field, "optional"):
                r.check((kind, ref) in names or (kind == "Secret" and ref in readme),
                        f"{wfile}: volume {v['name']} uses {kind} {ref}, defined in deploy/k8s or explained in deploy/README.md")
    for kind in ("Secret", "ConfigMap"):
        r.check(kind in by_kind, f"deploy/k8s has a {kind}")
    r.check("PersistentVolumeClaim" in by_kind or tmpl, "deploy/k8s has a PersistentVolumeClaim")

    # Services: every EXPOSEd port reachable, TCP and UDP, UDP ports unchanged, selector matches.
    labels = get(w, "spec", "template", "metadata", "labels") or {}
    sports = set()
    for fname, s in by_kind.get("Service", []):
        sel = get(s, "spec", "selector") or {}
        r.check(sel and all(labels.get(k) == v for k, v in sel.items()), f"{fname}: Service selects the overleg pod")
        for p in get(s, "spec", "ports", default=[]):
            proto = (p.get("protocol") or "TCP").lower()
            target = resolve(p.get("targetPort", p.get("port")))
            sports.add((target, proto))
            if proto == "udp":
                r.check(p.get("port") == target and not p.get("nodePort"),
                        f"{fname}: UDP {target} keeps its port number on the way in", f"{p}")
    r.check(sports == ctx["ports"], "the Services reach exactly the EXPOSEd ports",
            f"{fmt_ports(sports)} vs {fmt_ports(ctx['ports'])}")

    # Kustomization lists every manifest but Secret templates.
    for fname, k in by_kind.get("Kustomization", []):
        res = k.get("resources") or []
        r.check(all(os.path.exists(os.path.join(root, "deploy/k8s", x)) for x in res), f"{fname}: every resource exists")
        files = {f for f, d in docs if d["kind"] != "Kustomization"}
        secret_only = {f for f in files if all(d["kind"] == "Secret" for g, d in docs if g == f)}
        r.check(files - secret_only <= set(res), f"{fname} lists every manifest (Secret templates aside)",
                f"missing {sorted(files - secret_only - set(res))}")


def run(root, quiet=False):
    r = Report(quiet)
    ctx = {"vars": {}}
    if check_dockerfile(root, r, ctx) and ctx.get("tcp"):
        check_config(root, r, ctx)
        check_compose(root, r, ctx)
        check_k8s(root, r, ctx)
        check_vars(r, ctx)
    return r


# --- self-test: each break below must be caught ---------------------------------------------------

CONF = "deploy/overleg.conf.example"
CODE = "signaling/config.c"
DEP = "deploy/k8s/deployment.yaml"
# (what, [(file, old text, new text), ...], words the failure must contain). A break is caught when
# a FAIL line contains the words: the right check, not just any check, must notice it.
BREAKS = [
    ("compose UDP range", [("deploy/compose.yaml", "10000-10007:10000-10007/udp", "10000-10006:10000-10006/udp")],
     "compose publishes exactly"),
    ("compose UDP remapped", [("deploy/compose.yaml", "10000-10007:10000-10007/udp", "20000-20007:10000-10007/udp")],
     "same host ports"),
    ("Dockerfile TCP port", [("deploy/Dockerfile", "EXPOSE 8443/tcp", "EXPOSE 8444/tcp")], "EXPOSEd TCP port"),
    ("compose variable typo", [("deploy/compose.yaml", "      OVERLEG_LOG_FORMAT:", "      OVERLEG_LOG_FROMAT:"), (CONF,)],
     "OVERLEG_LOG_FROMAT"),
    ("compose writable root", [("deploy/compose.yaml", "    read_only: true\n    tmpfs:\n      - /tmp", "    tmpfs:\n      - /tmp")],
     "read-only root"),
    ("compose grace shorter than drain", [("deploy/compose.yaml", "stop_grace_period: 15s", "stop_grace_period: 5s")],
     "stop_grace_period"),
    ("coturn secret from another variable", [("deploy/compose.yaml", "--static-auth-secret=${OVERLEG_TURN_SECRET:-}",
                                              "--static-auth-secret=${OVERLEG_API_KEY:-}")], "same variable"),
    ("coturn without use-auth-secret", [("deploy/compose.yaml", "      - --use-auth-secret\n", "")], "use-auth-secret"),
    ("coturn always on", [("deploy/compose.yaml", '    profiles: ["turn"]\n', "")], "profile 'turn'"),
    (".env.example lacks a compose variable", [("deploy/.env.example", "TURN_TLS_PORT=443\n", "")], "TURN_TLS_PORT"),
    (".env.example has a dead variable", [("deploy/.env.example", "TURN_TLS_PORT=443\n", "TURN_TLS_PORT=443\nTURN_X=1\n")],
     "TURN_X"),
    ("Dockerfile root user", [("deploy/Dockerfile", "USER 10001:10001", "USER root")], "non-root USER"),
    ("secret baked into the image", [("deploy/Dockerfile", "    OVERLEG_DEMO_MEETING=false",
                                      "    OVERLEG_DEMO_MEETING=false OVERLEG_API_KEY=0123456789abcdef")], "no secret"),
    ("compiler in the runtime stage", [("deploy/Dockerfile", "$(cat /tmp/runtime-packages) openssl",
                                        "$(cat /tmp/runtime-packages) openssl gcc")], "no compiler"),
    ("no VOLUME", [("deploy/Dockerfile", 'VOLUME ["/var/lib/overleg"]\n', "")], "VOLUME"),
    ("stop signal", [("deploy/Dockerfile", "STOPSIGNAL SIGTERM", "STOPSIGNAL SIGKILL")], "STOPSIGNAL"),
    ("readiness probe path", [(DEP, "path: /readyz", "path: /healthz")], "readinessProbe"),
    ("liveness probe over HTTP", [(DEP, "livenessProbe:\n            httpGet: {path: /healthz, port: https, scheme: HTTPS}",
                                   "livenessProbe:\n            httpGet: {path: /healthz, port: https}")], "livenessProbe"),
    ("k8s writable root", [(DEP, "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")],
     "readOnlyRootFilesystem"),
    ("k8s capabilities", [(DEP, 'drop: ["ALL"]', 'drop: ["NET_RAW"]')], "capabilities"),
    ("k8s seccomp", [(DEP, "type: RuntimeDefault", "type: Unconfined")], "seccompProfile"),
    ("k8s other uid", [(DEP, "runAsUser: 10001", "runAsUser: 1000")], "runAsUser"),
    ("k8s grace", [(DEP, "terminationGracePeriodSeconds: 15", "terminationGracePeriodSeconds: 5")],
     "terminationGracePeriodSeconds"),
    ("k8s service links", [(DEP, "enableServiceLinks: false", "enableServiceLinks: true")], "enableServiceLinks"),
    ("k8s container port missing", [(DEP, "            - {name: media-7, containerPort: 10007, protocol: UDP}\n", "")],
     "containerPorts"),
    ("k8s secret key", [(DEP, "              key: api-key", "              key: apikey")], "Secret overleg-secrets"),
    ("k8s secret name", [(DEP, "                  name: overleg-secrets", "                  name: overleg-secret")],
     "Secret overleg-secret"),
    ("k8s limits", [(DEP, "            limits:\n", "            limitz:\n")], "limits"),
    ("k8s data not on the PVC", [(DEP, "claimName: overleg-data", "claimName: overleg-data2")], "PersistentVolumeClaim"),
    ("k8s Service UDP port missing",
     [("deploy/k8s/service.yaml", "    - {name: media-7, protocol: UDP, port: 10007, targetPort: 10007}\n", "")],
     "Services reach exactly"),
    ("k8s UDP remapped", [("deploy/k8s/service.yaml", "port: 10003, targetPort: 10003", "port: 30003, targetPort: 10003")],
     "keeps its port number"),
    ("k8s Service selects nothing", [("deploy/k8s/service.yaml", "  selector:\n    app.kubernetes.io/name: overleg",
                                      "  selector:\n    app.kubernetes.io/name: overleg2")], "selects the overleg pod"),
    ("ConfigMap drain longer than grace", [("deploy/k8s/configmap.yaml", "drain_time = 10s", "drain_time = 60s")],
     "terminationGracePeriodSeconds"),
    ("ConfigMap listen port", [("deploy/k8s/configmap.yaml", "listen = [::]:8443", "listen = [::]:9443")],
     "listens on the EXPOSEd TCP port"),
    ("ConfigMap key typo", [("deploy/k8s/configmap.yaml", "    log_format = json", "    log_fromat = json"), (CONF,)],
     "log_fromat"),
    ("kustomization misses a manifest", [("deploy/k8s/kustomization.yaml", "  - service.yaml\n", "")], "service.yaml"),
    ("YAML tab", [("deploy/k8s/pvc.yaml", "  accessModes:\n    - ReadWriteOnce", "  accessModes:\n\t- ReadWriteOnce")],
     "tab in indentation"),
    ("YAML duplicate key", [("deploy/k8s/pvc.yaml", "      storage: 1Gi", "      storage: 1Gi\n      storage: 2Gi")],
     "duplicate key"),
    ("YAML 1.1/1.2 ambiguity", [(DEP, "defaultMode: 288 # 0440: readable", "defaultMode: 0440 # readable")],
     "YAML 1.1 and 1.2"),
    ("namespace pod security", [("deploy/k8s/namespace.yaml", "enforce: restricted", "enforce: baseline")], "restricted"),
    ("documentation drifts from code", [(CONF, "# drain_time = 10s", "# drain_tiem = 10s"), (CODE,)],
     "documents exactly the keys"),
    ("documented port drifts", [(CONF, "# listen = [::]:8443", "# listen = [::]:9443")], "default listen port"),
    ("relay keys land without OVERLEG_PUBLIC_IP",
     [(CONF, "# listen = [::]:8443", "# listen = [::]:8443\n# media_port = 10000"),
      (CODE, "    K(listen, KEY_STR, 1, 0),", "    K(listen, KEY_STR, 1, 0),\n    K(media_port, KEY_UINT, 1, 65535),"),
      # the relay has landed with public_ip: take it out again (documentation and code alike)
      (CONF, "# public_ip =\n", ""), (CODE, "    K(public_ip, KEY_STR, 0, 0),\n", "")],
     "OVERLEG_PUBLIC_IP"),
    ("relay's media port differs from EXPOSE",
     [(CONF, "# listen = [::]:8443", "# listen = [::]:8443\n# media_port = 20000\n# public_ip ="),
      (CODE, "    K(listen, KEY_STR, 1, 0),",
       "    K(listen, KEY_STR, 1, 0),\n    K(media_port, KEY_UINT, 1, 65535),\n    K(public_ip, KEY_STR, 0, 0),")],
     "first EXPOSEd UDP port"),
]


def self_test(root):
    failures = 0
    with tempfile.TemporaryDirectory(prefix="ovl-manifests-") as tmp:
        def fresh():
            dst = os.path.join(tmp, "tree")
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(os.path.join(root, "deploy"), os.path.join(dst, "deploy"))
            if os.path.exists(os.path.join(root, CODE)):
                os.makedirs(os.path.join(dst, "signaling"))
                shutil.copy(os.path.join(root, CODE), os.path.join(dst, "signaling"))
            return dst

        base = run(fresh(), quiet=True)
        print(f"{'ok' if not base.fails else 'FAIL':8} self-test: the unbroken copy passes ({base.oks} checks)")
        failures += bool(base.fails)
        for what, edits, expect in BREAKS:
            dst = fresh()
            missing = [e[0] for e in edits if not os.path.exists(os.path.join(dst, e[0]))]
            if missing:
                print(f"{'SKIP':8} self-test: {what} ({missing[0]} not in this tree yet)")
                continue
            stale = None
            for edit in edits:
                if len(edit) == 1:
                    continue
                rel, old, new = edit
                path = os.path.join(dst, rel)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                if old not in text:
                    stale = f"{old!r} no longer in {rel}; update BREAKS"
                    break
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text.replace(old, new, 1))
            if stale:
                print(f"{'FAIL':8} self-test: {what}: {stale}")
                failures += 1
                continue
            rep = run(dst, quiet=True)
            hit = [f for f in rep.fails if expect in f]
            failures += not hit
            if hit:
                print(f"{'ok':8} self-test: {what} is caught ({hit[0][:100]})")
            else:
                print(f"{'FAIL':8} self-test: {what} is not caught by a check mentioning {expect!r}; "
                      f"failures were: {rep.fails[:3]}")
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    if a.self_test:
        n = self_test(root)
        print(f"self-test: {'every break caught' if not n else f'{n} problem(s)'}")
        return 1 if n else 0
    r = run(root)
    print(f"deploy.manifests: {r.oks} checks ok, {r.pending} pending, {len(r.fails)} failed")
    return 1 if r.fails else 0


if __name__ == "__main__":
    sys.exit(main())
