"""The fix journal is data from disk, never trusted (issue 18): schema, path guard, repository binding,
relocation, link and FIFO refusal, lock, atomic status, plan-time bytes compared before every write, chunked
hashing, mode/owner/mtime restored, private journal files. Each test failed before the fix."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, run_cli
from tests.test_fix import snapshot
from triton_doctor.deploy.inputs import TargetInput
from triton_doctor.repair import FixError, FixRequest, run_fix_command
from triton_doctor.repair import filehash as filehash_mod
from triton_doctor.repair import journal as journal_mod
from triton_doctor.repair.filehash import tree_hash
from triton_doctor.repair.journal import journal_lock
from triton_doctor.repair.pathguard import PathGuard, PathRefused


def _fixed(tmp_path: Path, name: str = "json-comment") -> tuple[Path, str, Path]:
    """A copied fixture with one fix applied: (project, run id, manifest path)."""
    work = tmp_path / name
    shutil.copytree(FIXTURES / "repos" / name, work, symlinks=True)
    result = run_cli("fix", "--yes", "--repo", str(work / "model_repository"), cwd=work)
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    (run_id,) = [p.name for p in (work / ".triton-doctor" / "journal").iterdir()]
    return work, run_id, work / ".triton-doctor" / "journal" / run_id / "manifest.json"


def _edit(manifest: Path, change: Any) -> None:
    data = json.loads(manifest.read_text())
    new = change(data)
    manifest.write_text(json.dumps(new if isinstance(new, list) else data))


def _undo(work: Path, *extra: str) -> Any:
    return run_cli("fix", "--undo", *extra, "--repo", str(work / "model_repository"), cwd=work)


def test_a_manifest_path_outside_the_repository_is_refused(tmp_path: Path) -> None:
    work, run_id, manifest = _fixed(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")

    def point_out(data: dict[str, Any]) -> None:
        data["operations"][0]["path"] = str(victim)
        data["operations"][0]["after"] = __import__("hashlib").sha256(b"mine\n").hexdigest()

    _edit(manifest, point_out)
    result = _undo(work, run_id)
    assert result.exit_code == 2 and "outside the repository" in result.stderr
    assert victim.read_text() == "mine\n"


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda d: d["operations"][0].update(backup="../../../../victim"), "backup"),
        (lambda d: d["operations"][0].update(mode=0o104755), "setuid"),
        (lambda d: d["operations"][0].update(mode="rw"), "mode"),
        (lambda d: d["operations"][0].pop("kind"), "kind"),
        (lambda d: d.pop("operations") and None, "operations"),
        (lambda d: [d], "not an object"),
        (lambda d: d["operations"][0].update(path="model_repository/../../x"), "'..'"),
        (lambda d: "[" * 100000, "not JSON"),
    ],
    ids=["backup-dotdot", "setuid", "mode-rw", "no-kind", "no-operations", "a-list", "dotdot-path", "deep"],
)
def test_a_manifest_of_the_wrong_shape_is_a_clear_error(tmp_path: Path, change: Any, words: str) -> None:
    work, run_id, manifest = _fixed(tmp_path)
    before = snapshot(work)
    if words == "not JSON":
        manifest.write_text(change(None))
    else:
        _edit(manifest, change)
    result = _undo(work, run_id)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert words in result.stderr and "nothing was changed" in result.stderr
    assert snapshot(work) == before


@pytest.mark.parametrize("run_id", ["../../../elsewhere", "..", "a/b", "x\n"])
def test_a_run_id_is_validated(tmp_path: Path, run_id: str) -> None:
    work, _run, _manifest = _fixed(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(work / ".triton-doctor" / "journal" / _run, elsewhere)
    result = _undo(work, run_id)
    assert result.exit_code == 2 and "not a fix run id" in result.stderr


def test_undo_in_a_copied_project_restores_the_copy_not_the_original(tmp_path: Path) -> None:
    original, run_id, _manifest = _fixed(tmp_path)
    fixed_original = snapshot(original)
    copy = tmp_path / "copy"
    shutil.copytree(original, copy, symlinks=True)
    result = _undo(copy, run_id)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert snapshot(original) == fixed_original
    pristine = tmp_path / "pristine"
    shutil.copytree(FIXTURES / "repos" / "json-comment", pristine)
    assert snapshot(copy) == snapshot(pristine)


def test_a_moved_project_can_be_undone(tmp_path: Path) -> None:
    work, run_id, _manifest = _fixed(tmp_path)
    moved = tmp_path / "moved elsewhere"
    work.rename(moved)
    result = _undo(moved, run_id)
    assert result.exit_code == 0, result.stdout + result.stderr
    pristine = tmp_path / "pristine"
    shutil.copytree(FIXTURES / "repos" / "json-comment", pristine)
    assert snapshot(moved) == snapshot(pristine)


def test_a_run_is_bound_to_its_repository(tmp_path: Path) -> None:
    work, run_id, _manifest = _fixed(tmp_path)
    other = work / "other_repository"
    shutil.copytree(work / "model_repository", other)
    result = run_cli("fix", "--undo", run_id, "--repo", str(other), cwd=work)
    assert result.exit_code == 2 and "was made for the repository 'model_repository'" in result.stderr


def test_a_symlinked_state_folder_is_refused(tmp_path: Path) -> None:
    work = tmp_path / "w"
    shutil.copytree(FIXTURES / "repos" / "json-comment", work)
    away = tmp_path / "away"
    away.mkdir()
    (work / ".triton-doctor").symlink_to(away)
    before = snapshot(work)
    result = run_cli("fix", "--yes", "--repo", str(work / "model_repository"), cwd=work)
    assert result.exit_code == 2 and "symbolic link" in result.stderr
    assert list(away.iterdir()) == [] and snapshot(work) == before


def test_a_fifo_manifest_is_refused_without_waiting(tmp_path: Path) -> None:
    work, run_id, manifest = _fixed(tmp_path)
    manifest.unlink()
    os.mkfifo(manifest)
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(_undo(work, run_id)), daemon=True)
    thread.start()
    thread.join(20)
    assert done, "undo waited on a FIFO"
    assert done[0].exit_code == 2 and "FIFO" in done[0].stderr


def test_journal_files_are_private(tmp_path: Path) -> None:
    work, _run_id, manifest = _fixed(tmp_path)
    run = manifest.parent
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o600
    for kept in (run / "files").iterdir():
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    for folder in (work / ".triton-doctor", work / ".triton-doctor" / "journal", run, run / "files"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_mode_owner_and_mtime_are_restored(tmp_path: Path) -> None:
    work = tmp_path / "w"
    shutil.copytree(FIXTURES / "repos" / "json-comment", work)
    (target,) = list((work / "model_repository").rglob("model.json"))
    target.chmod(0o640)
    os.utime(target, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    if os.geteuid() == 0:
        os.chown(target, 4321, 4321)
    result = run_cli("fix", "--yes", "--repo", str(work / "model_repository"), cwd=work)
    assert result.exit_code in (0, 1), result.stdout
    assert _undo(work).exit_code == 0
    info = target.stat()
    assert stat.S_IMODE(info.st_mode) == 0o640
    assert info.st_mtime_ns == 1_000_000_000_000_000_000
    if os.geteuid() == 0:
        assert (info.st_uid, info.st_gid) == (4321, 4321)


def test_a_full_disk_while_saving_the_undo_status_is_no_traceback_and_no_false_conflict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work, run_id, _manifest = _fixed(tmp_path)
    real = journal_mod.atomic_write

    def full(path: Path, data: bytes, mode: int | None = None) -> None:
        if path.name == "manifest.json":
            raise OSError(28, "No space left on device")
        real(path, data, mode)

    monkeypatch.setattr(journal_mod, "atomic_write", full)
    first = _undo(work, run_id)
    assert first.exit_code == 0, first.stdout + first.stderr
    assert "could not be saved" in first.stdout and "no space left" in first.stdout
    monkeypatch.setattr(journal_mod, "atomic_write", real)
    second = _undo(work, run_id)
    assert second.exit_code == 0, second.stdout + second.stderr
    assert "changed after the fix" not in second.stdout


def test_an_edit_made_while_fix_waits_at_its_prompt_is_never_lost(tmp_path: Path) -> None:
    work = tmp_path / "w"
    shutil.copytree(FIXTURES / "repos" / "json-comment", work)
    (target,) = list((work / "model_repository").rglob("model.json"))

    def confirm(_question: str) -> bool:
        target.write_text(target.read_text() + "\n// my edit while fix was asking\n")
        return True

    request = FixRequest(target=TargetInput(repo=str(work / "model_repository"), cwd=work))
    with pytest.raises(FixError, match="changed since the plan"):
        run_fix_command(request, out=io.StringIO(), confirm=confirm)
    assert "my edit while fix was asking" in target.read_text()


def test_two_runs_cannot_interleave(tmp_path: Path) -> None:
    work = tmp_path / "w"
    shutil.copytree(FIXTURES / "repos" / "json-comment", work)
    before = snapshot(work)
    with journal_lock(work / "model_repository"):
        result = run_cli("fix", "--yes", "--repo", str(work / "model_repository"), cwd=work)
        undo = _undo(work)
    assert result.exit_code == 2 and "another triton-doctor fix is running" in result.stderr
    assert undo.exit_code == 2 and "another triton-doctor fix is running" in undo.stderr
    assert snapshot(work) == before


def test_tree_hash_reads_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "1"
    folder.mkdir()
    weights = folder / "model.safetensors"
    with weights.open("wb") as handle:
        handle.truncate(3 * filehash_mod.HASH_CHUNK + 7)
    (folder / "link").symlink_to("/etc/passwd")
    expected = tree_hash(folder)
    seen: list[int] = []
    real_read = os.read

    def read(fd: int, size: int) -> bytes:
        seen.append(size)
        return real_read(fd, size)

    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read whole"))
    monkeypatch.setattr(filehash_mod.os, "read", read)
    assert tree_hash(folder) == expected and max(seen) <= filehash_mod.HASH_CHUNK


def test_the_path_guard_never_follows_a_link_out(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "m").mkdir(parents=True)
    (tmp_path / "secret").write_text("key")
    (repo / "m" / "key").symlink_to(tmp_path / "secret")
    (repo / "m" / "dir").symlink_to(tmp_path)
    guard = PathGuard([repo])
    assert guard.check(repo / "m" / "key") == repo.resolve() / "m" / "key"  # replaced as a link, never through
    for bad in (repo / "m" / "dir" / "secret", repo / ".." / "secret", tmp_path / "secret"):
        with pytest.raises(PathRefused):
            guard.check(bad)
    with pytest.raises(PathRefused):
        guard.readable(repo / "m" / "key")
