"""``server-args``: what tritonserver itself refuses at start in the user's command, in the server's words.

The rules come from the server's own command-line parser (``doctor/knowledge/server_args.json``, generated
from ``src/command_line_parser.cc`` of every release the images ship): unknown options (with the nearest
option), values the option's parser rejects, ``--load-model`` without explicit model control, conflicting
flags, two services on one port, no ``--model-repository``, and a command with no ``tritonserver`` at all.
"""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.knowledge.server_args import refusals, release_of
from triton_doctor.results import Category, Outcome

#: The catalog id of a refusal of the table (the ``logs`` command finds the same message in a log).
CATALOG_PREFIX = "server-arg-"


def entrypoint_of(other: list[tuple[str, str | None]]) -> str | None:
    """The ``--entrypoint`` of a parsed command's other options."""
    return next((value for opt, value in other if opt == "--entrypoint"), None)


class ServerArgs(Check):
    """tritonserver's own start-time refusals, read from its command-line parser."""

    id = "server-args"
    title = "tritonserver arguments"
    category = Category.DOCKER
    describes_new_container = True
    explanation = (
        "Replays tritonserver's command-line parser on the command after the image (rules generated from "
        "src/command_line_parser.cc of each release the images ship): an option the release does not know, a "
        "value its parser rejects, --load-model without --model-control-mode=explicit (refused from 24.06, "
        "ignored before), conflicting cache flags, two services on one port, no --model-repository, and no "
        "tritonserver command at all. Each finding quotes the message the server prints before exiting."
    )
    sub_ids = {
        "no-command": "no tritonserver command after the image",
        "refused": "tritonserver refuses the arguments at start and exits",
        "ignored": "tritonserver starts but ignores an argument",
    }

    def run(self, ctx: Context) -> Outcome:
        docker = ctx.target.docker
        if docker is None:
            return Outcome(skip_reason="no docker command given (--docker-command or --docker-command-file)")
        f = FindingFactory(self.id)
        release = release_of(docker.image or ctx.target.image or "")
        which = f"tritonserver {release}" if release else "tritonserver"
        for refusal in refusals(docker.command, release, entrypoint=entrypoint_of(docker.other)):
            catalog = CATALOG_PREFIX + refusal.id
            if refusal.id == "no-command":
                f.error(
                    "no-command", refusal.message, evidence=refusal.evidence, remedy=refusal.remedy, catalog_id=catalog
                )
            elif refusal.exits:
                f.error(
                    "refused",
                    f"{which} refuses this command and exits at start: {refusal.message}",
                    evidence=refusal.evidence,
                    remedy=refusal.remedy,
                    catalog_id=catalog,
                )
            else:
                f.warning(
                    "ignored", refusal.message, evidence=refusal.evidence, remedy=refusal.remedy, catalog_id=catalog
                )
        if not f.findings:
            return f.outcome(f"{which} accepts the arguments" if docker.command else "no command")
        return f.outcome(
            f"{which} would refuse the command"
            if any(x.severity.value == "error" for x in f.findings)
            else "arguments need attention"
        )
