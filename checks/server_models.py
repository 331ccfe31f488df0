"""``server-models``: with ``--server``, what the running server says about its models and their configs."""

from __future__ import annotations

from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.results import Category, Outcome


def _decoupled(config: dict[str, Any]) -> bool:
    policy = config.get("model_transaction_policy") or {}
    return bool(policy.get("decoupled")) if isinstance(policy, dict) else False


class ServerModels(Check):
    """The running server's own view of its models (replaces the container checks with --server)."""

    id = "server-models"
    title = "Running server's models"
    category = Category.LIVE
    requires = frozenset({"live-server"})
    opt_in = True
    timeout_s = 60.0
    explanation = (
        "With --server the container already runs, so the checks of a container still to be started (ports, "
        "name, mounts, options, GPU runtime) are skipped. Instead the doctor reads what the server itself says: "
        "its repository index (every model's state and, for UNAVAILABLE, the reason), and each READY model's "
        "configuration from GET /v2/models/NAME/config, compared with your local config.pbtxt: a difference "
        "means the server runs other files than the ones you are editing."
    )
    sub_ids = {
        "unavailable": "a model of the server's repository is UNAVAILABLE (its reason)",
        "drift": "the server's config differs from the local config.pbtxt",
        "no-config": "the server did not return a READY model's config",
        "config": "what the server runs (backend, max_batch_size, decoupled)",
    }

    def run(self, ctx: Context) -> Outcome:
        if not ctx.target.server_url:
            return Outcome(skip_reason="only with --server (a started container runs the local files)")
        out = ctx.live_outcome()
        f = FindingFactory(self.id)
        wanted = set(ctx.target.models)
        for name, (state, reason) in sorted(out.models.items()):
            if state == "UNAVAILABLE" and name not in wanted:
                f.warning(
                    "unavailable",
                    f"the server's model {name} is UNAVAILABLE: {reason or 'no reason given'}",
                    model=name,
                    evidence=f"POST /v2/repository/index: {name} {state} {reason}".strip(),
                    remedy="fix that model's files on the server, then load it again (POST "
                    f"/v2/repository/models/{name}/load), or remove it from the repository",
                )
        ready = [m for m, (state, _r) in sorted(out.models.items()) if state == "READY"]
        local = set(ctx.repo().model_dirs) if ctx.repo().is_dir else set()
        for name in ready:
            if wanted and name not in wanted:
                continue
            answer = ctx.server_model_config(name)
            if answer.error is not None:
                f.warning(
                    "no-config",
                    f"the server did not return {name}'s config: {answer.error}",
                    model=name,
                    remedy="check the URL, and that the server's HTTP endpoint is not behind a proxy that blocks it",
                )
                continue
            seen = {
                "backend": answer.config.get("backend") or answer.config.get("platform") or "",
                "max_batch_size": int(answer.config.get("max_batch_size") or 0),
                "decoupled": _decoupled(answer.config),
            }
            f.info(
                "config",
                f"{name}: backend {seen['backend'] or '?'}, max_batch_size {seen['max_batch_size']}, "
                f"decoupled {str(seen['decoupled']).lower()}",
                model=name,
            )
            parsed = ctx.model(name).parsed if name in local else None
            message = parsed.message if parsed is not None else None
            if message is None:
                continue
            mine: dict[str, object] = {
                "backend": message.backend or message.platform or "",
                "max_batch_size": int(message.max_batch_size),
            }
            if message.HasField("model_transaction_policy"):
                mine["decoupled"] = bool(message.model_transaction_policy.decoupled)
            differ = [f"{k}: server {seen[k]!r}, local {v!r}" for k, v in mine.items() if seen[k] != v]
            if differ:
                f.warning(
                    "drift",
                    f"{name}: the server runs another config than {ctx.model(name).config_display}",
                    model=name,
                    location=ctx.model(name).config_location(),
                    evidence="; ".join(differ),
                    remedy="the server reads other files (another host folder, or not reloaded since your edit): "
                    "restart it, or load the model again, from the folder you edit",
                )
        problems = [x for x in f.findings if x.severity.value != "info"]
        summary = f"{len(out.models)} model(s) on the server, {len(ready)} READY"
        return f.outcome(summary + (f"; {len(problems)} problem(s)" if problems else ""))
