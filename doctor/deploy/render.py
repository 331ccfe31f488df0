"""The container a deployment needs, built once and written out for each shell (and for the live stage).

:func:`build_spec` turns a :class:`~triton_doctor.deploy.target.Target` into a :class:`ContainerSpec`: the user's
image, mounts, env, ports and tritonserver arguments, plus what a working Triton + vLLM deployment also needs
(explicit model control with ``--load-model``, ``--shm-size``, ulimits, ``--gpus all``; ``--ipc=host`` and
the spawn method for tensor parallel). :func:`render` writes it for bash, PowerShell, cmd or a compose
service; :func:`client_calls` prints a curl and a Python call that stream with ``max_tokens`` set and stop
when the response ends (Triton sends no ``[DONE]``). The token is always passed by name (``-e HF_TOKEN``),
never by value.
"""

from __future__ import annotations

import json
import ntpath
import os
import re
from dataclasses import dataclass, field
from typing import Literal

from triton_doctor.deploy import quoting
from triton_doctor.deploy.target import Target

__all__ = ["ContainerSpec", "build_spec", "client_calls", "render"]

DEFAULT_IMAGE = "nvcr.io/nvidia/tritonserver:25.09-vllm-python-py3"
ULIMITS = (("memlock", -1, -1), ("stack", 67108864, 67108864))
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|KEY|CREDENTIAL", re.IGNORECASE)
#: A value that is only a host variable: $NAME, ${NAME}, $env:NAME (PowerShell), %NAME% (cmd).
_VAR_REF = re.compile(
    r"^(?:\$([A-Za-z_][A-Za-z0-9_]*)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$env:([A-Za-z_][A-Za-z0-9_]*)|%([A-Za-z_][A-Za-z0-9_]*)%)$",
    re.IGNORECASE,
)

Shell = Literal["bash", "powershell", "cmd", "compose"]


@dataclass(frozen=True, slots=True)
class SpecMount:
    """A mount with its host source as the user's shell sees it (absolute)."""

    type: str
    source: str
    target: str
    readonly: bool = False


@dataclass(frozen=True, slots=True)
class SpecPort:
    """``[host_ip:]host_port:container_port[/protocol]``; ``host_port`` None publishes on a free port."""

    container_port: int
    host_port: int | None
    host_ip: str = ""
    protocol: str = "tcp"


@dataclass(slots=True, kw_only=True)
class ContainerSpec:
    """Everything ``docker run`` needs for the deployment."""

    image: str
    mounts: list[SpecMount] = field(default_factory=list)
    #: Passed by name from the host environment (``-e NAME``): the token and any secret-looking variable.
    env_names: list[str] = field(default_factory=list)
    #: Passed with a value (``-e NAME=value``): non-secret settings.
    env_values: dict[str, str] = field(default_factory=dict)
    #: Passed from another host variable (``-e HUGGING_FACE_HUB_TOKEN=$HF_TOKEN``): NAME -> host variable.
    env_refs: dict[str, str] = field(default_factory=dict)
    ports: list[SpecPort] = field(default_factory=list)
    shm_size: str | None = "1g"
    ipc_host: bool = False
    gpus: bool = True
    ulimits: tuple[tuple[str, int, int], ...] = ULIMITS
    #: The container command: ``tritonserver`` and its arguments.
    command: list[str] = field(default_factory=list)
    name: str | None = None
    models: list[str] = field(default_factory=list)


def _absolute(source: str) -> str:
    """A bind source as an absolute path of the user's machine (Windows paths are kept as written)."""
    if re.match(r"^[A-Za-z]:[\\/]", source) or source.startswith("\\\\"):
        return ntpath.normpath(source)
    if source.startswith("~"):
        return source
    return os.path.abspath(source)


def _ensure_arg(args: list[str], name: str, value: str) -> list[str]:
    if any(a == name or a.startswith(name + "=") for a in args):
        return args
    return [*args, f"{name}={value}"]


def build_spec(
    target: Target,
    models: list[str],
    *,
    parallel: int = 1,
    publish_defaults: bool = True,
) -> ContainerSpec:
    """The container for ``target`` serving ``models``.

    ``publish_defaults``: without ports in the user's command, publish 8000-8002 on the same host ports
    (a printed command) or on free ports (``False``: the live stage, which must not collide).
    """
    run = target.docker
    env_names: list[str] = []
    env_values: dict[str, str] = {}
    env_refs: dict[str, str] = {}
    if run is not None:
        for key, raw in run.env.items():
            ref = _VAR_REF.match(raw or "")
            if ref is not None:
                variable = next(g for g in ref.groups() if g)
                if variable == key:
                    env_names.append(key)
                else:
                    env_refs[key] = variable
            elif raw is None or _SECRET_NAME.search(key) or raw.startswith(("$", "%")):
                env_names.append(key)
            else:
                env_values[key] = raw
    if not any(n in {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} for n in [*env_names, *env_refs]):
        env_names.append("HF_TOKEN")
    if parallel > 1:
        env_values.setdefault("VLLM_WORKER_MULTIPROC_METHOD", "spawn")
    mounts = []
    for m in target.mounts:
        if run is not None and m.origin == "default":
            continue  # the user's command says what is mounted; the doctor's /models default is not theirs
        source = _absolute(m.source) if m.type == "bind" else m.source
        mounts.append(SpecMount(m.type, source, m.target, m.readonly))
    ports: list[SpecPort] = []
    if run is not None and run.ports:
        ports = [SpecPort(p.container_port, p.host_port, p.host_ip, p.protocol) for p in run.ports]
    else:
        ports = [SpecPort(p, p if publish_defaults else None) for p in (8000, 8001, 8002)]
    args = list(run.command[1:]) if run is not None and run.command else []
    args = _ensure_arg(args, "--model-repository", target.repo_target)
    if models and not any(a.startswith("--model-control-mode") for a in args):
        args.append("--model-control-mode=explicit")
        args += [f"--load-model={model}" for model in models if f"--load-model={model}" not in args]
    ipc_host = parallel > 1 or (run is not None and run.ipc == "host")
    return ContainerSpec(
        image=target.image or (run.image if run is not None else "") or DEFAULT_IMAGE,
        mounts=mounts,
        env_names=env_names,
        env_values=env_values,
        env_refs=env_refs,
        ports=ports,
        shm_size=None if ipc_host else (run.shm_size if run is not None and run.shm_size else "1g"),
        ipc_host=ipc_host,
        gpus=run is None or run.gpus is not None or run.runtime == "nvidia",
        command=["tritonserver", *args],
        name=run.name if run is not None else None,
        models=list(models),
    )


@dataclass(frozen=True, slots=True)
class _Ref:
    """``NAME=<host variable>``: written by :func:`quoting.env_ref` for each shell."""

    name: str
    variable: str


def _words(spec: ContainerSpec) -> list[list[str | _Ref]]:
    """The command's words, grouped one option per line."""
    lines: list[list[str | _Ref]] = [["docker", "run", "--rm"]]
    if spec.name:
        lines.append(["--name", spec.name])
    if spec.gpus:
        lines.append(["--gpus", "all"])
    if spec.ipc_host:
        lines.append(["--ipc=host"])
    elif spec.shm_size:
        lines.append([f"--shm-size={spec.shm_size}"])
    lines.append([f"--ulimit={name}={soft}:{hard}" if soft != hard else f"--ulimit={name}={soft}"
                  for name, soft, hard in spec.ulimits])  # fmt: skip
    for port in spec.ports:
        host = f"{port.host_ip}:" if port.host_ip else ""
        host += f"{port.host_port}:" if port.host_port is not None else ""
        proto = f"/{port.protocol}" if port.protocol != "tcp" else ""
        lines.append(["-p", f"{host}{port.container_port}{proto}"])
    for name in spec.env_names:
        lines.append(["-e", name])
    for name, value in spec.env_values.items():
        lines.append(["-e", f"{name}={value}"])
    for name, variable in spec.env_refs.items():
        lines.append(["-e", _Ref(name, variable)])
    for m in spec.mounts:
        lines.append(["--mount", quoting.mount_value(m.type, m.source, m.target, m.readonly)])
    lines.append([spec.image])
    lines.append([*spec.command[:2]])
    lines += [[arg] for arg in spec.command[2:]]
    return lines


def render(spec: ContainerSpec, shell: Shell, *, batch: bool = False) -> str:
    """The ``docker run`` command for ``shell`` (or a compose service for ``compose``); every word goes through
    :mod:`~triton_doctor.deploy.quoting` (``batch``: for a .bat/.cmd file, where ``%`` is ``%%``)."""
    if shell == "compose":
        return _compose(spec)
    lines = _words(spec)
    legacy = shell == "powershell" and any(
        quoting.powershell_needs_legacy(w) for words in lines for w in words if isinstance(w, str)
    )

    def one(word: str | _Ref) -> str:
        if isinstance(word, _Ref):
            return quoting.env_ref(shell, word.name, word.variable)
        if shell == "bash":
            return quoting.bash(word)
        if shell == "powershell":
            return quoting.powershell(word, legacy=legacy)
        return quoting.cmd(word, batch=batch)

    cont = {"bash": " \\", "powershell": " `", "cmd": " ^"}[shell]
    text = (cont + "\n  ").join(" ".join(one(w) for w in words) for words in lines)
    if legacy:
        # the one argument passing Windows PowerShell 5.1 and PowerShell 7 share
        text = "$PSNativeCommandArgumentPassing = 'Legacy'\n" + text
    return text


def _compose(spec: ContainerSpec) -> str:
    q = quoting.compose
    out = ["services:", "  triton:", f"    image: {q(spec.image)}"]
    if spec.name:
        out.append(f"    container_name: {q(spec.name)}")
    out.append("    command: [" + ", ".join(q(a) for a in spec.command) + "]")
    if spec.ports:
        out.append("    ports:")
        for port in spec.ports:
            host = f"{port.host_ip}:" if port.host_ip else ""
            host += f"{port.host_port}:" if port.host_port is not None else ""
            proto = f"/{port.protocol}" if port.protocol != "tcp" else ""
            out.append(f"      - {q(f'{host}{port.container_port}{proto}')}")
    if spec.env_names or spec.env_values or spec.env_refs:
        out.append("    environment:")
        out += [f"      - {q(name)}" for name in spec.env_names]
        out += [f"      - {q(f'{name}={value}')}" for name, value in spec.env_values.items()]
        out += [f"      - {quoting.env_ref('compose', n, v)}" for n, v in spec.env_refs.items()]
    if spec.mounts:
        out.append("    volumes:")
        for m in spec.mounts:
            out += [f"      - type: {m.type}", f"        source: {q(m.source)}", f"        target: {q(m.target)}"]
            if m.readonly:
                out.append("        read_only: true")
    if spec.ipc_host:
        out.append('    ipc: "host"')
    elif spec.shm_size:
        out.append(f"    shm_size: {q(spec.shm_size)}")
    out.append("    ulimits:")
    for name, soft, hard in spec.ulimits:
        out.append(f"      {name}: {soft}" if soft == hard else f"      {name}: {{soft: {soft}, hard: {hard}}}")
    if spec.gpus:
        out += [
            "    deploy:",
            "      resources:",
            "        reservations:",
            "          devices:",
            "            - driver: nvidia",
            "              count: all",
            "              capabilities: [gpu]",
        ]
    named = [m.source for m in spec.mounts if m.type == "volume" and m.source]
    if named:  # a named volume is declared at the top level, or compose refuses the file
        out += ["volumes:", *(f"  {name}: {{}}" for name in dict.fromkeys(named))]
    return "\n".join(out)


def client_calls(spec: ContainerSpec, prompt: str = "The capital of France is", max_tokens: int = 64) -> str:
    """A streaming curl call and a Python one: ``max_tokens`` set, reading events until the stream ends."""
    model = spec.models[0] if spec.models else "<model>"
    port = next((p.host_port for p in spec.ports if p.container_port == 8000 and p.host_port), 8000)
    # The name is a path segment (percent-encoded) and the URL one quoted word / one string literal: a model
    # folder named x$(touch pwned) is text in both, never code.
    url = f"http://localhost:{port}/v2/models/{quoting.url_path_segment(model)}/generate_stream"
    body = json.dumps({"text_input": prompt, "stream": True, "parameters": {"max_tokens": max_tokens}})
    curl = (
        f"curl -sN -X POST {quoting.bash(url)} \\\n  -H 'Content-Type: application/json' \\\n  -d {quoting.bash(body)}"
    )
    python = f"""import json, requests

# Triton ends the event stream by closing it: there is no "data: [DONE]" line to wait for.
with requests.post(
    {quoting.python_str(url)},
    json={{"text_input": {quoting.python_str(prompt)}, "stream": True, "parameters": {{"max_tokens": {max_tokens}}}}},
    stream=True,
    timeout=(10, 300),
) as response:
    response.raise_for_status()
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("data: "):
            event = json.loads(line[len("data: "):])
            if "error" in event:
                raise RuntimeError(event["error"])
            print(event["text_output"], end="", flush=True)
print()"""
    return f"# curl (bash)\n{curl}\n\n# Python\n{python}"


def command_text(spec: ContainerSpec, shells: list[Shell], *, client: bool = True) -> str:
    """Every requested rendering with a heading, then the client calls."""
    titles = {"bash": "bash", "powershell": "PowerShell", "cmd": "cmd.exe", "compose": "compose.yaml"}
    parts = [f"# {titles[shell]}\n{render(spec, shell)}" for shell in shells]
    if client:
        parts.append(client_calls(spec))
    if "HF_TOKEN" in spec.env_names:
        parts.append("# HF_TOKEN is passed by name: set it in your shell first (never paste it into the command).")
    return "\n\n".join(parts) + "\n"
