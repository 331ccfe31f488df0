"""``hf-model-access``: each Hub model exists and the container's token may read it (gated, licence, pending)."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.deploy.tokens import container_token
from triton_doctor.facts.context import Context
from triton_doctor.probes.hub_probe import hub_endpoint
from triton_doctor.results import Category, Outcome


class HfModelAccess(Check):
    """Access to gated models."""

    id = "hf-model-access"
    title = "Hugging Face model access"
    category = Category.HF
    describes_new_container = True
    network = True
    after = frozenset({"hf-token"})
    timeout_s = 45.0
    explanation = (
        "Before anything is pulled, the doctor asks the Hub (through huggingface_hub, honouring HF_ENDPOINT) "
        "about each model named by id, with the token the container will get: does it exist, is it gated, "
        "and may this token read it (auth-check). It tells apart 'not logged in', 'licence not accepted', "
        "'request pending' and 'fine-grained token lacks the gated scope', with the page to visit. Rate limits "
        "and timeouts are warnings: the Hub did not answer, nothing is known to be wrong."
    )
    sub_ids = {
        "not-found": "no such model (or private, and this token cannot see it)",
        "unauthenticated": "gated, and no token reaches the container",
        "not-accepted": "gated, and the licence is not accepted by the token's owner",
        "pending": "gated, and the access request awaits the authors' review",
        "scope": "a fine-grained token without the gated-repositories permission",
        "forbidden": "the Hub refuses for another reason",
        "unreachable": "the Hub did not answer (rate limit, timeout, network)",
        "unchecked": "the token is invalid: access could not be checked",
        "ok": "the token can read the model",
    }

    def run(self, ctx: Context) -> Outcome:
        models = ctx.hub_models() if ctx.repo().is_dir else {}
        if not models:
            return Outcome(skip_reason="no model is a Hugging Face id")
        token = container_token(ctx.target).value
        f = FindingFactory(self.id)
        # With a token the Hub rejects, its answers say nothing about the models: never "does not exist".
        invalid = token is not None and ctx.whoami(token).kind == "invalid-token"
        for name, repo_id in models.items():
            loc = ctx.model(name).json_location("model")
            url = f"{hub_endpoint()}/{repo_id}"
            access = ctx.hub_access(repo_id, token)
            if not access.ok and (invalid or access.kind == "invalid-token"):
                f.warning(
                    "unchecked",
                    f"{repo_id}: access could not be checked: the Hub rejects the token the container gets",
                    model=name,
                    location=loc,
                    evidence=f"{access.status or ''} {access.message or ''}".strip(),
                    remedy="fix the token first (see hf-token), then run the check again",
                )
                continue
            if access.ok:
                info = ctx.hub_model(repo_id, token)
                gated = info.data.get("gated") if info.ok else None
                f.info("ok", f"{repo_id}: readable" + (f" (gated: {gated})" if gated else ""), model=name, location=loc)
                continue
            message = access.message or ""
            lowered = message.lower()
            evidence = f"{access.status or ''} {access.error_code or ''} {message}".strip()
            if access.kind in {"rate-limited", "timeout", "network", "too-large", "redirect"}:
                f.warning(
                    "unreachable",
                    f"{repo_id}: the Hub did not answer ({access.kind})",
                    model=name,
                    location=loc,
                    evidence=evidence,
                    catalog_id="hf-rate-limited" if access.kind == "rate-limited" else None,
                    remedy="try again later" + ("; pass a token for higher limits" if not token else ""),
                )
            elif "fine-grained" in lowered or "fine grained" in lowered:
                f.error(
                    "scope",
                    f"{repo_id}: the fine-grained token may not read public gated repositories",
                    model=name,
                    location=loc,
                    evidence=evidence,
                    catalog_id="hf-finegrained-token-no-gated-scope",
                    remedy=f"at {hub_endpoint()}/settings/tokens enable 'Read access to contents of all public "
                    "gated repos you can access', or use a read token",
                )
            elif "awaiting a review" in lowered or "pending" in lowered:
                f.error(
                    "pending",
                    f"{repo_id}: your access request is awaiting review by the model's authors",
                    model=name,
                    location=loc,
                    evidence=evidence,
                    catalog_id="hf-license-not-accepted",
                    remedy=f"wait for approval (see {url}), or use an ungated mirror",
                )
            elif access.kind == "gated" and (access.status == 401 or "must be authenticated" in lowered or not token):
                f.error(
                    "unauthenticated",
                    f"{repo_id} is gated and no valid token reaches the container",
                    model=name,
                    location=loc,
                    evidence=evidence,
                    catalog_id="hf-gated-unauthenticated",
                    remedy=f"accept the licence at {url}, then pass a token: -e HF_TOKEN",
                )
            elif access.kind == "gated" or "authorized list" in lowered:
                f.error(
                    "not-accepted",
                    f"{repo_id} is gated and the token's owner has not been granted access",
                    model=name,
                    location=loc,
                    evidence=evidence,
                    catalog_id="hf-license-not-accepted",
                    remedy=f"open {url} logged in as the token's owner and accept the licence / request access",
                )
            elif access.kind == "not-found" or access.status in {401, 404}:
                hint = " (or it is private/gated and no token reaches the container)" if not token else ""
                f.error(
                    "not-found",
                    f"{repo_id} does not exist on {hub_endpoint()}{hint}",
                    model=name,
                    location=loc,
                    evidence=evidence,
                    catalog_id="hf-repo-not-found",
                    remedy='check the id in model.json ("org/name", e.g. "google/gemma-2b-it")'
                    + ("; pass -e HF_TOKEN if it is private" if not token else ""),
                )
            else:
                f.error(
                    "forbidden",
                    f"{repo_id}: the Hub refuses access ({access.status})",
                    model=name,
                    location=loc,
                    evidence=evidence,
                    remedy=f"open {url} and check the token's permissions",
                )
        bad = [x for x in f.findings if x.severity.value != "info"]
        return f.outcome(f"{len(models)} Hub model(s): " + (f"{len(bad)} problem(s)" if bad else "readable"))
