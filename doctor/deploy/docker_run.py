"""Read a user's own ``docker run ...`` command line: image, mounts, env, ports, tritonserver arguments.

Users paste the guide's command from bash, PowerShell or cmd. Each shell quotes differently:

* bash: ``'...'`` literal, ``"..."`` with backslash escapes only before ``$ ` " \\`` and newline,
  ``\\`` + newline continues a line;
* PowerShell: ``'...'`` literal (``''`` is a quote), ``"..."`` and bare words use the backtick as escape,
  a backtick at the end of a line continues it, ``$env:NAME`` is a variable;
* cmd: ``"..."`` only, ``^`` escapes and continues lines, ``%NAME%`` is a variable.

Backslashes in Windows paths (``C:\\Users\\me\\triton_project``) must survive, so PowerShell and cmd are
never split with POSIX rules. The dialect is guessed from the text unless given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from triton_doctor.deploy.shellwords import Dialect, DockerCommandError, split_command

__all__ = ["DockerCommandError", "DockerRun", "Mount", "PortMap", "parse_docker_run", "split_command"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Mount:
    """One ``--mount`` or ``-v`` of the command."""

    type: str  # bind | volume | tmpfs
    source: str
    target: str
    readonly: bool = False
    #: The option as written, for evidence.
    raw: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PortMap:
    """One ``-p [ip:]host:container[/proto]``."""

    host_port: int | None
    container_port: int
    host_ip: str = ""
    protocol: str = "tcp"
    raw: str = ""


@dataclass(slots=True, kw_only=True)
class DockerRun:
    """Everything the doctor reads from a ``docker run`` command."""

    dialect: Dialect
    image: str = ""
    mounts: list[Mount] = field(default_factory=list)
    #: ``-e NAME=value`` -> value; ``-e NAME`` -> None (passed through from the host environment).
    env: dict[str, str | None] = field(default_factory=dict)
    env_files: list[str] = field(default_factory=list)
    ports: list[PortMap] = field(default_factory=list)
    name: str | None = None
    gpus: str | None = None
    runtime: str | None = None
    shm_size: str | None = None
    ipc: str | None = None
    network: str | None = None
    ulimits: list[str] = field(default_factory=list)
    remove: bool = False
    detach: bool = False
    #: Other options, as ``(option, value or None)``.
    other: list[tuple[str, str | None]] = field(default_factory=list)
    #: The container command after the image, e.g. ``["tritonserver", "--model-repository=/models"]``.
    command: list[str] = field(default_factory=list)
    model_repositories: list[str] = field(default_factory=list)
    load_models: list[str] = field(default_factory=list)
    model_control_mode: str | None = None
    #: Options this parser does not know, so their value could not be told apart from the image.
    unknown_options: list[str] = field(default_factory=list)


# Options of `docker run` that take a value (docker CLI 20.10-28.x). Anything else starting with "-" is a flag.
_VALUE_OPTS = {
    "--add-host", "--annotation", "--attach", "-a", "--blkio-weight", "--blkio-weight-device", "--cap-add",
    "--cap-drop", "--cgroup-parent", "--cgroupns", "--cidfile", "--cpu-period", "--cpu-quota",
    "--cpu-rt-period", "--cpu-rt-runtime", "--cpu-shares", "-c", "--cpus", "--cpuset-cpus", "--cpuset-mems",
    "--detach-keys", "--device", "--device-cgroup-rule", "--device-read-bps", "--device-read-iops",
    "--device-write-bps", "--device-write-iops", "--dns", "--dns-option", "--dns-search", "--domainname",
    "--entrypoint", "--env", "-e", "--env-file", "--expose", "--gpus", "--group-add", "--health-cmd",
    "--health-interval", "--health-retries", "--health-start-period", "--health-start-interval",
    "--health-timeout", "--hostname", "-h", "--ip", "--ip6", "--ipc", "--isolation", "--kernel-memory",
    "--label", "-l", "--label-file", "--link", "--link-local-ip", "--log-driver", "--log-opt",
    "--mac-address", "--memory", "-m", "--memory-reservation", "--memory-swap", "--memory-swappiness",
    "--mount", "--name", "--network", "--net", "--network-alias", "--net-alias", "--oom-score-adj", "--pid",
    "--pids-limit", "--platform", "--publish", "-p", "--pull", "--restart", "--runtime", "--security-opt",
    "--shm-size", "--stop-signal", "--stop-timeout", "--storage-opt", "--sysctl", "--tmpfs", "--ulimit",
    "--user", "-u", "--userns", "--uts", "--volume", "-v", "--volume-driver", "--volumes-from", "--workdir",
    "-w",
}  # fmt: skip
_FLAG_OPTS = {
    "--detach", "-d", "--disable-content-trust", "--init", "--interactive", "-i", "--no-healthcheck",
    "--oom-kill-disable", "--privileged", "--publish-all", "-P", "--quiet", "-q", "--read-only", "--rm",
    "--sig-proxy", "--tty", "-t", "--help", "--use-api-socket",
}  # fmt: skip
_SHORT_FLAGS = {"d", "i", "t", "P", "q"}


def _split_csv(value: str) -> list[str]:
    """Split a ``--mount`` value on commas, honouring double quotes around a field (docker's CSV rules)."""
    fields: list[str] = []
    cur: list[str] = []
    quoted = False
    i = 0
    while i < len(value):
        ch = value[i]
        i += 1
        if ch == '"':
            if quoted and value[i : i + 1] == '"':
                cur.append('"')
                i += 1
                continue
            quoted = not quoted
            continue
        if ch == "," and not quoted:
            fields.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    fields.append("".join(cur))
    return fields


def parse_mount(value: str) -> Mount:
    """Parse a ``--mount`` value such as ``type=bind,source=...,target=/models,readonly``."""
    kv: dict[str, str] = {}
    readonly = False
    for part in _split_csv(value):
        if not part:
            continue
        key, sep, val = part.partition("=")
        key = key.strip().lower()
        if not sep:
            if key in {"readonly", "ro"}:
                readonly = True
                continue
            raise DockerCommandError(f"--mount {value!r}: field {part!r} has no '=' (write key=value)")
        if key in {"readonly", "ro"}:
            readonly = val.strip().lower() in {"1", "true"}
            continue
        kv[key] = val
    source = kv.get("source", kv.get("src", ""))
    target = kv.get("target", kv.get("destination", kv.get("dst", "")))
    if not target:
        raise DockerCommandError(f"--mount {value!r} has no target= (write target=/models)")
    mtype = kv.get("type", "volume")
    return Mount(type=mtype, source=source, target=target, readonly=readonly, raw=f"--mount {value}")


_WIN_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def parse_volume(value: str) -> Mount:
    """Parse ``-v SOURCE:TARGET[:OPTS]``, where SOURCE may be a Windows path with a drive letter."""
    offset = 2 if _WIN_DRIVE.match(value) else 0
    first = value.find(":", offset)
    if first < 0:
        # An anonymous volume: -v /data
        return Mount(type="volume", source="", target=value, raw=f"-v {value}")
    source, rest = value[:first], value[first + 1 :]
    target, _, opts = rest.partition(":")
    if _WIN_DRIVE.match(rest) and not target.startswith("/"):
        target, opts = rest, ""
    is_path = bool(_WIN_DRIVE.match(source)) or source.startswith(("/", ".", "~", "\\"))
    readonly = "ro" in opts.split(",")
    return Mount(
        type="bind" if is_path else "volume", source=source, target=target, readonly=readonly, raw=f"-v {value}"
    )


def parse_port(value: str) -> PortMap:
    """Parse ``-p [ip:][host:]container[/proto]``."""
    spec, _, proto = value.partition("/")
    parts = spec.rsplit(":", 2)
    try:
        if len(parts) == 1:
            return PortMap(host_port=None, container_port=int(parts[0]), protocol=proto or "tcp", raw=value)
        if len(parts) == 2:
            host = int(parts[0]) if parts[0] else None
            return PortMap(host_port=host, container_port=int(parts[1]), protocol=proto or "tcp", raw=value)
        host = int(parts[1]) if parts[1] else None
        return PortMap(
            host_port=host,
            container_port=int(parts[2]),
            host_ip=parts[0].strip("[]"),
            protocol=proto or "tcp",
            raw=value,
        )
    except ValueError as exc:
        raise DockerCommandError(f"-p {value!r} is not [ip:]hostPort:containerPort (e.g. -p 8000:8000)") from exc


def parse_tritonserver(run: DockerRun) -> None:
    """Read the model repositories, --load-model names and control mode from ``run.command``."""
    args = run.command[1:] if run.command and run.command[0].endswith("tritonserver") else run.command
    it = iter(range(len(args)))
    for i in it:
        arg = args[i]
        name, sep, value = arg.partition("=")
        if not sep and i + 1 < len(args) and not args[i + 1].startswith("--"):
            value = args[i + 1]
            if name in {"--model-repository", "--model-store", "--load-model", "--model-control-mode"}:
                next(it, None)
        if name in {"--model-repository", "--model-store"}:
            run.model_repositories.append(value)
        elif name == "--load-model":
            run.load_models.append(value)
        elif name == "--model-control-mode":
            run.model_control_mode = value


def parse_docker_run(text: str, dialect: Dialect | None = None) -> DockerRun:
    """Parse a ``docker run`` command line; raise :class:`DockerCommandError` with the fix on bad input."""
    # Whole-line comments (what `triton-doctor command > run.sh` writes around the command) are not words.
    text = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith(("#", "REM ", "::")))
    words, dialect = split_command(text.strip(" \t\r\n\ufeff"), dialect)
    # Skip a leading "sudo", "MSYS_NO_PATHCONV=1" and friends, then require docker [container] run.
    i = 0
    while i < len(words) and (words[i] == "sudo" or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[i])):
        i += 1
    if i < len(words) and words[i].lower().removesuffix(".exe").endswith("docker"):
        i += 1
        if i < len(words) and words[i] == "container":
            i += 1
        if i >= len(words) or words[i] not in {"run", "create"}:
            got = words[i] if i < len(words) else "nothing"
            raise DockerCommandError(f"expected 'docker run ...', found 'docker {got}'")
        i += 1
    elif i < len(words) and words[i] in {"run", "create"}:
        i += 1
    else:
        first = words[0] if words else "an empty command"
        raise DockerCommandError(f"expected a command starting with 'docker run', found {first!r}")

    run = DockerRun(dialect=dialect)
    while i < len(words):
        word = words[i]
        if word == "--":
            i += 1
            break
        if not word.startswith("-") or word == "-":
            break
        opt, eq, inline = word.partition("=")
        if opt not in _VALUE_OPTS and not word.startswith("--") and len(word) > 2 and word[:2] in _VALUE_OPTS:
            opt, eq, inline = word[:2], "=", word[2:]  # "-p8000:8000"
        if opt in _VALUE_OPTS:
            if eq:
                value = inline
                i += 1
            else:
                if i + 1 >= len(words):
                    raise DockerCommandError(f"option {opt} at the end of the command needs a value")
                value = words[i + 1]
                i += 2
            _apply(run, opt, value)
            continue
        if opt in _FLAG_OPTS:
            _apply(run, opt, inline if eq else None)
            i += 1
            continue
        if re.fullmatch(r"-[A-Za-z]+", opt) and set(opt[1:]) <= _SHORT_FLAGS:
            for ch in opt[1:]:
                _apply(run, f"-{ch}", None)
            i += 1
            continue
        run.unknown_options.append(word)
        i += 1
    if i >= len(words):
        raise DockerCommandError(
            "no image found after the docker run options (write the image name, e.g. "
            "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3)"
        )
    run.image = words[i]
    run.command = words[i + 1 :]
    parse_tritonserver(run)
    return run


def _apply(run: DockerRun, opt: str, value: str | None) -> None:
    match opt:
        case "--mount":
            run.mounts.append(parse_mount(value or ""))
        case "-v" | "--volume":
            run.mounts.append(parse_volume(value or ""))
        case "-e" | "--env":
            name, sep, val = (value or "").partition("=")
            run.env[name] = val if sep else None
        case "--env-file":
            run.env_files.append(value or "")
        case "-p" | "--publish":
            run.ports.append(parse_port(value or ""))
        case "--name":
            run.name = value
        case "--gpus":
            run.gpus = value
        case "--runtime":
            run.runtime = value
        case "--shm-size":
            run.shm_size = value
        case "--ipc":
            run.ipc = value
        case "--network" | "--net":
            run.network = value
        case "--ulimit":
            run.ulimits.append(value or "")
        case "--rm":
            run.remove = value is None or value.lower() == "true"
        case "-d" | "--detach":
            run.detach = value is None or value.lower() == "true"
        case _:
            run.other.append((opt, value))
