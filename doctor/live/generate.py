"""Test generations over gRPC streaming, and whether a server's gRPC port answers."""

from __future__ import annotations

import re
import time
from typing import Any

from triton_doctor.probes.triton_http import Generation


def grpc_url_of(http_url: str) -> str | None:
    """``grpc://host:8001`` for ``http://host:8000`` (Triton's default ports); None for another port."""
    match = re.match(r"^https?://([^/]+):8000$", http_url)
    return f"grpc://{match.group(1)}:8001" if match else None


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether something accepts a TCP connection at ``scheme://host:port``."""
    import socket

    hostport = url.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not port.isdigit():
        return False
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def grpc_stream(url: str, model: str, prompt: str, sampling: dict[str, Any], timeout: float = 300.0) -> Generation:
    """A streaming generation over gRPC (``ModelStreamInfer``) with tritonclient, within ``timeout`` seconds."""
    import json
    import queue

    result = Generation(endpoint=f"grpc ModelStreamInfer {model}")
    start = time.monotonic()
    try:
        import numpy as np
        import tritonclient.grpc as grpcclient

        client = grpcclient.InferenceServerClient(url.removeprefix("grpc://"))
        answers: queue.Queue[Any] = queue.Queue()
        client.start_stream(callback=lambda result, error: answers.put((result, error)))
        inputs = [
            grpcclient.InferInput("text_input", [1], "BYTES"),
            grpcclient.InferInput("stream", [1], "BOOL"),
            grpcclient.InferInput("sampling_parameters", [1], "BYTES"),
        ]
        inputs[0].set_data_from_numpy(np.array([prompt.encode()], dtype=np.object_))
        inputs[1].set_data_from_numpy(np.array([True]))
        inputs[2].set_data_from_numpy(np.array([json.dumps(sampling).encode()], dtype=np.object_))
        client.async_stream_infer(model, inputs, enable_empty_final_response=True)
        deadline = start + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                result.error = f"no complete answer within {timeout:g} s"
                break
            res, err = answers.get(timeout=min(60.0, left))
            if err is not None:
                result.error = str(err)
                break
            response = res.get_response()
            out = res.as_numpy("text_output")
            if out is not None and len(out):
                piece = out.reshape(-1)[0]
                piece = piece.decode("utf-8", "replace") if isinstance(piece, bytes) else str(piece)
                if result.ttft_s is None and piece:
                    result.ttft_s = time.monotonic() - start
                result.text += piece
                result.chunks += 1
            final = response.parameters.get("triton_final_response")
            if final is not None and final.bool_param:
                break
        client.stop_stream()
        client.close()
    except Exception as exc:  # noqa: BLE001
        result.error = f"{type(exc).__name__}: {exc}"
    result.total_s = time.monotonic() - start
    result.ok = result.error is None and bool(result.text.strip())
    return result
