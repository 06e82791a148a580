"""Building blocks of the spec strategies (``tests/strategies.py``): the name pools,
one field of any type, one entity with its indexes, uniques and checks, one relation
that the validator accepts between two entities.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from entityforge import naming

Doc = dict[str, Any]
Draw = Callable[..., Any]

TENANT_ENTITIES = ("Workspace", "Organization", "Account")
ENTITY_NAMES = (
    "Member", "Project", "Task", "Order", "User", "Group", "Category", "Box", "Status",
    "Select", "Text", "Session", "Index", "Metadata", "Node", "Person",
)  # fmt: skip
FIELD_NAMES = (
    "name", "title", "order", "metadata", "class", "from", "select", "type", "position",
    "value", "amount", "label", "note", "body", "score", "flag", "active", "starts_on",
    "due_at", "period", "payload", "tags", "mood", "blob", "query", "registry", "uuid",
    "time", "date", "text", "user", "group", "desc", "limit", "key", "session",
)  # fmt: skip
RELATION_NAMES = (
    "owner", "parent", "author", "buddy", "twin", "holder", "links", "friends", "peers",
    "source", "sponsor", "origin", "members_of", "watchers",
)  # fmt: skip
CHECK_NAMES = ("positive", "short_enough", "sane", "ordered")
ENUM_VALUES = ("draft", "in review", "PG-13", "it's", "done", "9to5", "a", "Ünï")
TENANCY_NAMES = (
    ("tenant_id", "app.tenant_id"),
    ("org_id", "myapp.current_org"),
    ("account_id", "ledger.account"),
)
ROLE_SETS = (
    ("app_reader", "app_writer", "app_admin"),
    ("prop_reader", "prop_writer", "prop_admin"),
)
SCALAR_TYPES = (
    "string", "text", "smallint", "integer", "bigint", "decimal", "float", "boolean",
    "date", "datetime", "time", "interval", "uuid", "json", "enum", "bytes", "array",
)  # fmt: skip
ARRAY_ITEMS = ("text", "integer", "string(20)", "uuid", "date", "boolean")
NUMERIC = ("smallint", "integer", "bigint", "decimal", "float")
TEXTUAL = ("string", "text")
# Index methods each type takes (gin for containers only, trgm for text; no brin for
# booleans and enums; gist and brin not on containers).
METHODS = {
    "string": ("btree", "trgm", "gist", "brin"),
    "text": ("btree", "trgm", "gist", "brin"),
    "json": ("gin",),
    "array": ("gin",),
    "boolean": ("btree", "gist"),
    "enum": ("btree", "gist"),
}
DEFAULT_METHODS = ("btree", "gist", "brin")

# Arbitrary text for comments: anything but NUL and lone surrogates.
comment_text = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40
)


def field_type(spec: Any) -> str:
    """The base type name of a field document (``string(20)`` → ``string``)."""
    text = spec if isinstance(spec, str) else spec["type"]
    return str(text).split("(")[0]


# --- fields --------------------------------------------------------------------------


@st.composite
def field_doc(draw: Draw, name: str) -> Any:
    """One field of any type with random options; its default fits its type."""
    kind = draw(st.sampled_from(SCALAR_TYPES))
    spec: dict[str, Any] = {"type": kind}
    if kind == "string":
        spec["max_length"] = draw(st.integers(1, 300))
    elif kind == "decimal" and draw(st.booleans()):
        spec["precision"] = draw(st.integers(3, 20))
        spec["scale"] = draw(st.integers(0, 2))
    elif kind == "enum":
        spec["values"] = draw(
            st.lists(st.sampled_from(ENUM_VALUES), min_size=1, max_size=4, unique=True)
        )
    elif kind == "array":
        spec["of"] = draw(st.sampled_from(ARRAY_ITEMS))
    spec["nullable"] = draw(st.booleans())
    default = draw(_default(spec))
    if default is not None:
        spec.update(default)
    if draw(st.integers(0, 3)) == 0:
        spec["comment"] = draw(comment_text)
    if kind not in ("json", "array", "boolean", "bytes") and draw(st.integers(0, 5)) == 0:
        spec["unique"] = True
    check = _check_expression(name, spec)
    if check and draw(st.integers(0, 3)) == 0:
        spec["check"] = check
    if draw(st.integers(0, 3)) == 0:
        spec["index"] = draw(st.sampled_from(METHODS.get(kind, DEFAULT_METHODS)))
        if spec["index"] == "btree" and draw(st.booleans()):
            spec["index"] = True
    if set(spec) == {"type", "nullable"} and not spec["nullable"] and kind != "enum":
        if kind == "string":
            return f"string({spec['max_length']})"
        if kind not in ("decimal", "array"):
            return kind
    return spec


def _default(spec: dict[str, Any]) -> st.SearchStrategy[dict[str, Any] | None]:
    kind = spec["type"]
    text_default = st.text(
        st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
        max_size=min(spec.get("max_length", 30), 30),
    )
    choices: dict[str, st.SearchStrategy[Any]] = {
        "string": text_default.map(lambda v: {"default": v}),
        "text": text_default.map(lambda v: {"default": v}),
        "smallint": st.integers(0, 32767).map(lambda v: {"default": v}),
        "integer": st.integers(0, 2**31 - 1).map(lambda v: {"default": v}),
        "bigint": st.integers(0, 2**63 - 1).map(lambda v: {"default": v}),
        "decimal": st.sampled_from([0, 1, 2.5, 12]).map(lambda v: {"default": v}),
        "float": st.floats(0, 1e9, allow_nan=False).map(lambda v: {"default": v}),
        "boolean": st.booleans().map(lambda v: {"default": v}),
        "date": st.sampled_from([{"default": "2024-02-29"}, {"default_sql": "current_date"}]),
        "datetime": st.sampled_from(
            [{"default_sql": "now()"}, {"default": "2024-01-31T12:00:00+00:00"}]
        ),
        "time": st.sampled_from([{"default": "12:30"}, {"default_sql": "localtime"}]),
        "interval": st.sampled_from([{"default": "1 day"}, {"default": "02:00:00"}]),
        "uuid": st.just({"default_sql": "gen_random_uuid()"}),
        "json": st.sampled_from([{"default": {}}, {"default": []}, {"default": {"a": [1, "x"]}}]),
        "enum": st.sampled_from(spec.get("values", ["x"])).map(lambda v: {"default": v}),
        "bytes": st.just({"default_sql": "'\\x00ff'::bytea"}),
        "array": st.just({"default": []}),
    }
    if kind == "decimal" and spec.get("precision") is not None:
        choices["decimal"] = st.sampled_from([0, 1, 2.5]).map(lambda v: {"default": v})
    return st.one_of(st.none(), choices[kind])


def _check_expression(name: str, spec: dict[str, Any]) -> str | None:
    column = naming.quote_identifier(name)
    kind = spec["type"]
    if kind in NUMERIC:
        return f"{column} >= 0"
    if kind in TEXTUAL:
        return f"length({column}) <= 1000"
    if kind == "date":
        return f"{column} > '1900-01-01'"
    return None


# --- entities ------------------------------------------------------------------------


@st.composite
def entity_doc(draw: Draw, entity_name: str, defaults: Doc | None = None) -> Doc:
    """An entity without relations: fields, settings, indexes, uniques and checks."""
    names = draw(st.lists(st.sampled_from(FIELD_NAMES), min_size=1, max_size=5, unique=True))
    fields = {name: draw(field_doc(name)) for name in names}
    entity: Doc = {"fields": fields}
    for key in ("timestamps", "soft_delete"):
        if draw(st.booleans()):
            entity[key] = draw(st.booleans())
    if draw(st.integers(0, 3)) == 0:
        entity["comment"] = draw(comment_text)
    indexes = draw(st.lists(index_doc(fields, naming.snake_case(entity_name)), max_size=2))
    if indexes:
        entity["indexes"] = distinct_indexes(fields, indexes)
    uniques = draw(st.lists(_column_set(fields), max_size=2))
    uniques = _distinct_uniques(fields, uniques)
    if uniques:
        entity["unique"] = uniques
    timestamps = entity.get("timestamps", (defaults or {}).get("timestamps", True))
    checks = _entity_checks(entity, timestamps, draw(st.integers(0, 2)))
    if checks:
        entity["checks"] = checks
    if not entity.get("indexes"):
        entity.pop("indexes", None)
    search = draw(search_doc(fields))
    if search is not None:
        entity["search"] = search
    return entity


@st.composite
def search_doc(draw: Draw, fields: dict[str, Any]) -> Doc | None:
    """Full-text search over some of the string and text fields, now and then."""
    texts = sorted(name for name, spec in fields.items() if field_type(spec) in ("string", "text"))
    if not texts or draw(st.integers(0, 2)) != 0:
        return None
    searched = draw(st.lists(st.sampled_from(texts), min_size=1, max_size=3, unique=True))
    weights = st.sampled_from("ABCD")
    search: Doc = {"fields": {name: draw(weights) for name in searched}}
    language = draw(st.sampled_from([None, "simple", "english", "german"]))
    if language is not None:
        search["language"] = language
    return search


def _column_set(fields: dict[str, Any]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=2, unique=True)


@st.composite
def index_doc(draw: Draw, fields: dict[str, Any], prefix: str) -> Doc:
    """A declared index whose method fits every column, maybe partial, maybe unique."""
    by_method: dict[str, list[str]] = {}
    for name, spec in sorted(fields.items()):
        for method in METHODS.get(field_type(spec), DEFAULT_METHODS):
            by_method.setdefault(method, []).append(name)
    method = draw(st.sampled_from(sorted(by_method)))
    columns = draw(
        st.lists(st.sampled_from(by_method[method]), min_size=1, max_size=2, unique=True)
    )
    index: Doc = {"columns": columns}
    texts = [n for n, spec in sorted(fields.items()) if field_type(spec) in ("string", "text")]
    if method == "btree" and texts and draw(st.integers(0, 3)) == 0:
        # An expression beside the columns or instead of them.
        folded = draw(st.sampled_from(texts))
        function = draw(st.sampled_from(("lower", "upper")))
        index["expressions"] = [f"{function}({naming.quote_identifier(folded)})"]
        if draw(st.booleans()):
            del index["columns"]
    bounded = [
        n
        for n, spec in sorted(fields.items())
        if field_type(spec) not in ("text", "json", "array", "bytes", "string")
        and n not in columns
    ]
    if method == "btree" and bounded and draw(st.integers(0, 4)) == 0:
        index["include"] = [draw(st.sampled_from(bounded))]
    if method != "btree" or draw(st.booleans()):
        index["using"] = method
    if method == "btree" and draw(st.integers(0, 3)) == 0:
        index["unique"] = True
    if draw(st.integers(0, 2)) == 0:
        where_column = draw(st.sampled_from(sorted(fields)))
        index["where"] = f"{naming.quote_identifier(where_column)} IS NOT NULL"
    if draw(st.integers(0, 4)) == 0:
        index["name"] = f"{prefix}_{draw(st.sampled_from(('by_hand', 'custom_idx')))}"
    return index


def _field_index(name: str, spec: Any) -> Doc | None:
    if not isinstance(spec, dict) or "index" not in spec:
        return None
    method = "btree" if spec["index"] is True else spec["index"]
    return {"columns": [name], "expressions": [], "unique": False, "using": method, "where": None}


def distinct_indexes(fields: dict[str, Any], indexes: list[Doc]) -> list[Doc]:
    """Drop indexes that repeat another (a field's ``index`` key makes one too) or a name."""
    seen = [i for i in (_field_index(n, s) for n, s in fields.items()) if i]
    names: set[str] = set()
    kept = []
    for index in indexes:
        key = {
            "columns": index.get("columns", []),
            "expressions": index.get("expressions", []),
            "unique": index.get("unique", False),
            "using": index.get("using", "btree"),
            "where": index.get("where"),
        }
        if key in seen or index.get("name") in names:
            continue
        seen.append(key)
        if "name" in index:
            names.add(index["name"])
        kept.append(index)
    return kept


def _distinct_uniques(fields: dict[str, Any], uniques: list[list[str]]) -> list[list[str]]:
    seen = {frozenset([n]) for n, s in fields.items() if isinstance(s, dict) and s.get("unique")}
    kept = []
    for columns in uniques:
        if any(field_type(fields[c]) in ("json", "array", "bytes") for c in columns):
            continue
        if frozenset(columns) in seen:
            continue
        seen.add(frozenset(columns))
        kept.append(columns)
    return kept


def _entity_checks(entity: Doc, timestamps: bool, count: int) -> list[Doc]:
    checks = []
    fields = entity["fields"]
    for name, spec in sorted(fields.items()):
        expression = _check_expression(
            name, spec if isinstance(spec, dict) else {"type": field_type(spec)}
        )
        if expression and len(checks) < count:
            check_name = CHECK_NAMES[len(checks)]
            if check_name not in fields:
                checks.append({"name": check_name, "expression": expression})
    if timestamps and len(checks) < count:
        checks.append({"name": "ordered", "expression": "created_at <= updated_at"})
    return checks


# --- relations -----------------------------------------------------------------------


def scoped_names(doc: Doc) -> set[str]:
    """Entities that are tenant-scoped in ``doc``."""
    tenancy = doc.get("tenancy")
    if not tenancy:
        return set()
    return {
        name
        for name, entity in doc["entities"].items()
        if name != tenancy["entity"] and entity.get("tenant_scoped", True)
    }


def lookup_names(doc: Doc) -> set[str]:
    """Global entities of a multi-tenant ``doc`` (not the tenant entity)."""
    tenancy = doc.get("tenancy")
    if not tenancy:
        return set()
    return set(doc["entities"]) - scoped_names(doc) - {tenancy["entity"]}


def writable_target(doc: Doc, source: str, target: str) -> bool:
    """A tenant-scoped ``source`` pointing at a writable global ``target``: deleting a
    target row may not change other tenants' rows, so only restrict-like actions."""
    return source in scoped_names(doc) and bool(doc["entities"][target].get("writable"))


def relation_targets(doc: Doc, source: str, kind: str) -> list[str]:
    """Targets the validator accepts for a relation of ``kind`` from ``source``."""
    scoped = scoped_names(doc)
    everything = sorted(doc["entities"])
    if source in scoped:
        lookups = lookup_names(doc)
        if kind == "many_to_many":
            lookups = {name for name in lookups if not writable_target(doc, source, name)}
        return sorted(scoped | lookups)
    if doc.get("tenancy"):
        # Rows without a tenant never reference one tenant's rows.
        return [name for name in everything if name not in scoped]
    return everything


@st.composite
def relation_doc(draw: Draw, doc: Doc, source: str) -> tuple[str, Doc] | None:
    kind = draw(st.sampled_from(("many_to_one", "many_to_one", "one_to_one", "many_to_many")))
    targets = relation_targets(doc, source, kind)
    if not targets:
        return None
    entity = doc["entities"][source]
    taken = set(entity.get("fields", {})) | set(entity.get("relations", {}))
    free = [name for name in RELATION_NAMES if name not in taken]
    if not free:
        return None
    name = draw(st.sampled_from(free))
    relation: Doc = {"kind": kind, "target": draw(st.sampled_from(targets))}
    if kind != "many_to_many":
        nullable = draw(st.booleans())
        relation["nullable"] = nullable
        actions = ["cascade", "restrict", "no_action"] + (["set_null"] if nullable else [])
        if writable_target(doc, source, relation["target"]):
            actions = ["restrict", "no_action"]
        relation["on_delete"] = draw(st.sampled_from(actions))
    if draw(st.integers(0, 2)) == 0:
        relation["back_populates"] = f"{name}_of_{naming.snake_case(source)}"
    if kind != "many_to_many" and draw(st.integers(0, 4)) == 0:
        relation["comment"] = draw(comment_text)
    return name, relation
