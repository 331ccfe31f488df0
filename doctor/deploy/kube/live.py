"""``check --kube``: read a live cluster with the user's own ``kubectl`` and kubeconfig, read-only.

Only ``kubectl get`` and ``kubectl describe`` are run (never apply, edit, delete, exec or port-forward), each
with ``--request-timeout`` and a hard process deadline, so an unreachable API server is a clear message in a
few seconds. What kubectl prints feeds the same readers as ``--manifest`` and ``--pod-state``: the captures are
written to a private temporary folder removed when the process exits.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

__all__ = ["KubeLiveError", "capture", "kubectl_base"]

#: The first call (is the API server there at all?) must end well within 5 s.
FIRST_CALL_S = 4.0
CALL_S = 30.0
MAX_OUTPUT = 16 * 1024 * 1024
#: Workload kinds read for a label selector.
WORKLOAD_KINDS = "deployments,statefulsets,jobs"
_READ_VERBS = frozenset({"get", "describe", "version"})


class KubeLiveError(RuntimeError):
    """kubectl is missing, the cluster cannot be reached, or the object does not exist (CLI exit 2)."""


def kubectl_base(context: str | None, namespace: str | None) -> list[str]:
    """``kubectl [--context C] [--namespace N]`` (the binary from ``TRITON_DOCTOR_KUBECTL`` or PATH)."""
    binary = os.environ.get("TRITON_DOCTOR_KUBECTL") or shutil.which("kubectl")
    if not binary:
        raise KubeLiveError("--kube needs kubectl on PATH (or TRITON_DOCTOR_KUBECTL=/path/to/kubectl)")
    base = [binary]
    if context:
        base += ["--context", context]
    if namespace:
        base += ["--namespace", namespace]
    return base


def _explain_failure(stderr: str, where: str) -> str:
    first = next((line.strip() for line in stderr.splitlines() if line.strip()), "no message")[:300]
    low = stderr.lower()
    if "x509" in low or "certificate" in low:
        return (
            f"kubectl did not accept the API server's certificate {where}({first}). Check the cluster's "
            "certificate-authority in your kubeconfig (kubectl cluster-info)"
        )
    unreachable = ("connection refused", "no such host", "i/o timeout", "unable to connect", "deadline exceeded")
    if any(s in low for s in unreachable) or "client.timeout" in low or "dial tcp" in low:
        return (
            f"the Kubernetes API server {where}is not reachable: {first}. Check 'kubectl cluster-info' (VPN, "
            "port-forward, kubeconfig context); triton-doctor only reads through your kubectl"
        )
    if "notfound" in low.replace(" ", "") or "not found" in low:
        return f"kubectl: {first}"
    if "forbidden" in low:
        return f"kubectl: {first} (your user cannot read it; the doctor needs get/describe on pods, events, workloads)"
    return f"kubectl failed: {first}"


def _run(base: list[str], args: list[str], timeout: float, where: str) -> str:
    if not args or args[0] not in _READ_VERBS:
        raise KubeLiveError(f"refusing to run kubectl {args[:1]}: the doctor only reads")
    command = [*base, *args, f"--request-timeout={max(1, int(timeout) - 1)}s"]
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise KubeLiveError(f"kubectl not found: {exc.filename}") from exc
    except subprocess.TimeoutExpired as exc:
        raise KubeLiveError(
            f"kubectl did not answer within {timeout:.0f} s: the Kubernetes API server {where}is not reachable "
            "(check 'kubectl cluster-info', your VPN or port-forward)"
        ) from exc
    if done.returncode != 0:
        raise KubeLiveError(_explain_failure(done.stderr.decode("utf-8", "replace"), where))
    return done.stdout[:MAX_OUTPUT].decode("utf-8", "replace")


def _selector_of(objects_yaml: str) -> str | None:
    """``k=v,k2=v2`` from the first object's spec.selector.matchLabels (a Deployment, StatefulSet, Job)."""
    try:
        docs = list(yaml.safe_load_all(objects_yaml))
    except yaml.YAMLError:
        return None
    items: list[object] = []
    for data in docs:
        is_list = isinstance(data, dict) and data.get("kind") == "List"
        items += (data.get("items") or []) if is_list else [data]
    for item in items:
        spec = item.get("spec") if isinstance(item, dict) else None
        labels = (spec or {}).get("selector", {}) if isinstance(spec, dict) else {}
        match = labels.get("matchLabels") if isinstance(labels, dict) else None
        if isinstance(match, dict) and match:
            return ",".join(f"{k}={v}" for k, v in match.items())
    return None


def capture(resource: str, *, context: str | None = None, namespace: str | None = None) -> tuple[list[str], list[str]]:
    """Objects (as manifest files) and pod state (describe output files) of ``resource`` (``kind/name`` or a
    label selector ``k=v``)."""
    if resource.split("/", 1)[0].lower() in {"secret", "secrets"}:
        raise KubeLiveError("--kube reads workloads and pods, never Secrets: give deploy/NAME or a label selector")
    base = kubectl_base(context, namespace)
    where = f"(context {context}) " if context else ""
    folder = Path(tempfile.mkdtemp(prefix="triton-doctor-kube-"))
    atexit.register(shutil.rmtree, folder, True)
    if "=" in resource:
        selector: str | None = resource
        objects = _run(base, ["get", WORKLOAD_KINDS, "-l", resource, "-o", "yaml"], FIRST_CALL_S, where)
    else:
        objects = _run(base, ["get", resource, "-o", "yaml"], FIRST_CALL_S, where)
        kind = resource.split("/", 1)[0].lower()
        selector = None if kind in {"pod", "pods", "po"} else _selector_of(objects)
    manifest = folder / "objects.yaml"
    manifest.write_text(objects, encoding="utf-8")
    if selector:
        describe = _run(base, ["describe", "pods", "-l", selector], CALL_S, where)
    elif "/" in resource:
        describe = _run(base, ["describe", resource], CALL_S, where)
    else:
        describe = ""
    states: list[str] = []
    if describe.strip():
        state = folder / "describe-pods.txt"
        state.write_text(describe, encoding="utf-8")
        states.append(str(state))
    return [str(manifest)], states
