"""check's Kubernetes options (--manifest, --pod-state, --kube ...): parsing only; doctor/app/kube.py runs them."""

from __future__ import annotations

from typing import Any

import click

from triton_doctor.cli.options import fail_usage

__all__ = ["kube_inputs", "kube_options"]


def kube_options(func: Any) -> Any:
    """Add check's Kubernetes inputs: manifests, captured pod state, a live read-only cluster."""
    options = [
        click.option(
            "--manifest",
            "manifests",
            multiple=True,
            metavar="FILE|-",
            help="A Kubernetes manifest to check before kubectl apply (repeatable; several documents, helm "
            "template or kubectl get -o yaml output; - is stdin). --repo is the local copy of the model volume.",
        ),
        click.option(
            "--pod-state",
            "pod_states",
            multiple=True,
            metavar="FILE|-",
            help="kubectl describe pod / get pod -o yaml|json / get events output to diagnose (repeatable).",
        ),
        click.option(
            "--kube",
            "kube_resource",
            metavar="RESOURCE|SELECTOR",
            help="Read a live cluster with your kubectl, read-only: deploy/NAME (or any kind/name) or a label "
            "selector such as app=triton; see --kube-context, --kube-namespace.",
        ),
        click.option("--kube-context", metavar="NAME", help="--kube: the kubeconfig context (default: current)."),
        click.option("--kube-namespace", metavar="NAME", help="--kube: the namespace (default: the context's)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def kube_inputs(kube: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The CheckRequest fields of the Kubernetes options; --kube captures the cluster with the user's kubectl."""
    manifests: tuple[str, ...] = tuple(kube.pop("manifests", ()) or ())
    pod_states: tuple[str, ...] = tuple(kube.pop("pod_states", ()) or ())
    resource = kube.pop("kube_resource", None)
    context = kube.pop("kube_context", None)
    namespace = kube.pop("kube_namespace", None)
    if resource:
        from triton_doctor.deploy.kube.live import KubeLiveError, capture

        try:
            objects, states = capture(resource, context=context, namespace=namespace)
        except KubeLiveError as exc:
            fail_usage(str(exc))
            raise  # unreachable: fail_usage exits
        manifests, pod_states = (*manifests, *objects), (*pod_states, *states)
    elif context or namespace:
        fail_usage("--kube-context and --kube-namespace go with --kube RESOURCE")
    return {"manifests": manifests, "pod_states": pod_states}
