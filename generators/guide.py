"""The generated project's ``docs/database.md``: roles and sessions as this spec has them.

The copier template's README cannot know the spec (it is rendered before the spec is
read), so what depends on it lives here: the role names under ``roles:`` and, only when
tenancy is on, the tenant session.
"""

from __future__ import annotations

from entityforge.generators import GenerationContext
from entityforge.generators.templating import render


def generate(ctx: GenerationContext) -> dict[str, str]:
    tenancy = ctx.schema.tenancy
    audited = [entity for entity in ctx.schema.entities if entity.audit]
    text = render(
        "guide/database.md.jinja",
        package=ctx.package,
        roles=ctx.schema.roles,
        tenancy=tenancy,
        tenant_entity=tenancy.entity if tenancy else None,
        audited=_listing([f"`{entity.name}`" for entity in audited]),
        audited_repository=f"{audited[0].name}Repository" if audited else None,
        views=ctx.schema.views,
        materialized=[f"`{view.relation}`" for view in ctx.schema.views if view.materialized],
        partitioned=_listing(
            [
                f"`{table.name}`"
                for table in ctx.catalog.tables
                if table.partition is not None and table.partition.by == "range"
            ]
        ),
    )
    return {"docs/database.md": text}


def _listing(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``; empty for no names."""
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"
