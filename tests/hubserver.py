"""A local server on 127.0.0.1 that answers the Hugging Face Hub endpoints huggingface_hub calls.

It speaks the Hub's protocol as the client sees it: ``GET /api/whoami-v2``, ``GET /api/models/{id}``,
``GET /api/models/{id}/auth-check`` and ``HEAD|GET /{id}/resolve/{rev}/{file}``, with the real status
codes and ``X-Error-Code`` / ``X-Error-Message`` headers, so that the real client (pointed here with
``HF_ENDPOINT``) raises its real exceptions. Nothing is downloaded: config.json is a few bytes.

Who may read what is decided by the bearer token (see ``TOKENS``). For the secret tests the 401 answer
echoes the token it was given: the doctor must redact it anyway.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

GATED = "google/gemma-2b-it"
PUBLIC = "openai-community/gpt2"
SLOW = "slow-org/slow-model"
LIMITED = "busy-org/busy-model"
HUGE = "huge-org/huge-model"
#: Hub models with a full config.json (``files``), for the model-facts checks.
LONG_CONTEXT = "long-org/short-context"
EMBEDDER = "embed-org/bge-like"
CUSTOM = "custom-org/custom-code"
TINY = "tiny-org/tiny-model"
#: A Hub model with config.json and weights but no tokenizer files (a bare fine-tune upload).
NO_TOKENIZER = "bare-org/no-tokenizer"
#: The files of TINY, served by /resolve/ (for snapshot_download).
TINY_FILES: dict[str, bytes] = {
    "config.json": b'{"architectures": ["LlamaForCausalLM"], "max_position_embeddings": 2048}\n',
    "tokenizer.json": b'{"version": "1.0"}\n',
    "model.safetensors": b"\0" * 4096,
}

#: token -> (user, role, fine-grained can-read-gated, access to the gated model: granted|none|pending)
TOKENS: dict[str, tuple[str, str, bool | None, str]] = {
    "hf_readergranted0000000000000000000": ("alice", "read", None, "granted"),
    "hf_readernotaccepted00000000000000": ("bob", "read", None, "none"),
    "hf_readerpending000000000000000000": ("carol", "read", None, "pending"),
    "hf_finegrainednogated0000000000000": ("dave", "fineGrained", False, "granted"),
}
MODELS: dict[str, dict[str, Any]] = {
    GATED: {
        "gated": "manual",
        "params": 2_506_172_416,
        "config": {"architectures": ["GemmaForCausalLM"], "model_type": "gemma"},
        "files": {
            "tokenizer.json": {"version": "1.0"},
            "config.json": {
                "architectures": ["GemmaForCausalLM"],
                "model_type": "gemma",
                "hidden_size": 2048,
                "num_attention_heads": 8,
                "num_key_value_heads": 1,
                "num_hidden_layers": 18,
                "head_dim": 256,
                "max_position_embeddings": 8192,
                "vocab_size": 256000,
                "torch_dtype": "bfloat16",
            },
        },
    },
    PUBLIC: {"gated": False, "params": 137_022_720, "config": {"architectures": ["GPT2LMHeadModel"]}},
    SLOW: {"gated": False, "params": 1_000_000, "config": {}, "delay": 5.0},
    LIMITED: {"gated": False, "params": 1_000_000, "config": {}, "status": 429},
    HUGE: {"gated": False, "params": 400_000_000_000_000, "config": {}},
    LONG_CONTEXT: {
        "gated": False,
        "params": 1_000_000_000,
        "config": {"architectures": ["Qwen2ForCausalLM"]},
        "files": {
            "tokenizer.json": {"version": "1.0"},
            "config.json": {
                "architectures": ["Qwen2ForCausalLM"],
                "model_type": "qwen2",
                "hidden_size": 1536,
                "num_attention_heads": 12,
                "num_key_value_heads": 2,
                "num_hidden_layers": 28,
                "max_position_embeddings": 32768,
                "seq_length": 2048,
                "vocab_size": 151936,
                "torch_dtype": "bfloat16",
            },
            "tokenizer_config.json": {"model_max_length": 131072},
        },
    },
    EMBEDDER: {
        "gated": False,
        "params": 109_000_000,
        "config": {"architectures": ["BertModel"]},
        "files": {
            "tokenizer.json": {"version": "1.0"},
            "config.json": {
                "architectures": ["BertModel"],
                "model_type": "bert",
                "hidden_size": 768,
                "num_attention_heads": 12,
                "num_hidden_layers": 12,
                "max_position_embeddings": 512,
                "vocab_size": 30522,
                "torch_dtype": "float32",
            },
        },
    },
    CUSTOM: {
        "gated": False,
        "params": 7_000_000_000,
        "config": {"architectures": ["QWenLMHeadModel"]},
        "files": {
            "tokenizer.json": {"version": "1.0"},
            "config.json": {
                "architectures": ["QWenLMHeadModel"],
                "auto_map": {
                    "AutoConfig": "configuration_qwen.QWenConfig",
                    "AutoModelForCausalLM": "modeling_qwen.QWenLMHeadModel",
                },
                "model_type": "qwen",
                "hidden_size": 4096,
                "num_attention_heads": 32,
                "num_hidden_layers": 32,
                "max_position_embeddings": 8192,
                "seq_length": 2048,
                "vocab_size": 151936,
            },
        },
    },
    TINY: {"gated": False, "params": 1_000, "config": {}, "files": TINY_FILES},
    NO_TOKENIZER: {
        "gated": False,
        "params": 1_000_000_000,
        "config": {"architectures": ["LlamaForCausalLM"]},
        "files": {
            "config.json": {
                "architectures": ["LlamaForCausalLM"],
                "model_type": "llama",
                "hidden_size": 2048,
                "num_attention_heads": 16,
                "num_key_value_heads": 8,
                "num_hidden_layers": 16,
                "vocab_size": 32000,
                "max_position_embeddings": 4096,
                "torch_dtype": "bfloat16",
            },
            "model.safetensors": {},
        },
    },
}


@dataclass
class HubState:
    """What the server saw (for assertions) and the URL to point HF_ENDPOINT at."""

    url: str = ""
    requests: list[str] = field(default_factory=list)
    #: The models this server knows: :data:`MODELS`, plus the ``extra`` ones given to :func:`hub_server`.
    models: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(MODELS))


def directory_model(folder: Path) -> dict[str, Any]:
    """A public model entry whose files are the real bytes of every file under ``folder`` (for a test that
    needs snapshot_download to fetch a real checkpoint, e.g. the live stack's tiny Llama)."""
    files = {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }
    return {"gated": False, "params": 1_000, "config": {}, "files": files}


def _split_model_path(path: str) -> tuple[str, str] | None:
    """``/api/models/org/name[/auth-check]`` -> (repo id, suffix)."""
    rest = path.removeprefix("/api/models/")
    parts = rest.split("/")
    if len(parts) < 2:
        return None
    repo_id = "/".join(parts[:2])
    suffix = "/".join(parts[2:])
    return repo_id, suffix


class _Handler(BaseHTTPRequestHandler):
    state: HubState

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_file(self, data: bytes) -> None:

        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Repo-Commit", "0" * 40)
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth.removeprefix("Bearer ").strip() or None

    def _error(self, status: int, code: str | None, message: str) -> None:
        headers = {"X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        self._send(status, {"error": message}, headers)

    def _access(self, repo_id: str) -> bool:
        """Answer 401/403 like the Hub for a repository this token may not read; True when it may."""
        model = self.state.models.get(repo_id)
        token = self._token()
        if model is None:
            self._error(401 if token is None else 404, "RepoNotFound", "Repository not found")
            return False
        if token is not None and token not in TOKENS:
            self._error(401, None, "Invalid credentials in Authorization header")
            return False
        if not model["gated"]:
            return True
        if token is None:
            self._error(
                401, "GatedRepo", f"Access to model {repo_id} is restricted. You must be authenticated to access it."
            )
            return False
        _user, _role, can_read_gated, access = TOKENS[token]
        if can_read_gated is False:
            self._error(
                403,
                None,
                "Please enable access to public gated repositories in your fine-grained token "
                "settings to view this repository.",
            )
            return False
        if access == "pending":
            self._error(
                403, "GatedRepo", f"Your request to access model {repo_id} is awaiting a review from the repo authors."
            )
            return False
        if access != "granted":
            self._error(
                403,
                "GatedRepo",
                f"Access to model {repo_id} is restricted and you are not in the "
                f"authorized list. Visit {self.state.url}/{repo_id} to ask for access.",
            )
            return False
        return True

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        self.state.requests.append(f"{self.command} {path}")
        if path == "/api/whoami-v2":
            token = self._token()
            if token not in TOKENS:
                # Echo the token: a careless server (or proxy) may; the doctor must never print it.
                self._error(401, None, f"Invalid credentials in Authorization header (token {token})")
                return
            user, role, can_read_gated, _access = TOKENS[token]
            access_token: dict[str, Any] = {"displayName": f"{user}-token", "role": role}
            if can_read_gated is not None:
                access_token["fineGrained"] = {"canReadGatedRepos": can_read_gated, "global": [], "scoped": []}
            self._send(
                200,
                {
                    "type": "user",
                    "name": user,
                    "orgs": [],
                    "auth": {"type": "access_token", "accessToken": access_token},
                },
            )
            return
        if path.startswith("/api/models/"):
            split = _split_model_path(path)
            if split is None:
                self._error(404, None, "Not found")
                return
            repo_id, suffix = split
            model = self.state.models.get(repo_id, {})
            if model.get("delay"):
                time.sleep(float(model["delay"]))
            if model.get("status") == 429:
                self._send(
                    429,
                    {"error": "rate limited"},
                    {"RateLimit": '"api";r=0;t=60', "RateLimit-Policy": '"fixed window";"api";q=500;w=300'},
                )
                return
            if suffix.startswith("tree/") and "files" in model:
                raw = {
                    name: data if isinstance(data, bytes) else json.dumps(data).encode()
                    for name, data in model["files"].items()
                }
                tree = [
                    {"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
                    for name, data in raw.items()
                ]
                self._send(200, tree)
                return
            if suffix == "auth-check":
                if self._access(repo_id):
                    self._send(200, {})
                return
            if suffix in ("", "revision/main"):
                if repo_id not in self.state.models:
                    self._error(401 if self._token() is None else 404, "RepoNotFound", "Repository not found")
                    return
                self._send(
                    200,
                    {
                        "id": repo_id,
                        "modelId": repo_id,
                        "private": False,
                        "gated": model["gated"],
                        "sha": "0" * 40,
                        "config": model["config"],
                        "siblings": [{"rfilename": name} for name in model.get("files", {})],
                        "safetensors": {"parameters": {"BF16": model["params"]}, "total": model["params"]},
                    },
                )
                return
        if "/resolve/" in path:
            repo_id, rest = path.lstrip("/").split("/resolve/", 1)
            filename = rest.split("/", 1)[1] if "/" in rest else ""
            if self._access(repo_id):
                files = self.state.models[repo_id].get("files")
                if files is None:  # the access tests only need an answer
                    self._send(200, {}, {"X-Repo-Commit": "0" * 40, "ETag": '"config"'})
                elif filename not in files:
                    self._error(404, "EntryNotFound", f"{filename} does not exist on main")
                elif isinstance(files[filename], bytes):  # raw files (snapshot_download)
                    self._send_file(files[filename])
                else:  # JSON documents (the model-facts checks)
                    body = files[filename]
                    etag = hashlib.sha256(json.dumps(body).encode()).hexdigest()
                    self._send(200, body, {"X-Repo-Commit": "0" * 40, "ETag": f'"{etag}"'})
            return
        self._error(404, None, "Not found")


@contextmanager
def hub_server(extra: dict[str, dict[str, Any]] | None = None) -> Iterator[HubState]:
    """Run the server on 127.0.0.1 (a free port) for the duration of the block; ``extra`` adds models (by id)
    to this server only (see :func:`directory_model`)."""
    state = HubState()
    state.models.update(extra or {})
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
