"""``kube-pod-security``: a non-root pod can write its Hugging Face cache, and tokens come from Secrets."""

from __future__ import annotations

import re
from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.checks.kube_pod_spec import container_locations
from triton_doctor.deploy.kube.model import as_list, as_map
from triton_doctor.facts.context import Context
from triton_doctor.results import Category, Outcome, Severity

SECRET_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "NGC_API_KEY", "VLLM_API_KEY")


class KubePodSecurity(Check):
    """HF_HOME writable under runAsUser/runAsNonRoot/readOnlyRootFilesystem; no token as a literal value."""

    id = "kube-pod-security"
    title = "Kubernetes pod security"
    category = Category.KUBE
    after = frozenset({"kube-pod-spec"})
    explanation = (
        "For every serving container of the --manifest streams: an HF_HOME that a non-root user (runAsUser, "
        "runAsNonRoot) or a read-only root filesystem can write (the charts of Triton's deploy/ and KServe's "
        "runtime run as UID 1000), and the Hugging Face token (or NGC key) from a Secret through secretKeyRef, "
        "never a literal value: anyone who can read the Deployment or its repository has a literal token, and "
        "a $VAR in value: is not expanded by Kubernetes."
    )
    sub_ids = {
        "hf-home": "a non-root user without a writable HF_HOME",
        "token-literal": "a token written as a literal value in the manifest",
    }

    def run(self, ctx: Context) -> Outcome:
        kube = ctx.target.kube
        if kube is None or not kube.containers:
            return Outcome(skip_reason="no --manifest with a serving container given")
        f = FindingFactory(self.id)
        for c in kube.containers:
            loc, pod_loc = container_locations(c)
            if c.server in {"tritonserver", "triton", "vllm"}:
                self._hf_home(f, c, c.label, loc, pod_loc)
            self._tokens(f, c, c.label, loc)
        bad = sum(1 for x in f.findings if x.severity is not Severity.INFO)
        return f.outcome(f"{len(kube.containers)} serving container(s): " + (f"{bad} problem(s)" if bad else "OK"))

    def _tokens(self, f: FindingFactory, c: Any, label: str, loc: Any) -> None:
        for i, item in enumerate(as_list(c.container.get("env"))):
            if not isinstance(item, dict) or item.get("name") not in SECRET_VARS or "value" not in item:
                continue
            value = item.get("value")
            if not isinstance(value, str) or not value.strip():
                continue
            name = str(item["name"])
            shell_ref = re.fullmatch(r"\$\{?(\w+)\}?", value.strip())
            message = (
                f"{label}: {name} is the literal text {value.strip()!r}: Kubernetes does not expand $VAR "
                "(only $(VAR) of the container's own env), so the server gets that text as its token"
                if shell_ref
                else f"{label}: {name} is written as a literal value in the manifest (anyone who can read the "
                "Deployment, its history or the repository holding it has the token)"
            )
            f.error(
                "token-literal",
                message,
                evidence=f"value: {value.strip() if shell_ref else '<redacted>'}",
                remedy=(
                    "kubectl create secret generic hf-token --from-literal=token=<your token>\n"
                    f"- name: {name}\n  valueFrom:\n    secretKeyRef:\n      name: hf-token\n      key: token"
                ),
                location=loc("env", i),
            )

    def _hf_home(self, f: FindingFactory, c: Any, label: str, loc: Any, pod_loc: Any) -> None:
        pod_sc = as_map(c.pod.get("securityContext"))
        sc = as_map(c.container.get("securityContext"))
        user = sc.get("runAsUser", pod_sc.get("runAsUser"))
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True
        read_only = sc.get("readOnlyRootFilesystem") is True
        if not ((isinstance(user, int) and user != 0) or non_root or read_only):
            return
        hf = c.env_entry("HF_HOME")
        hf_home = str(hf.get("value")) if hf is not None and isinstance(hf.get("value"), str) else None
        who = f"runAsUser: {user}" if isinstance(user, int) else ("runAsNonRoot" if non_root else "")
        who = ", ".join(x for x in (who, "readOnlyRootFilesystem" if read_only else "") if x)
        writable_mounts = [m for m in c.mounts if not m.readonly and m.type in {"emptyDir", "pvc", "hostPath", "nfs"}]
        fix = (
            "env:\n  - name: HF_HOME\n    value: /hf-cache\n"
            "volumeMounts:\n  - name: hf-cache\n    mountPath: /hf-cache\n"
            "# in the pod spec\nvolumes:\n  - name: hf-cache\n    emptyDir: {}   # or a persistentVolumeClaim"
        )
        if hf_home is None:
            root_cache = next((m for m in c.mounts if m.target.startswith("/root/")), None)
            if root_cache is not None or read_only:
                f.error(
                    "hf-home",
                    f"{label}: {who} with the Hugging Face cache at the default under the user's home"
                    + (f" while the cache volume is mounted at {root_cache.target}" if root_cache else "")
                    + (": the root filesystem is read-only" if read_only else "")
                    + "; downloads fail with PermissionError",
                    catalog_id="hf-cache-unwritable",
                    remedy=fix,
                    location=loc("env") if "env" in c.container else loc(),
                )
            else:
                f.warning(
                    "hf-home",
                    f"{label}: {who} and no HF_HOME: the cache goes to $HOME/.cache, which does not exist or is not "
                    "writable for a UID without a home in the image",
                    catalog_id="hf-cache-unwritable",
                    remedy=fix,
                    location=loc("env") if "env" in c.container else loc(),
                )
            return
        under = next(
            (m for m in writable_mounts if hf_home == m.target or hf_home.startswith(m.target.rstrip("/") + "/")), None
        )
        if under is None and (read_only or hf_home.startswith("/root")):
            f.error(
                "hf-home",
                f"{label}: HF_HOME={hf_home} is not on a writable volume and {who}: downloads fail with "
                "PermissionError",
                catalog_id="hf-cache-unwritable",
                remedy=fix,
                location=loc("env", c.env_index("HF_HOME") or 0),
            )
