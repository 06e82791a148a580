"""Building an entity's ``partition``: a table partitioned by range or by hash.

PostgreSQL enforces a unique constraint on a partitioned table only when it includes
the partition column, and a foreign key can refer to such a table only through such a
key. Range partitions are refused what those rules forbid, with what to do instead;
hash partitions of the tenant column need nothing, since every key leads with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from entityforge.schema import (
    PARTITION_INTERVALS,
    Entity,
    ExclusionSpec,
    PartitionSpec,
    Tenancy,
)
from entityforge.spec.document import DocPath
from entityforge.spec.issues import Issues, did_you_mean, show_value
from entityforge.spec.raw import RawPartition

METHODS = ("range", "hash")
RANGE_TYPES = ("datetime", "date")
DEFAULT_PREMAKE = 4
MAX_PREMAKE = 100
HASH_PARTITIONS = (2, 256)


def build_partition(
    issues: Issues,
    base: DocPath,
    raw: RawPartition,
    entity: Entity,
    tenancy: Tenancy | None,
) -> PartitionSpec | None:
    """The entity's partitioning, or ``None`` after recording why it cannot be."""
    path = base + ("partition",)
    if tenancy is not None and entity.name == tenancy.entity:
        issues.at_key(
            path,
            f"the tenant entity '{entity.name}' cannot be partitioned",
            hint="partition a tenant-scoped entity, by hash of the tenant column or by range",
        )
        return None
    if raw.by == "range":
        return _range(issues, path, raw, entity)
    if raw.by == "hash":
        return _hash(issues, path, raw, entity, tenancy)
    issues.at_value(
        path + ("by",),
        f"unknown partitioning {show_value(raw.by)}",
        hint=did_you_mean(raw.by, METHODS) or "use range or hash",
    )
    return None


def _range(
    issues: Issues, path: DocPath, raw: RawPartition, entity: Entity
) -> PartitionSpec | None:
    if raw.partitions is not None:
        issues.at_key(
            path + ("partitions",),
            "'partitions' counts hash partitions; range partitions follow the interval",
            hint="remove 'partitions', or partition 'by: hash'",
        )
        return None
    field = entity.field(raw.column)
    if field is None:
        issues.at_value(
            path + ("column",),
            f"'{raw.column}' is not a field of '{entity.name}'",
            hint=did_you_mean(raw.column, [f.name for f in entity.fields])
            or "name a datetime or date field",
        )
        return None
    if field.type.name not in RANGE_TYPES or field.generated is not None or field.nullable:
        what = "a generated column" if field.generated is not None else "nullable"
        if field.type.name not in RANGE_TYPES:
            what = f"a {field.type.name} field"
        issues.at_value(
            path + ("column",),
            f"a range partition column is a required datetime or date field; '{raw.column}' "
            f"is {what}",
            hint="name a datetime or date field that is neither nullable nor generated",
        )
        return None
    if raw.interval not in PARTITION_INTERVALS:
        issues.at_value(
            path + ("interval",) if raw.interval is not None else path,
            f"a range partition needs an interval, not {show_value(raw.interval)}",
            hint=(raw.interval and did_you_mean(raw.interval, PARTITION_INTERVALS))
            or "give 'interval: day', week, month or year",
        )
        return None
    premake = DEFAULT_PREMAKE if raw.premake is None else raw.premake
    if not 0 <= premake <= MAX_PREMAKE:
        issues.at_value(
            path + ("premake",),
            f"premake {premake} is out of range",
            hint=f"give 0 to {MAX_PREMAKE} partitions ahead of the current interval",
        )
        return None
    spec = PartitionSpec("range", raw.column, raw.interval, premake)  # type: ignore[arg-type]
    _check_keys(issues, path, entity, raw.column)
    return spec


def _hash(
    issues: Issues, path: DocPath, raw: RawPartition, entity: Entity, tenancy: Tenancy | None
) -> PartitionSpec | None:
    for key in ("interval", "premake"):
        if getattr(raw, key) is not None:
            issues.at_key(
                path + (key,),
                f"'{key}' is for range partitions; hash partitions are made once",
                hint=f"remove '{key}', or partition 'by: range'",
            )
            return None
    if tenancy is None or not entity.tenant_scoped:
        issues.at_value(
            path + ("by",),
            f"'{entity.name}' has no tenant column to partition by hash",
            hint="partition a table without tenants by range of a datetime or date field",
        )
        return None
    if raw.column != tenancy.column:
        issues.at_value(
            path + ("column",),
            f"a hash partition column is the tenant column '{tenancy.column}', "
            f"not '{raw.column}'",
            hint=f"write 'column: {tenancy.column}'",
        )
        return None
    low, high = HASH_PARTITIONS
    if raw.partitions is None or not low <= raw.partitions <= high:
        issues.at_value(
            path + ("partitions",) if raw.partitions is not None else path,
            f"a hash partition needs {low} to {high} partitions, not "
            f"{show_value(raw.partitions)}",
            hint="give 'partitions: N', e.g. 'partitions: 8'",
        )
        return None
    return PartitionSpec("hash", raw.column, partitions=raw.partitions)


def _check_keys(issues: Issues, path: DocPath, entity: Entity, column: str) -> None:
    """Every unique key and exclusion constraint holds within one partition only."""
    keys: list[tuple[str, Sequence[str]]] = [
        (f"the field '{f.name}' is unique", (f.name,)) for f in entity.fields if f.unique
    ]
    keys += [
        (f"the one_to_one relation '{r.name}' is unique", (r.column,))
        for r in entity.relations
        if r.kind == "one_to_one" and r.column
    ]
    keys += [(f"the unique key {list(u)}", u) for u in entity.unique]
    keys += [
        (f"the unique index {[*i.columns, *i.expressions]}", i.columns)
        for i in entity.indexes
        if i.unique
    ]
    for what, key in keys:
        if column not in key:
            issues.at_key(
                path,
                f"{what}, and a unique key of a table partitioned by '{column}' must include "
                f"'{column}' (PostgreSQL enforces it within each partition)",
                hint=f"add '{column}' to that key, make it an index that is not unique, or "
                "partition by hash of the tenant column",
            )
    for exclusion in entity.exclusions:
        if not _excludes_within(exclusion, column):
            issues.at_key(
                path,
                f"the exclusion constraint '{exclusion.name}' must compare '{column}' with = "
                "on a table partitioned by it (PostgreSQL enforces it within each partition)",
                hint=f'add [{column}, "="] to its elements, or partition by hash of the tenant '
                "column",
            )


def _excludes_within(exclusion: ExclusionSpec, column: str) -> bool:
    return (column, "=") in exclusion.elements


def check_references_to_partitions(issues: Issues, entities: Sequence[Entity]) -> None:
    """No foreign key refers to a table partitioned by range: its primary key includes
    the partition column, which a referring row does not hold."""
    by_name = {entity.name: entity for entity in entities}
    for entity in entities:
        for relation in entity.relations:
            target = by_name[relation.target]
            referred = [target]
            if relation.kind == "many_to_many":
                referred.append(entity)
            for table in referred:
                partition = table.partition
                if partition is None or partition.by != "range":
                    continue
                issues.at_value(
                    ("entities", entity.name, "relations", relation.name, "target"),
                    f"'{table.name}' is partitioned by range of '{partition.column}', and a "
                    f"foreign key to it would have to hold '{partition.column}' too",
                    hint=f"keep '{table.name}' unreferenced (store its id in a uuid field), "
                    "or partition it by hash of the tenant column, which foreign keys can "
                    "refer to",
                )
