"""Read an unrendered Helm template approximately, so ``check --manifest templates/deployment.yaml`` says something.

This is not Helm. It keeps every line of the template that is plain YAML, fills ``.Values.x.y`` from the
chart's ``values.yaml`` (``with``/``range``/``if`` on such paths, ``toYaml . | nindent N``, ``quote``,
``required``, ``default``) and turns every other action (``include``, ``template``, ``$variables``, functions)
into a placeholder string. Whatever the chart computes is therefore not seen; the reader says so in a finding
and names the exact command (``helm template ... | triton-doctor check --manifest -``).

The output keeps a map from each output line to the template's line, so findings point into the template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

__all__ = ["PLACEHOLDER", "HelmSkeleton", "looks_like_helm", "render_skeleton"]

#: What an expression the reader cannot evaluate becomes.
PLACEHOLDER = "helm-expr"
_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.DOTALL)
_COMMENT = re.compile(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", re.DOTALL)
_VALUES_PATH = re.compile(r"^\$?\.Values((?:\.[A-Za-z_][\w-]*)*)$")
_NINDENT = re.compile(r"\|\s*(n?indent)\s+(\d+)")


def looks_like_helm(text: str) -> bool:
    """Go-template actions outside quoted strings: ``{{- if`` lines, ``name: {{ .Release.Name }}``."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("{{"):
            return True
        if re.search(r":\s+\{\{", line) or re.search(r"^\s*-\s+\{\{", line):
            return True
    return False


@dataclass(frozen=True, slots=True)
class HelmSkeleton:
    """The template with values filled in where they could be, and where each output line came from."""

    text: str
    #: Output line (0-based) -> template line (1-based).
    line_map: tuple[int, ...]
    #: Actions that were replaced by a placeholder (for the finding's evidence).
    unresolved: int


def _lookup(values: Any, dotted: str) -> tuple[bool, Any]:
    node = values
    for part in (p for p in dotted.split(".") if p):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


class _Scope:
    def __init__(self, values: Any) -> None:
        self.values = values
        self.dot: Any = values
        self.known = True

    def value(self, expr: str) -> tuple[bool, Any]:
        """Evaluate ``.Values.x``, ``.``, ``required "m" X``, ``default D X``, ``X | quote``; (False, None) else."""
        expr = expr.strip()
        if "|" in expr:
            head, _, tail = expr.partition("|")
            ok, value = self.value(head)
            tail = tail.strip()
            if not ok:
                return False, None
            if tail == "quote":
                return True, '"' + str(value).replace('"', '\\"') + '"'
            if tail.startswith(("nindent", "indent", "toYaml", "trim")):
                return ok, value
            return False, None
        if expr == ".":
            return self.known, self.dot
        match = _VALUES_PATH.match(expr)
        if match:
            return _lookup(self.values, match.group(1))
        if expr.startswith("."):
            if isinstance(self.dot, dict) and self.known:
                return _lookup(self.dot, expr)
            return False, None
        words = expr.split()
        if len(words) >= 3 and words[0] == "required" and words[1].startswith('"'):
            return self.value(words[-1])
        if len(words) == 3 and words[0] == "default":
            ok, value = self.value(words[2])
            if ok and value not in (None, "", [], {}):
                return True, value
            default = words[1]
            return True, default.strip('"') if default.startswith('"') else default
        if expr.startswith((".Release.", "$.Release.")):
            return True, "release"
        if expr.startswith((".Chart.", "$.Chart.")):
            return True, "chart"
        return False, None


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    return PLACEHOLDER


def _to_yaml(value: Any, indent: int) -> list[str]:
    dumped = yaml.safe_dump(value, default_flow_style=False, sort_keys=False).rstrip("\n")
    if dumped in ("{}", "[]", "null", "...", ""):
        return []
    return [" " * indent + line for line in dumped.splitlines()]


def render_skeleton(text: str, values: Any) -> HelmSkeleton:
    """The template as YAML the reader can parse (see the module docstring)."""
    text = _COMMENT.sub("", text)
    out: list[str] = []
    line_map: list[int] = []
    unresolved = [0]
    # Each frame: (kind, active, scope-dot, scope-known, body-start, items, saved-dot, saved-known)
    stack: list[dict[str, Any]] = []
    scope = _Scope(values)

    def active() -> bool:
        return all(frame["active"] for frame in stack)

    def inline(line: str) -> str:
        def sub(match: re.Match[str]) -> str:
            ok, value = scope.value(match.group(1))
            if ok:
                return _scalar_text(value) if not isinstance(value, str) else value
            unresolved[0] += 1
            return PLACEHOLDER

        return _ACTION.sub(sub, line)

    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        actions = _ACTION.findall(stripped)
        only_actions = bool(actions) and not _ACTION.sub("", stripped).strip()
        if not only_actions:
            if active():
                out.append(inline(line))
                line_map.append(number)
            continue
        for raw_action in actions:
            action = raw_action.strip()
            word = action.split(" ", 1)[0] if action else ""
            rest = action[len(word) :].strip()
            if word in {"if", "with", "range"}:
                ok, value = scope.value(rest.removeprefix("not ").strip()) if rest else (False, None)
                negate = rest.startswith("not ")
                truthy = bool(value) if ok else True
                if negate and ok:
                    truthy = not truthy
                frame: dict[str, Any] = {
                    "kind": word,
                    "active": truthy,
                    "taken": truthy,
                    "saved": (scope.dot, scope.known),
                    "start": len(out),
                    "items": value if (word == "range" and ok and isinstance(value, list)) else None,
                }
                stack.append(frame)
                if word == "with":
                    scope.dot, scope.known = (value, True) if ok else (None, False)
                if word == "range":
                    scope.dot, scope.known = None, False
            elif word == "else" and stack:
                frame = stack[-1]
                frame["active"] = not frame["taken"]
                frame["taken"] = True
            elif word == "end" and stack:
                frame = stack.pop()
                scope.dot, scope.known = frame["saved"]
                items = frame["items"]
                if frame["kind"] == "range" and items is not None and active():
                    body = out[frame["start"] :]
                    body_map = line_map[frame["start"] :]
                    del out[frame["start"] :]
                    del line_map[frame["start"] :]
                    for item in items:
                        for body_line, source in zip(body, body_map, strict=True):
                            out.append(body_line.replace(PLACEHOLDER, _scalar_text(item)))
                            line_map.append(source)
            elif word == "toYaml" and active():
                target = rest.split("|", 1)[0].strip()
                ok, value = scope.value(target)
                indent_match = _NINDENT.search(action)
                indent = int(indent_match.group(2)) if indent_match else 0
                if ok:
                    for dumped in _to_yaml(value, indent):
                        out.append(dumped)
                        line_map.append(number)
                else:
                    unresolved[0] += 1
            elif active() and word not in {"define", "end", "else", "/*"}:
                unresolved[0] += 1
    return HelmSkeleton(text="\n".join(out) + "\n", line_map=tuple(line_map), unresolved=unresolved[0])
