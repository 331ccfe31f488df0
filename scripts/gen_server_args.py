"""Regenerate doctor/knowledge/server_args.json: what tritonserver accepts and refuses at start, per release.

Reads ``src/command_line_parser.cc`` of triton-inference-server/server on the release branch of every image
the knowledge base knows (``r<yy.mm>``, :data:`triton_doctor.knowledge.IMAGES`) from a local clone, and
collects with regular expressions (no build, no import):

* the long options (``{OPTION_X, "name", Option::ArgT, ...}``) with their argument kind; the value parser of
  each option's ``case`` (``ParseOption<bool|int|...>``, ``ParseIntBoolOption``) and the literal values a
  ``case`` compares against before ``throw ParseException("invalid argument for --x")``;
* every message of every ``throw ParseException(...)``: its string literals joined, the variable parts as
  ``{}`` (from the ``std::stringstream`` or ``error_string`` it throws), with the option whose ``case`` or
  parse helper throws it.

The refusals that getopt and the server core print (``unrecognized option``, ``requires an argument``,
``--model-repository must be specified``) are listed by hand below with their source. Run by hand when a
new image appears:

    python scripts/gen_server_args.py /path/to/server-clone        # a clone with the r<yy.mm> branches
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "doctor" / "knowledge" / "server_args.json"
PARSER = "src/command_line_parser.cc"

#: ``{OPTION_X, "name", Option::ArgT, ...}`` or, for a structured value, ``{OPTION_X, "name", "<format>", ...}``.
OPTION_ROW = re.compile(r"\{\s*(OPTION_\w+)\s*,\s*\"([\w-]+)\"\s*,\s*(?:Option::(Arg\w+)|\"([^\"]*)\")")
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
CASE = re.compile(r"^\s*case (OPTION_\w+)\s*:", re.MULTILINE)
FUNCTION = re.compile(r"^(?:TritonParser::)?(\w+)\(", re.MULTILINE)

#: The remedy of a refusal in the log catalog (the static check words its own for the command at hand).
REMEDIES = {
    "no-command": "write the server command after the image: IMAGE tritonserver --model-repository=/models ...",
    "use-load-model-requires-setting-model-control-mode-explicit": (
        "add --model-control-mode=explicit to the tritonserver arguments (or drop --load-model to load every model)"
    ),
    "unrecognized-option": "correct the option's spelling (tritonserver --help lists this release's options)",
    "option-requires-argument": "give the option its value: --name=value",
    "model-repository-required": "add --model-repository=/models (the container path the repository is mounted at)",
    "unexpected-argument": "join the value to its option with '=' (--name=value) or remove the stray word",
    "incompatible-flags-response-cache-byte-size-and-cache-config": (
        "keep --cache-config=local,size=<bytes> and drop --response-cache-byte-size"
    ),
    "server-cannot-listen-requests-and-requests-at-same-address-a": (
        "give HTTP, gRPC and metrics different ports (--http-port, --grpc-port, --metrics-port)"
    ),
}
DEFAULT_REMEDY = "correct the option the message names (tritonserver --help lists this release's options and values)"

#: Printed at start by something other than a ``throw ParseException`` of the parser.
EXTRA = [
    {
        "id": "no-command",
        "message": "No command specified",
        "option": None,
        "source": "moby/moby daemon container create (an image without CMD and no command after it), all "
        "releases; observed on Docker 20.10.24 with the test stack",
    },
    {
        "id": "unrecognized-option",
        "message": "tritonserver: unrecognized option '{}'",
        "option": None,
        "source": "getopt_long (glibc) through TritonParser::Parse, all releases; observed on the 2.51 stack",
    },
    {
        "id": "option-requires-argument",
        "message": "tritonserver: option '{}' requires an argument",
        "option": None,
        "source": "getopt_long (glibc) / triton getopt_long replacement in src/command_line_parser.cc",
    },
    {
        "id": "model-repository-required",
        "message": "error: creating server: Invalid argument - --model-repository must be specified",
        "option": "--model-repository",
        "source": "triton-inference-server/core src/server.cc (InferenceServer::Init), all releases",
    },
]


def _unescape(text: str) -> str:
    return text.replace('\\"', '"').replace("\\n", "").replace("\\\\", "\\")


def _template(expr: str) -> str:
    """The message an expression of literals and variables prints: literals kept, variables as ``{}``."""
    out: list[str] = []
    pos = 0
    expr = re.sub(r"<<\s*std::endl", "", expr)
    for match in STRING.finditer(expr):
        between = expr[pos : match.start()]
        if re.search(r"[A-Za-z_]\w*(?:\(\))?", re.sub(r"\b(ss|std|string|error_string)\b|<<|\+|\(|\)", " ", between)):
            out.append("{}")
        out.append(_unescape(match.group(1)))
        pos = match.end()
    tail = re.sub(r"\b(ss|std|string)\b|<<|\+|\(|\)|;|,|\s", " ", expr[pos:]).strip()
    if tail and tail not in {"endl", "str"}:
        out.append("{}")
    return "".join(out).strip()


def _balanced(text: str, start: int) -> str:
    """The text inside the parenthesis that opens at ``start``."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
    return text[start + 1 :]


def _message(source: str, at: int) -> str | None:
    """The message of the ``throw ParseException(`` at ``at``."""
    arg = _balanced(source, source.index("(", at)).strip()
    if not arg:
        return None  # unrecognized option / --help: getopt printed the message
    if arg == "ss.str()":
        block = source[source.rfind("std::stringstream ss", 0, at) : at]
        return _template(" ".join(s for s in re.findall(r"ss\s*<<(.*?);", block, re.DOTALL)))
    if arg == "error_string":
        start = source.rfind("error_string", 0, source.rfind("std::string error_string", 0, at) + 40)
        block = source[start:at]
        definition = re.search(r"error_string\s*(?:=|\()(.*?);", block, re.DOTALL)
        if definition is None:
            return None
        text = definition.group(1).rstrip(")")
        return _template(text)
    if arg.startswith('"') or "+" in arg:
        return _template(arg)
    if arg == "pe.what()" or arg.endswith("what()"):
        return None
    return None


def _option_of(source: str, at: int, names: dict[str, list[str]], message: str) -> str | None:
    """The option whose ``case`` holds ``at``, or the option named in the message's own text."""
    loop = source.find("while ((flag = getopt_long(")
    loop_end = source.find("catch (const ParseException& pe)", loop)
    if loop <= at < loop_end:
        case = None
        for match in CASE.finditer(source, loop, at):
            case = match
        option_names = names.get(case.group(1), []) if case is not None else []
        return "--" + option_names[-1] if option_names else None
    named = re.search(r"'?(--[a-z][\w-]+)", message)
    return named.group(1).replace("_", "-") if named else None


def _slug(message: str) -> str:
    words = re.findall(r"[a-z0-9]+", re.sub(r"\{\}", " ", message.lower()))
    stop = {"error", "the", "a", "of", "is", "as", "well", "got", "for", "option", "to", "be", "s", "t"}
    return "-".join(w for w in words if w not in stop)[:60].strip("-")


def parse_release(source: str) -> tuple[dict[str, dict[str, object]], list[tuple[str, str | None]]]:
    """Options and (message, option) refusals of one ``command_line_parser.cc``."""
    names: dict[str, list[str]] = {}
    options: dict[str, dict[str, object]] = {}
    for ident, name, kind, fmt in OPTION_ROW.findall(source):
        names.setdefault(ident, []).append(name)
        options[name] = {"arg": kind.removeprefix("Arg").lower()} if kind else {"arg": "str", "format": fmt}
    loop = source.find("while ((flag = getopt_long(")
    end = source.find("catch (const ParseException& pe)", loop)
    switch = source[loop:end]
    labels = list(CASE.finditer(switch))
    for n, label in enumerate(labels):
        body_end = labels[n + 1].start() if n + 1 < len(labels) else len(switch)
        body = switch[label.end() : body_end]
        if not body.strip():
            continue  # falls through to the next label
        kinds = re.findall(r"Parse(?:Option<(\w+)>|(IntBoolOption)|(PairOption)|(\w+)Option)\(", body)
        choices = sorted(set(re.findall(r'==\s*"([^"]+)"', body)))
        idents = [label.group(1)]
        k = n - 1
        while k >= 0 and not switch[labels[k].end() : labels[k + 1].start()].strip():
            idents.append(labels[k].group(1))
            k -= 1
        for ident in idents:
            for name in names.get(ident, []):
                if kinds:
                    first = kinds[0]
                    options[name]["parse"] = first[0] or ("intbool" if first[1] else first[2] or first[3]).lower()
                if choices and "invalid argument for" in body:
                    options[name]["choices"] = choices
                    options[name]["case_sensitive"] = "tolower" not in body
    refusals: list[tuple[str, str | None]] = []
    for match in re.finditer(r"throw ParseException\(", source):
        message = _message(source, match.start())
        if message:
            refusals.append((message, _option_of(source, match.start(), names, message)))
    return options, refusals


def main(clone: str) -> None:
    sys.path.insert(0, str(ROOT / "doctor" / ".."))
    from triton_doctor.knowledge import IMAGES

    releases: dict[str, object] = {}
    messages: dict[str, dict[str, object]] = {}
    for tag in IMAGES:
        branch = f"r{tag}"
        try:
            source = subprocess.run(
                ["git", "-C", clone, "show", f"{branch}:{PARSER}"], capture_output=True, text=True, check=True
            ).stdout
            blob = subprocess.run(
                ["git", "-C", clone, "rev-parse", f"{branch}:{PARSER}"], capture_output=True, text=True, check=True
            ).stdout.strip()
        except subprocess.CalledProcessError:
            print(f"{branch}: no {PARSER}, skipped", file=sys.stderr)
            continue
        options, refusals = parse_release(source)
        releases[tag] = {"branch": branch, "blob": blob, "options": options}
        for message, option in refusals:
            row = messages.setdefault(message, {"message": message, "option": option, "releases": []})
            if option and not row["option"]:
                row["option"] = option
            if tag not in row["releases"]:  # type: ignore[operator]
                row["releases"].append(tag)  # type: ignore[union-attr]
        print(tag, len(options), "options", len(refusals), "refusals", file=sys.stderr)
    rows = []
    seen: set[str] = set()
    for row in messages.values():
        slug = _slug(str(row["message"]))
        while slug in seen:
            slug += "-2"
        seen.add(slug)
        rows.append(
            {
                "id": slug,
                **row,
                "source": f"triton-inference-server/server {PARSER} (r{row['releases'][0]}-r{row['releases'][-1]})",
            }
        )  # type: ignore[index]
    everything = [*rows, *({**extra, "releases": list(releases)} for extra in EXTRA)]
    for row in everything:
        row["remedy"] = REMEDIES.get(str(row["id"]), DEFAULT_REMEDY)
    data = {
        "_about": (
            "tritonserver's command-line options and start-time refusals per release, read from "
            f"triton-inference-server/server {PARSER} on each r<yy.mm> branch by scripts/gen_server_args.py "
            "('blob' is the file's git blob id); refusals list the message (variable parts as {}), the option "
            "it concerns and the releases that print it. A refusal exits with 1 after the usage text."
        ),
        "releases": releases,
        "refusals": everything,
    }
    OUT.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(releases)} releases, {len(everything)} refusals", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
