"""The README is a user guide that works: short, its two commands first, and every command in it runs as printed.

Each ```bash block of the README is split into commands (backslash continuations joined) and run with bash, in
order, in one temporary project folder, as a reader following the walk-through would. Nothing leaves the
machine: HOME and the Hugging Face cache are temporary, the Hub endpoint is a closed loopback port and Docker
is a socket that does not exist, so the checks that need them report that and move on. The few commands that
cannot run here are listed in SKIP with the reason; a SKIP entry the README no longer holds fails, so the list
cannot go stale.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MAIN_COMMAND = "python -m pip install . && triton-doctor check --sample guide --only repo"
INSTALL = "python -m pip install . && "

SKIP = {
    "python -m pip install -e '.[test]' && python -m pytest": "the test suite itself; .ci/run runs it",
    "python -m pip install .": "the package is already installed in this environment; .ci/run installs it",
    "triton-doctor check --live --docker-command-file run.sh": (
        "starts the real tritonserver image on a GPU host; tests/test_live.py runs the live stage on the test stack"
    ),
}

# Exit codes the walk-through must give here (no Docker, no GPU, no Hub); any other command may exit 0 or 1.
EXPECTED_RC = {
    "triton-doctor check --sample guide --only repo": 1,
    "triton-doctor --version": 0,
    "triton-doctor init google/gemma-3-1b-it --name gemma": 0,
    "triton-doctor check --profile quick": 0,
    "triton-doctor fix --dry-run": 0,
    "triton-doctor fix --yes": 0,
    "triton-doctor command --shell bash --no-client > run.sh": 0,
}


def readme_commands(text: str) -> list[str]:
    """The commands of every ```bash block, continuation lines joined, comments and blank lines left out."""
    commands: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        pending = ""
        for line in block.splitlines():
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                pending += line[:-1]
                continue
            commands.append((pending + line).strip())
            pending = ""
    return commands


def test_readme_is_short_and_starts_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines (at most 200; reference material goes to docs/)"
    commands = readme_commands(text)
    assert commands[0] == MAIN_COMMAND
    # .ci/run reads the test command two lines below the marker.
    marker = lines.index("<!-- ci:test-command -->")
    assert lines[marker + 1] == "```bash"
    assert lines[marker + 2] == commands[1]
    assert "--no-gpus" in text


def test_readme_links_to_its_own_docs_pages() -> None:
    text = README.read_text(encoding="utf-8")
    links = set(re.findall(r"\]\((docs/[^)#]+)\)", text))
    for page in ("docs/reference.md", "docs/checks.md", "docs/gate.md", "docs/development.md"):
        assert page in links
        assert (ROOT / page).is_file(), page


def test_skip_list_matches_the_readme() -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    stale = [c for c in SKIP if c not in commands and INSTALL + c not in commands]
    assert not stale, f"SKIP names commands the README no longer has: {stale}"
    assert all(reason for reason in SKIP.values())


def test_every_readme_command_runs_as_printed(tmp_path: Path) -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    project = tmp_path / "triton_project"
    project.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    bindir = str(Path(sys.executable).parent)
    env = {
        "PATH": bindir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "HF_HUB_CACHE": str(tmp_path / "hf-cache"),
        "HF_ENDPOINT": "http://127.0.0.1:9",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "DOCKER_HOST": f"unix://{tmp_path / 'no-docker.sock'}",
        "NO_COLOR": "1",
        "LANG": "C.UTF-8",
    }
    ran = 0
    for printed in commands:
        if printed in SKIP:
            continue
        command = printed
        if command.startswith(INSTALL) and INSTALL.removesuffix(" && ") in SKIP:
            command = command.removeprefix(INSTALL)
        proc = subprocess.run(
            ["bash", "-c", command], cwd=project, env=env, capture_output=True, text=True, timeout=240
        )
        out = proc.stdout + proc.stderr
        assert "Traceback" not in out, f"{command}\n{out}"
        expected = EXPECTED_RC.get(command)
        if expected is None:
            assert proc.returncode in (0, 1), f"{command}: exit {proc.returncode}\n{out}"
        else:
            assert proc.returncode == expected, f"{command}: exit {proc.returncode}, expected {expected}\n{out}"
        if command == MAIN_COMMAND.removeprefix(INSTALL):
            assert "max-batch-size-nonzero" in out
        ran += 1
    assert ran >= 10, f"only {ran} README commands ran"
    # The walk-through left what it says it leaves: the repository, the command file, nothing under HOME.
    assert (project / "model_repository" / "gemma" / "1" / "model.json").is_file()
    assert (project / "run.sh").is_file()
    assert not any(home.iterdir()), sorted(str(p) for p in home.rglob("*"))
