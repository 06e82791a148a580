"""Building an entity's ``policies``: restrictive row-level policies.

PostgreSQL's rules for a policy's clauses hold here already: ``USING`` filters the rows
a command reads (never given for ``INSERT``), ``WITH CHECK`` the rows it writes (never
given for ``SELECT`` or ``DELETE``). Each expression is parsed; the columns it names
outside subqueries must be the table's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from entityforge import naming
from entityforge.catalog.policies import policy_names
from entityforge.schema import (
    POLICY_COMMANDS,
    ROLE_KINDS,
    PolicyCommand,
    PolicySpec,
    RoleKind,
    Roles,
)
from entityforge.spec.document import DocPath
from entityforge.spec.fields import checked_expression
from entityforge.spec.issues import Issues, did_you_mean
from entityforge.spec.names import check_identifier
from entityforge.spec.raw import RawPolicy
from entityforge.spec.sql import parse_policy_expression

# Which clause each command takes (PostgreSQL's CREATE POLICY).
_TAKES_USING = frozenset({"select", "update", "delete", "all"})
_TAKES_CHECK = frozenset({"insert", "update", "all"})


def build_policies(
    issues: Issues,
    base: DocPath,
    raws: Sequence[RawPolicy],
    columns: Mapping[str, object],
    roles: Roles,
) -> tuple[PolicySpec, ...]:
    """The entity's policies; errors are recorded in ``issues``."""
    taken: dict[str, str] = {}
    result: list[PolicySpec] = []
    for position, raw in enumerate(raws):
        path = base + ("policies", position)
        policy = _policy(issues, path, raw, columns, roles)
        if policy is None:
            continue
        for name in policy_names(policy).values():
            if name in taken:
                issues.at_value(
                    path + ("name",),
                    f"policy '{policy.name}' makes the database policy '{name}', which policy "
                    f"'{taken[name]}' of this entity makes too",
                    hint="give each policy its own name (a policy for several commands is "
                    "one policy per command, named <name>_<command>)",
                )
                break
            taken[name] = policy.name
        else:
            result.append(policy)
    return tuple(result)


def _policy(
    issues: Issues, path: DocPath, raw: RawPolicy, columns: Mapping[str, object], roles: Roles
) -> PolicySpec | None:
    if not check_identifier(issues, path + ("name",), raw.name, "policy name"):
        return None
    if raw.name in naming.GENERATED_POLICIES:
        issues.at_value(
            path + ("name",),
            f"the policy name '{raw.name}' is the generator's own",
            hint=f"{', '.join(sorted(naming.GENERATED_POLICIES))} are taken; choose another",
        )
        return None
    commands = _commands(issues, path + ("for",), raw.for_)
    if commands is None or not _clauses_fit(issues, path, raw, commands):
        return None
    using = _expression(issues, path + ("using",), raw.using, columns)
    check = _expression(issues, path + ("check",), raw.check, columns)
    kinds = _roles(issues, path + ("roles",), raw.roles, roles)
    if (raw.using and using is None) or (raw.check and check is None) or kinds is None:
        return None
    return PolicySpec(raw.name, commands, using, check, kinds)


def _commands(issues: Issues, path: DocPath, names: list[str]) -> tuple[PolicyCommand, ...] | None:
    """The commands, checked; a single command written alone is reported where it stands
    (``path + (0,)`` falls back to the value)."""
    if not names:
        issues.at_value(path, "the list of commands is empty", hint="name at least one command")
        return None
    for index, name in enumerate(names):
        at = path + (index,)
        if name not in POLICY_COMMANDS:
            issues.at_value(
                at,
                f"unknown policy command '{name}'",
                hint=did_you_mean(name, POLICY_COMMANDS)
                or f"use one or more of: {', '.join(POLICY_COMMANDS)}",
            )
            return None
        if names.index(name) != index:
            issues.at_value(at, f"the command '{name}' is listed twice", hint="name it once")
            return None
    if "all" in names and len(names) > 1:
        issues.at_value(
            path,
            "'all' already covers every command",
            hint="write 'for: all' alone, or list the commands without 'all'",
        )
        return None
    return tuple(cast(PolicyCommand, name) for name in names)


def _clauses_fit(
    issues: Issues, path: DocPath, raw: RawPolicy, commands: tuple[PolicyCommand, ...]
) -> bool:
    if raw.using is None and raw.check is None:
        issues.at_key(
            path,
            "the policy has neither 'using' nor 'check'",
            hint="add 'using: \"<SQL>\"' (rows read) or 'check: \"<SQL>\"' (rows written)",
        )
        return False
    if raw.using is not None and (refused := [c for c in commands if c not in _TAKES_USING]):
        issues.at_key(
            path + ("using",),
            f"a policy for {refused[0]} takes no 'using': an INSERT reads no rows",
            hint="write the condition as 'check' (the new rows must satisfy it)",
        )
        return False
    if raw.check is not None and (refused := [c for c in commands if c not in _TAKES_CHECK]):
        issues.at_key(
            path + ("check",),
            f"a policy for {refused[0]} takes no 'check': it writes no rows",
            hint="write the condition as 'using' (the rows it may reach must satisfy it)",
        )
        return False
    return True


def _expression(
    issues: Issues, path: DocPath, text: str | None, columns: Mapping[str, object]
) -> str | None:
    return checked_expression(
        issues,
        path,
        text,
        columns,
        parse=parse_policy_expression,
        elsewhere=" (columns of other tables belong in a subquery)",
    )


def _roles(
    issues: Issues, path: DocPath, names: list[str] | None, roles: Roles
) -> tuple[RoleKind, ...] | None:
    """Role kinds, from kinds or the names ``roles:`` gives them; the writer by default."""
    if names is None:
        return ("writer",)
    if not names:
        issues.at_value(
            path, "the list of roles is empty", hint="leave 'roles' out for the writer"
        )
        return None
    by_name = {getattr(roles, kind): kind for kind in ROLE_KINDS}
    kinds: list[RoleKind] = []
    for index, name in enumerate(names):
        kind = name if name in ROLE_KINDS else by_name.get(name)
        if kind is None:
            issues.at_value(
                path + (index,),
                f"'{name}' is neither a role kind nor the name of one of the spec's roles",
                hint=did_you_mean(name, [*ROLE_KINDS, *by_name])
                or f"use reader, writer or admin (named {', '.join(by_name)})",
            )
            return None
        if kind in kinds:
            issues.at_value(
                path + (index,), f"the {kind} role is listed twice", hint="name each role once"
            )
            return None
        kinds.append(cast(RoleKind, kind))
    return tuple(sorted(kinds, key=ROLE_KINDS.index))
