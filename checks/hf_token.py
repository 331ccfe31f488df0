"""``hf-token``: which Hugging Face token reaches the container, and whether the Hub accepts it."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.deploy.tokens import TOKEN_VARS, container_token, host_token
from triton_doctor.facts.context import Context
from triton_doctor.probes.hub_probe import hub_endpoint
from triton_doctor.results import Category, Outcome, Severity


class HfToken(Check):
    """The token the container gets."""

    id = "hf-token"
    title = "Hugging Face token"
    category = Category.HF
    describes_new_container = True
    timeout_s = 30.0
    explanation = (
        "Gated models (Gemma, Llama, ...) need a token inside the container: HF_TOKEN (or the deprecated "
        "HUGGING_FACE_HUB_TOKEN) passed with -e, or the token file in a mounted HF home. The doctor works out "
        "which token your docker command delivers, then asks the Hub's whoami-v2 once whether it is valid and "
        "what it may do (read/write, or a fine-grained token's 'read public gated repositories' permission). "
        "The token itself is never printed."
    )
    sub_ids = {
        "none": "no token reaches the container",
        "unset-variable": "the command references a host variable that is not set",
        "literal": "the token's value is written in the command",
        "powershell-in-bash": "$env:HF_TOKEN (PowerShell) in a bash command: the container gets ':HF_TOKEN'",
        "invalid": "the Hub rejects the token",
        "fine-grained-no-gated": "a fine-grained token without access to gated repositories",
        "unchecked": "the Hub could not be asked (offline, rate limit, timeout)",
        "valid": "who the token belongs to and its role",
    }

    def run(self, ctx: Context) -> Outcome:
        models = ctx.hub_models() if ctx.repo().is_dir else {}
        f = FindingFactory(self.id)
        docker = ctx.target.docker
        if docker is not None and docker.dialect == "bash":
            for var, raw in docker.env.items():
                if var in TOKEN_VARS and raw is not None and raw.lower().startswith("$env:"):
                    name = raw[5:]
                    # An error where a Hub model needs the token; a warning where no model does.
                    f.add(
                        Severity.ERROR if models else Severity.WARNING,
                        "powershell-in-bash",
                        f"{var}={raw} is PowerShell syntax in a bash command: bash expands the empty $env and "
                        f"the container gets {var}=:{name}, not your token",
                        catalog_id="hf-gated-unauthenticated",
                        evidence=f"--env {var}={raw}",
                        remedy=f"write --env {var}=${name} in bash (or -e {var} with {var} exported), or run the "
                        "command in PowerShell",
                    )
                    return f.outcome(f"{var} gets ':{name}' in bash")
        if not models:
            return Outcome(skip_reason="no model is a Hugging Face id")
        token = container_token(ctx.target)
        host = host_token()
        if token.unset_reference:
            f.error(
                "unset-variable",
                f"the command passes {token.origin}, but {token.unset_reference} is not set in this shell",
                catalog_id="hf-gated-unauthenticated",
                remedy=f"set it first (bash: export {token.unset_reference}=hf_...; PowerShell: "
                f'$env:{token.unset_reference}="hf_...")',
            )
        if token.literal_in_command:
            f.warning(
                "literal",
                "the token's value is written in the docker command: it shows up in `docker inspect`, "
                "shell history and process lists",
                remedy="pass it by name: -e HF_TOKEN (from your environment)",
            )
        if token.value is None:
            if not token.unset_reference:
                hint = f" (this machine has one: {host.origin})" if host.value else ""
                f.warning(
                    "none",
                    f"no Hugging Face token reaches the container{hint}: only public, ungated models load",
                    catalog_id="hf-gated-unauthenticated",
                    remedy="add -e HF_TOKEN to docker run (with HF_TOKEN set in your shell)",
                )
            return f.outcome("no token reaches the container")
        if ctx.target.offline:
            f.info("unchecked", f"token from {token.origin}; not checked with the Hub (--offline)")
            return f.outcome(f"token from {token.origin} (not checked: offline)")
        answer = ctx.whoami(token.value)
        if not answer.ok:
            if answer.kind in {"invalid-token"} or answer.status == 401:
                override = ""
                if host.origin in {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} and token.value == host.value:
                    override = f" ({host.origin} in your environment takes precedence over `hf auth login`)"
                f.error(
                    "invalid",
                    f"the Hub rejects the token from {token.origin}{override}",
                    evidence=f"{answer.status} {answer.message or ''}".strip(),
                    catalog_id="hf-invalid-token",
                    remedy=f"create a new read token at {hub_endpoint()}/settings/tokens and pass that one",
                )
            else:
                f.warning(
                    "unchecked",
                    f"could not verify the token with the Hub ({answer.kind})",
                    evidence=f"{answer.status or ''} {answer.message or ''}".strip(),
                    catalog_id="hf-rate-limited" if answer.kind == "rate-limited" else None,
                    remedy="try again later; the container will use the token as is",
                )
            return f.outcome(f"token from {token.origin}: " + ("rejected" if answer.status == 401 else "not verified"))
        role = str(answer.data.get("role") or "unknown")
        owner = answer.data.get("name") or "?"
        f.info("valid", f"token of {owner}, role {role}, from {token.origin}")
        fine = answer.data.get("fine_grained") or {}
        fine_grained = role.lower().replace("-", "") in {"finegrained", "fine_grained"}
        if fine_grained and isinstance(fine, dict) and fine.get("canReadGatedRepos") is False:
            f.warning(
                "fine-grained-no-gated",
                "fine-grained token without 'read access to contents of all public gated repos you can access'",
                catalog_id="hf-finegrained-token-no-gated-scope",
                remedy=f"edit the token at {hub_endpoint()}/settings/tokens and tick that permission, or use "
                "a read token",
            )
        return f.outcome(f"token of {owner} ({role}) from {token.origin}")
