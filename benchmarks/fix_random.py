"""``fix`` on repositories it has never seen: random sets of defects (the property test's generator) on the
guide's two repository shapes; how many pass the repo checks after ``fix --yes``, need no second fix, and undo byte for
byte.

Run: ``python benchmarks/fix_random.py [COUNT] [SEED]`` (defaults 300 and 8).
"""

from __future__ import annotations

import io
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_fix import EXCLUSIVE, ORDER, _repo_errors, build_case, snapshot
from triton_doctor.deploy.inputs import TargetInput
from triton_doctor.repair import FixRequest, run_fix_command


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 8)
    done = passed = no_second = identical = 0
    failures: list[tuple[list[str], list[str]]] = []
    while done < count:
        chosen = set(rng.sample(ORDER, rng.randint(1, 8)))
        if any(len(chosen & group) > 1 for group in EXCLUSIVE):
            continue
        shape = rng.choice(["remote", "local"])
        if shape == "remote" and chosen == {"winpath"}:
            continue
        done += 1
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            repo, mounts = build_case(root, chosen, shape)
            broken = snapshot(root / "case")
            request = FixRequest(target=TargetInput(repo=str(repo), mounts=mounts, offline=True, cwd=root), yes=True)
            run_fix_command(request, out=io.StringIO())
            errors = _repo_errors(repo, mounts)
            passed += not errors
            if errors:
                failures.append(([*sorted(chosen), shape], errors))
            second = io.StringIO()
            run_fix_command(request, out=second)
            no_second += "nothing to fix" in second.getvalue()
            run_fix_command(FixRequest(target=request.target, undo=""), out=io.StringIO())
            identical += snapshot(root / "case") == broken
    print(
        f"random repositories: {done}; pass the repo checks after fix --yes: {passed}; "
        f"no second fix needed: {no_second}; undo byte-identical: {identical}"
    )
    for chosen_names, errors in failures[:10]:
        print(f"  still failing: {chosen_names}: {errors}")


if __name__ == "__main__":
    main()
