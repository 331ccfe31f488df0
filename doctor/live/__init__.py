"""The live stage: bring Triton + vLLM up in Docker (or use a running server), wait for READY, generate.

:class:`LiveSession` owns one container. It starts it the way the user's own ``docker run`` does (their
image, mounts, env, ports and tritonserver arguments) plus what a working deployment also needs
(explicit model control with ``--load-model``, ``--shm-size``, ulimits, ``--ipc=host`` and the spawn method
for tensor parallel). Every container it starts carries the :data:`PROBE_LABEL` label and a session id,
and :meth:`LiveSession.teardown` removes it on every path: success, failure, timeout and Ctrl-C (the
caller runs teardown in ``finally``). While waiting it polls the container's state and the endpoints every
0.2 s and follows the log for the progress line, and stops as soon as the outcome is known: the container
exited (exit code, OOM kill), a model became UNAVAILABLE (its reason from ``POST /v2/repository/index``),
or every model is READY.
"""

from __future__ import annotations

from triton_doctor.live.options import LiveOptions, LiveOutcome, Progress
from triton_doctor.live.session import LiveSession, start_session

__all__ = ["LiveOptions", "LiveOutcome", "LiveSession", "Progress", "start_session"]
