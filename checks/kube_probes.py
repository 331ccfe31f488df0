"""``kube-probes``: probes that leave a Triton + vLLM pod time to download and load, and Services that reach it."""

from __future__ import annotations

from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.checks.kube_pod_spec import container_locations, heaviest_weights
from triton_doctor.deploy.kube.model import as_list, as_map
from triton_doctor.facts.context import Context
from triton_doctor.results import Category, Location, Outcome, Severity


def probe_budget(probe: dict[str, Any]) -> int:
    """initialDelaySeconds + failureThreshold x periodSeconds (Kubernetes defaults 0, 3, 10)."""

    def num(key: str, default: int) -> int:
        value = probe.get(key, default)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    return num("initialDelaySeconds", 0) + num("failureThreshold", 3) * num("periodSeconds", 10)


def probe_path(probe: dict[str, Any]) -> str | None:
    get = as_map(probe.get("httpGet"))
    path = get.get("path")
    return str(path) if path is not None else None


class KubeProbes(Check):
    """startupProbe budget vs download + load time, Triton health paths, Service ports."""

    id = "kube-probes"
    title = "Kubernetes probes and Service"
    category = Category.KUBE
    after = frozenset({"kube-pod-security"})
    explanation = (
        "A liveness probe without a startupProbe kills a pod that is still downloading or loading its model "
        "(CrashLoopBackOff; server#7154); the startupProbe's budget, initialDelaySeconds + failureThreshold x "
        "periodSeconds, must cover download + load (estimated from the checkpoint's size when --repo shows it, "
        "else 300 s). Triton answers health on /v2/health/live and /v2/health/ready. A Service's targetPort must "
        "be a port of the serving container."
    )
    sub_ids = {
        "startup-budget": "the startup probe gives up before the model can be downloaded and loaded",
        "no-startup-probe": "a liveness probe without a startupProbe kills a pod that is still loading",
        "no-probes": "no probes: Kubernetes sends traffic before the model is READY",
        "probe-path": "a Triton probe not on /v2/health/*",
        "service-port": "a Service targetPort no serving container exposes",
    }

    def run(self, ctx: Context) -> Outcome:
        kube = ctx.target.kube
        if kube is None or not kube.containers:
            return Outcome(skip_reason="no --manifest with a serving container given")
        f = FindingFactory(self.id)
        weights = heaviest_weights(ctx) if ctx.repo().is_dir else None
        for c in kube.containers:
            if c.server in {"tritonserver", "triton", "vllm"} and c.role != "worker":
                loc, _pod_loc = container_locations(c)
                self._probes(f, c, c.label, loc, weights, c.server in {"tritonserver", "triton"})
        self._services(f, kube)
        bad = sum(1 for x in f.findings if x.severity is not Severity.INFO)
        return f.outcome(f"{len(kube.containers)} serving container(s): " + (f"{bad} problem(s)" if bad else "OK"))

    def _probes(self, f: FindingFactory, c: Any, label: str, loc: Any, weights: int | None, triton: bool) -> None:
        startup = as_map(c.container.get("startupProbe"))
        liveness = as_map(c.container.get("livenessProbe"))
        readiness = as_map(c.container.get("readinessProbe"))
        from triton_doctor.deploy.kube.model import startup_estimate

        expected, basis = startup_estimate(weights)
        health = "/v2/health/ready" if triton else "/health"
        period = 10
        threshold = -(-expected // period)
        startup_yaml = (
            f"startupProbe:\n  httpGet:\n    path: {health}\n    port: 8000\n"
            f"  periodSeconds: {period}\n  failureThreshold: {threshold}   # {threshold * period} s"
        )
        if not startup and not liveness and not readiness:
            f.info(
                "no-probes",
                f"{label}: no probes: the Service sends requests before the model is READY",
                remedy=startup_yaml
                + f"\nreadinessProbe:\n  httpGet:\n    path: {health}\n    port: 8000\n  periodSeconds: 5",
                location=loc(),
            )
            return
        if startup:
            budget = probe_budget(startup)
            if budget < expected:
                f.warning(
                    "startup-budget",
                    f"{label}: the startupProbe gives up after {budget} s (initialDelaySeconds + failureThreshold x "
                    f"periodSeconds); loading needs {basis}",
                    evidence=f"startupProbe budget {budget} s",
                    remedy=startup_yaml,
                    location=loc("startupProbe"),
                )
        elif liveness:
            budget = probe_budget(liveness)
            if budget < expected:
                f.warning(
                    "no-startup-probe",
                    f"{label}: a livenessProbe without a startupProbe restarts the container after {budget} s; "
                    f"loading needs {basis}, so the pod never gets READY (CrashLoopBackOff)",
                    evidence=f"livenessProbe budget {budget} s",
                    remedy=startup_yaml,
                    location=loc("livenessProbe"),
                )
        if triton:
            for key, want in (("livenessProbe", "/v2/health/live"), ("readinessProbe", "/v2/health/ready")):
                probe = as_map(c.container.get(key))
                path = probe_path(probe) if probe else None
                if path is not None and not path.startswith("/v2/health/"):
                    f.info(
                        "probe-path",
                        f"{label}: {key} on {path}: Triton answers health on {want}",
                        remedy=f"httpGet:\n  path: {want}\n  port: 8000",
                        location=loc(key),
                    )

    def _services(self, f: FindingFactory, kube: Any) -> None:
        ports: set[object] = set()
        for c in kube.containers:
            for p in as_list(c.container.get("ports")):
                if isinstance(p, dict):
                    ports.add(p.get("containerPort"))
                    if p.get("name"):
                        ports.add(p.get("name"))
        if not ports:
            return
        for svc in kube.services:
            for i, port in enumerate(as_list(as_map(svc.data.get("spec")).get("ports"))):
                if not isinstance(port, dict):
                    continue
                target = port.get("targetPort", port.get("port"))
                if target is None or target in ports or "helm-expr" in str(target):
                    continue
                f.warning(
                    "service-port",
                    f"{svc.label}: targetPort {target} is not a port of any serving container "
                    f"({', '.join(sorted(str(p) for p in ports))})",
                    remedy="targetPort: 8000   # Triton HTTP (8001 gRPC, 8002 metrics)",
                    location=Location(path=svc.file, line=svc.line_of(("spec", "ports", i))),
                )
