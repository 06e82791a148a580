"""A live table's row-level policies as the entity's ``policies``.

The generator's own policies are recognised and left out: the tenant policy, and, on a
table without it, the permissive ``granted_roles`` policy that restrictive ones narrow.
Restrictive policies become ``policies`` entries; those that share their expressions
and roles and are named ``<name>_<command>`` for two or more commands become one entry
``for`` those commands, as the generator would have split it. Anything else (another
permissive policy, roles the spec does not name, SQL the spec refuses) is a finding.
"""

from __future__ import annotations

from typing import Any

from entityforge import naming
from entityforge.importer.draft import EntityDraft
from entityforge.importer.live import LivePolicy
from entityforge.spec.sql import SqlExpressionError, parse_policy_expression

_ALL_USING_TRUE = ("ALL", "true", "true")


def is_granted_roles_policy(policy: LivePolicy) -> bool:
    """The permissive policy the generator gives a table without a tenant policy."""
    return (
        policy.permissive
        and policy.name == naming.GRANTED_ROLES_POLICY
        and (policy.command, policy.using, policy.check) == _ALL_USING_TRUE
    )


def import_policies(draft: EntityDraft, roles: dict[str, str]) -> None:
    """Set ``draft.doc["policies"]`` from the table's restrictive policies."""
    kinds = {name: kind for kind, name in roles.items()}
    entries: list[tuple[LivePolicy, dict[str, Any]]] = []
    for policy in draft.table.policies:
        if policy.permissive:
            continue  # the tenant policy and granted_roles, or a finding of tables.py
        entry = _entry(draft, policy, kinds)
        if entry is not None:
            entries.append((policy, entry))
    if entries:
        draft.doc["policies"] = _merged(entries)


def _entry(draft: EntityDraft, policy: LivePolicy, kinds: dict[str, str]) -> dict[str, Any] | None:
    subject = f"policy {policy.name} on {draft.table.name}"
    unknown = [role for role in policy.roles if role not in kinds]
    if unknown:
        draft.find(
            subject,
            f"restrictive, for the roles {', '.join(policy.roles)}",
            "a spec's policy restricts the reader, writer or admin; keep this one in a "
            "revision of your own",
        )
        return None
    entry: dict[str, Any] = {"name": policy.name, "for": policy.command.lower()}
    for key, text in (("using", policy.using), ("check", policy.check)):
        if text is None:
            continue
        try:
            entry[key] = parse_policy_expression(text).text
        except SqlExpressionError as error:
            draft.find(
                subject, f"{key} {text}: {error.message}", "keep it in a revision of your own"
            )
            return None
    role_kinds = sorted((kinds[role] for role in policy.roles), key=list(kinds.values()).index)
    if role_kinds != ["writer"]:
        entry["roles"] = role_kinds
    return entry


def _merged(entries: list[tuple[LivePolicy, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Entries named ``<base>_<command>`` with the same clauses and roles, for two or more
    commands, as one entry for those commands; the rest as they are, in name order."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for _, entry in entries:
        command = entry["for"]
        base = entry["name"].removesuffix(f"_{command}")
        if base == entry["name"]:
            base = None
        key = (base, entry.get("using"), entry.get("check"), tuple(entry.get("roles", ())))
        groups.setdefault(key, []).append(entry)
    result: list[dict[str, Any]] = []
    for (base, *_), group in groups.items():
        if base is None or len(group) < 2:
            result += group
            continue
        commands = [entry["for"] for entry in group]
        result.append({**group[0], "name": base, "for": commands})
    return sorted(result, key=lambda entry: str(entry["name"]))
