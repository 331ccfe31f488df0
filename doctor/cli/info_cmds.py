"""list-checks and explain: the in-terminal reference."""

from __future__ import annotations

from typing import Any

import click

from triton_doctor.cli.options import CONTEXT, fail_usage


@click.command("list-checks", context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def list_checks(fmt: str) -> None:
    """List the registered checks (built-in and plugins)."""
    import json

    from triton_doctor.registry import load_registry
    from triton_doctor.runner import order_checks

    registry = load_registry()
    ordered = order_checks(registry.checks.values())
    if fmt == "json":
        rows = [
            {
                "id": c.id,
                "title": c.title,
                "category": c.category.value,
                "requires": sorted(c.requires),
                "network": c.network,
                "opt_in": c.opt_in,
                "sub_ids": sorted(c.sub_ids),
                "origin": registry.origin.get(c.id),
            }
            for c in ordered
        ]
        click.echo(json.dumps({"checks": rows, "load_errors": registry.errors}, indent=2))
        return
    for c in ordered:
        flags = " (network)" if c.network else ""
        flags += " (opt-in)" if c.opt_in else ""
        click.echo(f"{c.id:<28} {c.category.value:<8} {c.title}{flags}")
    for ep, err in registry.errors:
        click.echo(f"! not loaded: {ep}: {err}", err=True)


@click.command(context_settings=CONTEXT)
@click.argument("check_id", metavar="ID")
def explain(check_id: str) -> None:
    """Explain a check and its findings (ID or ID[sub-id]), or a failure mode of the catalog (catalog id)."""
    import difflib
    import textwrap

    from triton_doctor.registry import load_registry

    registry = load_registry()
    base = check_id.split("[", 1)[0]
    cls = registry.checks.get(base)
    if cls is None and _explain_catalog(base, registry.checks):
        return
    if cls is None:
        from triton_doctor.policy import catalog_ids

        close = difflib.get_close_matches(base, [*registry.checks, *sorted(catalog_ids())], n=1)
        fail_usage(
            f"unknown check {check_id!r}"
            + (f"; did you mean {close[0]!r}?" if close else "; see 'triton-doctor list-checks'")
        )
        return
    click.echo(f"{cls.id}: {cls.title}  [category: {cls.category.value}]")
    if cls.requires:
        click.echo(f"requires: {', '.join(sorted(cls.requires))}")
    click.echo()
    click.echo(textwrap.fill(cls.explanation or (cls.__doc__ or "").strip(), width=100))
    if cls.sub_ids:
        click.echo("\nfindings:")
        for sub, meaning in cls.sub_ids.items():
            click.echo(f"  {cls.id}[{sub}]  {meaning}")


def _explain_catalog(catalog_id: str, checks: Any) -> bool:
    """Print a failure mode of the catalog and the checks that report it; False when ``catalog_id`` is none."""
    import textwrap

    from triton_doctor.knowledge import CATALOG
    from triton_doctor.logs import load_catalog

    entry = next((e for e in load_catalog() if e.id == catalog_id), None)
    if entry is None and catalog_id not in CATALOG:
        return False
    stage = CATALOG.get(catalog_id, "?")
    click.echo(f"{catalog_id}: failure mode of the catalog  [stage: {stage}]")
    if entry is not None:
        click.echo()
        click.echo(textwrap.fill(f"Cause: {entry.cause}", width=100))
        click.echo(textwrap.fill(f"Fix: {entry.remedy}", width=100))
        if entry.patterns:
            click.echo(
                "\nseen in the server log; 'triton-doctor logs' reports it as container-logs[" + catalog_id + "]"
            )
    reporters = sorted(cid for cid, cls in checks.items() if catalog_id in cls.sub_ids)
    if reporters:
        click.echo(f"reported by: {', '.join(reporters)}")
    click.echo(f"\nselect or skip it with --only/--skip {catalog_id}")
    return True
