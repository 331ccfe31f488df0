"""``kube-pod-state``: what kubectl says happened to the pod (``check --pod-state FILE|-``, ``check --kube``)."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.results import Category, Location, Outcome, Severity

_SEVERITY = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO}


class KubePodState(Check):
    """The pod's events and container states name no failure."""

    id = "kube-pod-state"
    title = "Kubernetes pod state"
    category = Category.KUBE
    explanation = (
        "Reads kubectl describe pod, kubectl get pod -o yaml|json and kubectl get events output (a file, stdin "
        "or, with --kube, the cluster): FailedScheduling (not enough nvidia.com/gpu, taints, nvidia.com/gpu.product "
        "affinity), ErrImagePull/ImagePullBackOff, OOMKilled/exit 137 and CrashLoopBackOff, FailedMount, "
        "liveness or startup probes killing a pod that is still loading, failing readiness, and evictions for "
        "ephemeral storage (a Hugging Face cache in the container). Each finding names its source threads in "
        "'triton-doctor explain kube-pod-state'."
    )
    sub_ids = {
        "failed-scheduling": "the scheduler found no node (GPUs, taints, affinity)",
        "image-pull": "the image cannot be pulled",
        "oom-killed": "the container was killed for memory (exit 137)",
        "crash-loop": "the container keeps restarting",
        "failed-mount": "a volume could not be mounted",
        "probe-kills-loading-pod": "a liveness/startup probe killed the loading server",
        "readiness-failing": "the readiness probe fails",
        "evicted": "the pod was evicted (ephemeral storage, memory)",
    }

    def run(self, ctx: Context) -> Outcome:
        kube = ctx.target.kube
        if kube is None or not kube.pod_states:
            return Outcome(skip_reason="no --pod-state or --kube given")
        f = FindingFactory(self.id)
        for label, signals in kube.pod_states:
            for s in signals:
                times = f" (x{s.count})" if s.count > 1 else ""
                detail = f": {s.detail}" if s.detail else ""
                f.add(
                    _SEVERITY.get(s.entry.severity, Severity.WARNING),
                    s.entry.id,
                    f"{s.entry.cause.split(':')[0].rstrip('.')}{detail}{times}",
                    evidence=s.text[:300],
                    remedy=s.entry.remedy + ("\nseen in: " + ", ".join(s.entry.sources) if s.entry.sources else ""),
                    location=Location(path=label, line=s.line),
                    catalog_id="host-ram-oom-killed" if s.entry.id == "oom-killed" else None,
                )
        n = sum(len(sig) for _, sig in kube.pod_states)
        return f.outcome(f"{len(kube.pod_states)} capture(s): " + (f"{n} failure mode(s)" if n else "nothing failing"))
