"""Kubernetes: manifests (``check --manifest``), pod state (``--pod-state``), the live read-only ``--kube`` and
``command --format k8s``. Takes YAML streams and kubectl output; gives the same ``Target`` a ``docker run`` makes
(``record.apply_to_target``) plus the Kubernetes-only facts the ``kube-*`` checks read (``model``).
"""
