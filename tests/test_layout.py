"""The package's shape (issue 16): stages that import downwards only, short modules, no private names shared.

The import graph is read with ``ast`` from the installed package's files, every import included (lazy ones
inside functions too), except those under ``if TYPE_CHECKING:``, which never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import triton_doctor

PACKAGE = Path(triton_doctor.__file__).resolve().parent
ROOT_MODULE_LIMIT = 12
LINE_LIMIT = 350


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        found[".".join(["triton_doctor", *parts])] = path
    checks = PACKAGE / "checks"
    if not checks.is_dir():  # an editable install maps triton_doctor.checks to the checks/ folder beside doctor/
        import triton_doctor.checks

        checks = Path(triton_doctor.checks.__file__).resolve().parent
        for path in sorted(checks.glob("*.py")):
            name = "triton_doctor.checks" + ("" if path.stem == "__init__" else "." + path.stem)
            found[name] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    out: list[ast.Import | ast.ImportFrom] = []

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    walk(sub)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                out.append(child)
            walk(child)

    walk(tree)
    return out


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rsplit(".", 1)[0]


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    private: list[str] = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text("utf-8"))
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in modules and alias.name != name:
                        graph[name].add(alias.name)
                continue
            base = node.module or ""
            if node.level:
                pkg = _package_of(name, path).split(".")
                base = ".".join(pkg[: len(pkg) - node.level + 1] + ([base] if base else []))
            if not base.startswith("triton_doctor"):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                target = sub if sub in modules else base
                if target in modules and target != name:
                    graph[name].add(target)
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    private.append(f"{name} imports {alias.name} from {base}")
    return graph, private


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_import_graph_has_no_cycle() -> None:
    graph, _ = _graph()
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_private_name_imported_from_another_module() -> None:
    _, private = _graph()
    assert private == []


def test_no_module_over_the_line_limit() -> None:
    long = {n: len(p.read_text("utf-8").splitlines()) for n, p in _modules().items()}
    assert {n: c for n, c in long.items() if c > LINE_LIMIT} == {}


def test_the_root_holds_the_spine_only() -> None:
    root = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(root) <= ROOT_MODULE_LIMIT, root


def test_every_stage_says_what_it_takes_and_gives() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text("utf-8")))
        assert doc, f"{init.parent.name}/__init__.py has no docstring"


def test_a_plugin_written_against_the_old_api_still_loads(tmp_path: Path) -> None:
    """A check module importing the pre-layout names (``triton_doctor.context``) registers and runs."""
    import os
    import subprocess
    import sys

    (tmp_path / "oldplugin.py").write_text(
        "from triton_doctor.check import Check, FindingFactory\n"
        "from triton_doctor.context import Context, ModelFacts\n"
        "from triton_doctor.fixdata import Fix\n"
        "from triton_doctor.results import Category, Outcome\n\n"
        "class OldCheck(Check):\n"
        "    id = 'old-check'\n"
        "    title = 'An old plugin'\n"
        "    category = Category.REPO\n\n"
        "    def run(self, ctx: Context) -> Outcome:\n"
        "        return Outcome(summary='old plugin ran on ' + ctx.target.repo)\n"
    )
    info = tmp_path / "oldplugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: oldplugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[triton_doctor.checks]\nold-check = oldplugin:OldCheck\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "NO_COLOR": "1"}
    listed = subprocess.run(
        [sys.executable, "-m", "triton_doctor", "list-checks"], capture_output=True, text=True, timeout=120, env=env
    )
    assert "old-check" in listed.stdout and "not loaded" not in listed.stderr, listed.stderr
    ran = subprocess.run(
        [sys.executable, "-m", "triton_doctor", "check", "--sample", "--only", "old-check", "-v"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert ran.returncode == 0 and "old plugin ran on" in ran.stderr, ran.stderr
