"""The runner and the registry with in-test checks named by outcome (Flutter's fakes)."""

from __future__ import annotations

import time
from importlib.metadata import EntryPoint

from triton_doctor.check import Check
from triton_doctor.deploy.target import Target
from triton_doctor.facts.context import Context
from triton_doctor.policy import Policy, exit_code
from triton_doctor.registry import load_registry, validate_check
from triton_doctor.results import Category, ExitCode, Finding, Outcome, Severity, Status
from triton_doctor.runner import RunOptions, order_checks, run_checks


class PassingCheck(Check):
    id = "passing-check"
    title = "Passes"
    category = Category.REPO

    def run(self, ctx: Context) -> Outcome:
        return Outcome(summary="fine")


class FailingCheck(Check):
    id = "failing-check"
    title = "Fails"
    category = Category.REPO

    def run(self, ctx: Context) -> Outcome:
        return Outcome(findings=(Finding(id="failing-check[bad]", severity=Severity.ERROR, message="bad"),))


class CrashingCheck(Check):
    id = "crashing-check"
    title = "Crashes"
    category = Category.REPO

    def run(self, ctx: Context) -> Outcome:
        raise RuntimeError("boom")


class HangingCheck(Check):
    id = "hanging-check"
    title = "Hangs"
    category = Category.DOCKER
    timeout_s = 0.2

    def run(self, ctx: Context) -> Outcome:
        time.sleep(5)
        return Outcome()


class NeedsFailing(Check):
    id = "needs-failing"
    title = "Needs the failing one"
    category = Category.REPO
    requires = frozenset({"failing-check"})

    def run(self, ctx: Context) -> Outcome:
        raise AssertionError("must not run")


class NeedsNetwork(Check):
    id = "needs-network"
    title = "Network"
    category = Category.HF
    network = True

    def run(self, ctx: Context) -> Outcome:
        raise AssertionError("must not run offline")


class BadId(Check):
    id = "Bad_Id"
    title = "x"
    category = Category.REPO


def _ctx() -> Context:
    return Context(Target(repo="nowhere"))


def test_crash_and_timeout_become_results_and_the_run_goes_on() -> None:
    start = time.monotonic()
    results = run_checks([HangingCheck, CrashingCheck, PassingCheck], _ctx(), RunOptions())
    assert time.monotonic() - start < 3
    by_id = {r.check: r for r in results}
    assert by_id["hanging-check"].status is Status.ERROR and "timed out" in (by_id["hanging-check"].error or "")
    assert by_id["crashing-check"].status is Status.ERROR and "RuntimeError: boom" in (
        by_id["crashing-check"].error or ""
    )
    assert "Traceback" in (by_id["crashing-check"].traceback or "")
    assert by_id["passing-check"].status is Status.PASS
    assert exit_code(results, "fail") is ExitCode.UNDECIDED


def test_prerequisite_failure_skips_with_reason() -> None:
    results = run_checks([NeedsFailing, FailingCheck], _ctx(), RunOptions())
    assert [r.check for r in results] == ["failing-check", "needs-failing"]
    assert results[1].status is Status.SKIP and results[1].skip_reason == "requires failing-check (fail)"
    assert exit_code(results, "fail") is ExitCode.FINDINGS


def test_offline_skips_network_checks() -> None:
    (result,) = run_checks([NeedsNetwork], _ctx(), RunOptions(offline=True))
    assert result.status is Status.SKIP and "offline" in (result.skip_reason or "")


def test_order_is_stage_then_dependency() -> None:
    ordered = order_checks([NeedsFailing, NeedsNetwork, FailingCheck, HangingCheck])
    assert [c.id for c in ordered] == ["hanging-check", "needs-network", "failing-check", "needs-failing"]


def test_policy_adds_prerequisites_and_filters_sub_ids() -> None:
    checks = {c.id: c for c in (PassingCheck, FailingCheck, NeedsFailing)}
    selected = Policy.from_options(["needs-failing"], []).select(checks)
    assert {c.id for c in selected} == {"needs-failing", "failing-check"}
    (result,) = run_checks([FailingCheck], _ctx(), RunOptions())
    filtered = Policy.from_options([], ["failing-check[bad]"]).filter_findings(result)
    assert filtered.status is Status.PASS and filtered.findings == ()


def _ep(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group="triton_doctor.checks")


def test_registry_reports_broken_plugins_without_failing() -> None:
    registry = load_registry(
        [
            _ep("passing-check", "tests.test_runner:PassingCheck"),
            _ep("missing-module", "no_such_plugin_module:Check"),
            _ep("Bad_Id", "tests.test_runner:BadId"),
            _ep("wrong-name", "tests.test_runner:FailingCheck"),
            _ep("needs-failing", "tests.test_runner:NeedsFailing"),
        ]
    )
    assert list(registry.checks) == ["passing-check"]
    errors = dict(registry.errors)
    assert "ModuleNotFoundError" in errors["missing-module = no_such_plugin_module:Check"]
    assert "kebab-case" in errors["Bad_Id = tests.test_runner:BadId"]
    assert "must be named after the check id" in errors["wrong-name = tests.test_runner:FailingCheck"]
    assert "requires unknown check(s): failing-check" in errors["needs-failing"]


def test_validate_rejects_non_checks() -> None:
    for obj in (object, 42):
        try:
            validate_check(obj, "x")
        except ValueError as exc:
            assert "not a triton_doctor.check.Check subclass" in str(exc)
        else:  # pragma: no cover
            raise AssertionError("accepted")


def test_unreadable_repository_is_a_finding(monkeypatch: object, tmp_path: object) -> None:
    """Root ignores permissions, so the probe's failure is simulated at the probe boundary."""
    import pytest

    from triton_doctor.probes import fs

    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(fs, "list_dir", lambda path: fs.Listing(error="cannot list: Permission denied"))
        from triton_doctor.registry import load_registry as real_registry

        registry = real_registry()
        (result,) = run_checks([registry.checks["model-repository"]], _ctx(), RunOptions())
    finally:
        mp.undo()
    assert result.status is Status.FAIL
    assert result.findings[0].id == "model-repository[unreadable]"
    assert "Permission denied" in result.findings[0].message
