"""All naming in one place: tables, attributes, constraints, enum types, classes.

Constraint names follow one convention (``pk_``, ``fk_``, ``uq_``, ``ix_``, ``ck_``)
and are truncated to PostgreSQL's 63 bytes exactly the way SQLAlchemy truncates names
made by a naming convention (the first 55 characters, ``_`` and the last four hex
digits of the name's MD5), so a name computed here is the name SQLAlchemy gives the
same constraint in the models.
"""

from __future__ import annotations

import hashlib
import keyword
import re

import inflection

# PostgreSQL's reserved words, as SQLAlchemy's PostgreSQL dialect lists them (a test holds
# the two lists equal); kept here because importing SQLAlchemy costs a generation 0.3 s.
_RESERVED_WORDS_TEXT = """
    all analyse analyze and any array as asc asymmetric authorization between binary both
    case cast check collate column constraint create cross current_catalog current_date
    current_role current_schema current_time current_timestamp current_user default
    deferrable desc distinct do else end except false fetch for foreign freeze from full
    grant group having ilike in initially inner intersect into is isnull join leading left
    like limit localtime localtimestamp natural new not notnull null of off offset old on
    only or order outer over overlaps placing primary references returning right select
    session_user similar some symmetric table then to trailing true union unique user using
    variadic verbose when where window with
    """
RESERVED_WORDS = frozenset(_RESERVED_WORDS_TEXT.split())

MAX_IDENTIFIER_BYTES = 63

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
PASCAL_CASE = re.compile(r"^[A-Z][a-zA-Z0-9]*$")
SETTING_NAME = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
PLAIN_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
SCHEMA_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

# Attributes a declarative model or its mixins already own.
_MODEL_ATTRIBUTES = frozenset({"metadata", "registry", "query", "query_class", "awaitable_attrs"})


# Names the generated repositories, factories and tests import or define beside the
# entity classes (the model modules alias their imports instead); an entity of the same
# name would shadow them.
_GENERATED_CODE_NAMES_TEXT = """
    Any AsyncAttrs AsyncEngine AsyncIterator AsyncSession Base Callable ColumnElement Config
    Connection DBAPIError DeclarativeBase EntityFactory Generic IntegrityError Iterable
    Iterator Mapping Page Path PostgresServer Repository SQLAlchemyFactory Sequence
    SessionDatabase SoftDeleteMixin SoftDeleteRepository Table TenantScopedMixin
    TimestampMixin TypeVar URL UUIDPrimaryKeyMixin Use
    AliasChoices BaseModel ConfigDict Field Literal Never WriteSchema
    """
GENERATED_CODE_NAMES = frozenset(_GENERATED_CODE_NAMES_TEXT.split())


def truncate(name: str) -> str:
    """Shorten ``name`` to 63 bytes the way SQLAlchemy does, deterministically."""
    if len(name.encode()) <= MAX_IDENTIFIER_BYTES:
        return name
    digest = hashlib.md5(name.encode()).hexdigest()[-4:]
    return name[: MAX_IDENTIFIER_BYTES - 8] + "_" + digest


def snake_case(name: str) -> str:
    """``ProjectMember`` → ``project_member``; ``HTTPRequest`` → ``http_request``."""
    step = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    step = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", step)
    return step.lower()


def pascal_case(name: str) -> str:
    """``due_at`` → ``DueAt``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


# Nouns English does not pluralize that the inflection rules would (``staffs``).
UNCOUNTABLE_NOUNS = frozenset({"staff"})


def pluralize(word: str) -> str:
    """English plural of a snake_case word's last part (``person`` → ``people``).

    The ``inflection`` library's rules (Rails' inflector): irregular plurals
    (``children``), uncountable nouns (``equipment``) and words already plural
    (``communications``) come out right.
    """
    last = word.rsplit("_", 1)[-1]
    if last in UNCOUNTABLE_NOUNS:
        return word
    plural: str = inflection.pluralize(word)
    return plural


def legacy_plural(word: str) -> str:
    """The plural table names had before ``pluralize`` (``persons``, ``childs``).

    Projects generated then keep their tables: see ``entityforge.catalog.table_names``.
    """
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    return word + "s"


def table_name(entity_name: str) -> str:
    """Default table of an entity: the snake_case plural of its name."""
    return pluralize(snake_case(entity_name))


def relation_column(relation_name: str) -> str:
    """The foreign-key column a ``many_to_one``/``one_to_one`` relation adds."""
    return f"{relation_name}_id"


def junction_table(entity_name: str, relation_name: str) -> str:
    """The junction table of a ``many_to_many`` relation (``project_members``)."""
    return f"{snake_case(entity_name)}_{relation_name}"


def junction_columns(entity_name: str, target_name: str, relation_name: str) -> tuple[str, str]:
    """The two key columns of a junction table; a self reference names its far side."""
    source = f"{snake_case(entity_name)}_id"
    target = f"{snake_case(target_name)}_id"
    if target == source:
        target = f"{relation_name}_id"
    return source, target


def enum_type_name(entity_name: str, field_name: str) -> str:
    """The PostgreSQL enum type of a field (``task_status``)."""
    return truncate(f"{snake_case(entity_name)}_{field_name}")


def enum_class_name(entity_name: str, field_name: str) -> str:
    """The Python enum class of a field (``TaskStatus``)."""
    return f"{entity_name}{pascal_case(field_name)}"


def enum_member_names(values: tuple[str, ...]) -> tuple[str, ...]:
    """Python member names for enum values, which need not be identifiers (``PG-13``)."""
    names: list[str] = []
    for value in values:
        base = re.sub(r"\W+", "_", value, flags=re.ASCII).strip("_").upper() or "EMPTY"
        if base[0].isdigit():
            base = f"V_{base}"
        candidate, n = base, 2
        while candidate in names:
            candidate, n = f"{base}_{n}", n + 1
        names.append(candidate)
    return tuple(names)


def attribute_name(column: str) -> str:
    """The Python attribute of a column: reserved names get a trailing underscore."""
    if keyword.iskeyword(column) or keyword.issoftkeyword(column) or column in _MODEL_ATTRIBUTES:
        return f"{column}_"
    return column


DEFAULT_SCHEMA = "public"
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "pg_toast"})


def qualified_name(schema: str | None, name: str) -> str:
    """A table's (or type's, or function's) name as SQL reaches it: ``schema.name`` outside
    ``public``, the bare name in it. A validated identifier holds no dot."""
    return f"{schema}.{name}" if schema else name


def split_qualified(name: str) -> tuple[str | None, str]:
    """``(schema, name)`` of a ``qualified_name`` (``None`` for ``public``)."""
    schema, dot, bare = name.rpartition(".")
    return (schema, bare) if dot else (None, name)


def quote_qualified(name: str) -> str:
    """A ``qualified_name`` quoted for raw SQL, each part where it needs it."""
    schema, bare = split_qualified(name)
    quoted = quote_identifier(bare)
    return f"{quote_identifier(schema)}.{quoted}" if schema else quoted


def quote_identifier(name: str) -> str:
    """Quote a validated identifier for raw SQL where PostgreSQL needs it."""
    if PLAIN_IDENTIFIER.match(name) and name not in RESERVED_WORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def primary_key_name(table: str) -> str:
    return truncate(f"pk_{table}")


def foreign_key_name(table: str, columns: tuple[str, ...], referred_table: str) -> str:
    return truncate(f"fk_{table}_{'_'.join(columns)}_{referred_table}")


def unique_name(table: str, columns: tuple[str, ...]) -> str:
    return truncate(f"uq_{table}_{'_'.join(columns)}")


def expression_label(expression: str) -> str:
    """What an index name calls an expression: its words, ``lower(email)`` → ``lower_email``."""
    return "_".join(re.findall(r"[a-z0-9]+", expression.lower())) or "expression"


def index_name(table: str, columns: tuple[str, ...], suffix: str = "") -> str:
    tail = f"_{suffix}" if suffix else ""
    return truncate(f"ix_{table}_{'_'.join(columns)}{tail}")


def check_name(table: str, name: str) -> str:
    return truncate(f"ck_{table}_{name}")


def exclusion_name(table: str, name: str) -> str:
    return truncate(f"ex_{table}_{name}")


def materialized_view_name(relation: str) -> str:
    """The materialized view behind a tenant-scoped view ``relation``, which filters it."""
    return truncate(f"{relation}_materialized")


def trigger_name(table: str) -> str:
    return truncate(f"trg_{table}_updated_at")


def history_table(table: str) -> str:
    """The append-only history of an audited entity's table."""
    return truncate(f"{table}_history")


def history_class(entity: str) -> str:
    """The read-only model of an audited entity's history."""
    return f"{entity}History"


def history_function(table: str) -> str:
    """The trigger function that writes ``table``'s history."""
    return truncate(f"{table}_history_write")


def history_trigger(table: str, operation: str) -> str:
    """The statement-level trigger that records ``operation`` (insert, update, delete)."""
    return truncate(f"trg_{table}_history_{operation}")


COPYING_SETTING = "entityforge.copying"
"""Set while a revision copies a column into its new name: the copy moves no
``updated_at``."""


def sync_name(table: str, column: str) -> str:
    """The trigger, and its function, that keep ``column`` and its old name equal.

    A table's BEFORE triggers fire in the order of their names: ``twin_`` comes after
    ``trg_``, so the copy can put back the ``updated_at`` the ``updated_at`` trigger
    moved."""
    return truncate(f"twin_{table}_{column}")


def replaced_enum_name(name: str) -> str:
    """The name an enum type has while a revision replaces its labels."""
    return truncate(f"{name}_old")


TENANT_POLICY = "tenant_isolation"
GRANTED_ROLES_POLICY = "granted_roles"
"""The permissive policy that lets the granted roles reach the rows of a table without a
tenant policy, so that its restrictive policies narrow what they see."""
GENERATED_POLICIES = frozenset({TENANT_POLICY, GRANTED_ROLES_POLICY})


def policy_name(name: str, command: str | None = None) -> str:
    """The database name of a spec's policy, suffixed with its command when the spec's
    policy restricts several (PostgreSQL gives a policy one command)."""
    return truncate(f"{name}_{command}" if command else name)


UPDATED_AT_FUNCTION = "set_updated_at"


PARTITION_SUFFIX_BYTES = 10
"""The longest suffix a partition's name adds to its prefix: ``_p20261203``."""


def partition_prefix(table: str) -> str:
    """What every partition of ``table`` is named from: ``<table>_p`` and a suffix of at
    most ``PARTITION_SUFFIX_BYTES`` (the interval's start, the hash remainder, or
    ``default``), within 63 bytes."""
    room = MAX_IDENTIFIER_BYTES - PARTITION_SUFFIX_BYTES
    if len(table.encode()) <= room:
        return table
    digest = hashlib.md5(table.encode()).hexdigest()[-4:]
    return table[: room - 5] + "_" + digest


def rebuilt_table(table: str) -> str:
    """What a table rebuilt by a revision is named while its rows move to the new one."""
    return truncate(f"{table}_rebuilding")


def partition_maintenance_function(table: str) -> str:
    """The function that makes the partitions ahead of ``table``'s current interval."""
    return truncate(f"{table}_make_partitions")
