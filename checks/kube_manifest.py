"""``kube-manifest``: the ``--manifest`` streams read as Kubernetes objects and valid against the API schemas."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.results import Category, Location, Outcome, Severity

#: The Kubernetes version whose OpenAPI schemas the manifests are checked against (kubernetes-validate ships
#: one schema set per release); override with TRITON_DOCTOR_KUBE_VERSION.
DEFAULT_KUBE_VERSION = "1.33"
#: Built-in API groups whose kinds have a schema; custom resources (KServe, LWS, NIM, Ray) have none offline.
_BUILTIN_GROUPS = ("v1", "apps/v1", "batch/v1", "autoscaling/", "networking.k8s.io/", "policy/v1", "rbac.")
_SEVERITY = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO}


def kube_version() -> str:
    import os

    return os.environ.get("TRITON_DOCTOR_KUBE_VERSION", "").strip().lstrip("v") or DEFAULT_KUBE_VERSION


class KubeManifest(Check):
    """The manifests parse, hold a workload, and match the Kubernetes API schemas."""

    id = "kube-manifest"
    title = "Kubernetes manifests"
    category = Category.KUBE
    explanation = (
        "Reads every --manifest stream (several documents, a List, helm template output, kubectl get -o yaml). "
        "A document that is not YAML, an unrendered Helm template (read approximately with the chart's "
        "values.yaml), a kind the doctor does not read and a stream without any workload are reported here. "
        "Built-in kinds are validated offline against the Kubernetes OpenAPI schemas shipped by the "
        "kubernetes-validate package (pip install 'triton-doctor[kube]'), so a typo such as containerPort: "
        '"8000" is found before kubectl apply.'
    )
    sub_ids = {
        "yaml": "a stream is not valid YAML",
        "helm-template": "an unrendered Helm template was read approximately",
        "not-an-object": "a document is not a Kubernetes object",
        "unknown-kind": "a kind the doctor does not read",
        "no-workload": "no pod template with a container",
        "empty": "a stream without documents",
        "schema": "a document does not match the Kubernetes API schema",
        "schema-unavailable": "kubernetes-validate is not installed: no schema validation",
    }

    def run(self, ctx: Context) -> Outcome:
        kube = ctx.target.kube
        if kube is None:
            return Outcome(skip_reason="no --manifest given")
        f = FindingFactory(self.id)
        for p in kube.problems:
            f.add(
                _SEVERITY.get(p.severity, Severity.WARNING),
                p.sub_id,
                p.message,
                evidence=p.evidence,
                remedy=p.remedy,
                location=Location(path=p.file, line=p.line),
            )
        validated = self._validate(kube, f)
        workloads = len(kube.containers)
        return f.outcome(
            f"{len(kube.docs)} document(s), {workloads} serving container(s)"
            + (f", {validated} validated against Kubernetes {kube_version()}" if validated else "")
        )

    def _validate(self, kube: object, f: FindingFactory) -> int:
        from triton_doctor.deploy.kube.model import KubeDeployment

        assert isinstance(kube, KubeDeployment)
        candidates = [
            d for d in kube.docs if not d.helm and d.kind and any(d.api_version.startswith(g) for g in _BUILTIN_GROUPS)
        ]
        if not candidates:
            return 0
        try:
            import kubernetes_validate
            from kubernetes_validate.utils import SchemaNotFoundError, ValidationError
        except ImportError:
            f.info(
                "schema-unavailable",
                "the manifests were not validated against the Kubernetes API schemas (kubernetes-validate is not "
                "installed)",
                remedy="pip install 'triton-doctor[kube]'",
            )
            return 0
        version = kube_version()
        done = 0
        for doc in candidates:
            try:
                kubernetes_validate.validate(doc.data, version, False)
            except ValidationError as exc:
                path = tuple(getattr(exc, "path", ()) or ())
                where = ".".join(str(p) for p in path) or "(top level)"
                f.error(
                    "schema",
                    f"{doc.label}: {where}: {getattr(exc, 'message', str(exc)).splitlines()[0][:200]}",
                    evidence=f"{doc.api_version} {doc.kind}, Kubernetes {version} schema",
                    remedy="kubectl apply would refuse it: fix the field at that line (see kubectl explain "
                    f"{doc.kind.lower()}.{'.'.join(str(p) for p in path if isinstance(p, str))})",
                    location=Location(path=doc.file, line=doc.line_of(path)),
                )
            except SchemaNotFoundError:
                continue
            except Exception as exc:  # noqa: BLE001 - a schema set without this version: say so, never a traceback
                f.info(
                    "schema-unavailable",
                    f"no Kubernetes {version} schema to validate {doc.label}: {type(exc).__name__}",
                    remedy="set TRITON_DOCTOR_KUBE_VERSION to your cluster's version, e.g. 1.32",
                )
                return done
            done += 1
        return done
