"""``live-generate``: a real generation through generate_stream, generate and gRPC streaming."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.logs.scan import scan_lines
from triton_doctor.results import Category, Outcome

#: Characters of the generated text shown with -v.
SHOWN_CHARS = 160


def shown_text(text: str) -> str:
    """The generated text on one line: quoted, control characters escaped, capped (the reporter redacts it)."""
    import json

    head = text[:SHOWN_CHARS]
    return json.dumps(head, ensure_ascii=False) + (
        f" (+{len(text) - SHOWN_CHARS} more)" if len(text) > SHOWN_CHARS else ""
    )


class LiveGenerate(Check):
    """A real generation."""

    id = "live-generate"
    title = "Real generation"
    category = Category.LIVE
    requires = frozenset({"live-server"})
    opt_in = True
    timeout_s = 3600.0
    explanation = (
        "Once the model is READY the doctor generates for real: POST /v2/models/<m>/generate_stream with "
        '"stream": true (Server-Sent Events, one data: {json} per response, no [DONE]; an {"error": ...} '
        "event can follow HTTP 200), POST /generate, and gRPC streaming when 8001 is published. It passes when "
        "text comes back, and reports time to first token, total time, chunks and the request counters of the "
        "metrics endpoint. Without max_tokens vLLM stops after 16 tokens."
    )
    sub_ids = {
        "failed": "a generation failed or returned nothing",
        "ok": "a generation's figures",
        "output-truncated-16-tokens": "sampling parameters without max_tokens",
        "counters": "metrics",
    }

    def run(self, ctx: Context) -> Outcome:
        out = ctx.live_generations()
        f = FindingFactory(self.id)
        sampling = ctx.live_options.sampling if ctx.live_options is not None else {"max_tokens": 32}
        if not out.generations:
            return Outcome(skip_reason="no model was READY")
        parts = []
        for gen in out.generations:
            name = gen.endpoint.rsplit("/", 1)[-1] if gen.endpoint.startswith("/") else "grpc"
            if gen.ok:
                ttft = f"{gen.ttft_s:.3f} s" if gen.ttft_s is not None else "-"
                f.info(
                    "ok",
                    f"{name}: {gen.chunks} chunk(s), first token {ttft}, total {gen.total_s:.3f} s, "
                    f"{len(gen.text)} characters: {shown_text(gen.text)}",
                    evidence=gen.text[:200],
                )
                parts.append(f"{name} {gen.chunks} chunks, TTFT {ttft}")
                continue
            diag = scan_lines([gen.error or ""])
            roots = diag.root_causes()
            catalog = roots[0] if roots else None
            message = gen.error or "no text came back"
            f.error(
                "failed",
                f"{name} ({gen.endpoint}): {message[:300]}",
                catalog_id=catalog,
                evidence="\n".join(gen.events[-3:]),
                remedy="see the catalog entry; the server log has the rest"
                if catalog
                else "read the server log (triton-doctor up --keep, then docker logs)",
            )
            parts.append(f"{name} failed")
        if "max_tokens" not in sampling:
            f.warning(
                "output-truncated-16-tokens",
                "the sampling parameters set no max_tokens: vLLM stops after 16 tokens",
                catalog_id="output-truncated-16-tokens",
                evidence=f"sampling parameters {sampling}; stream chunks: "
                f"{next((g.chunks for g in out.generations if g.ok), 0)}",
                remedy='send "max_tokens": N in the request parameters',
            )
        if out.counters:
            f.info("counters", ", ".join(f"{k} {v:g}" for k, v in sorted(out.counters.items())))
        return f.outcome("; ".join(parts))
