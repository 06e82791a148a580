"""Malformed specs: each error says where (``entities.yaml:LINE:COL``), what and what to do.

Every case is loaded through the public API and must fail with an ``EntityforgeError``
whose first message points at the offending key or value, carries a hint and shows no
traceback. A fuzz test feeds arbitrary text and YAML-shaped data: the loader either
succeeds or raises ``EntityforgeError``, never anything else.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from entityforge.errors import EntityforgeError, SpecError, SpecErrors
from entityforge.spec import load_schema_text

EXAMPLE = Path(__file__).resolve().parents[1] / "entityforge" / "examples" / "entities.yaml"

MALFORMED = [
    pytest.param(
        """\
        version: 1
        entities:
          Task:
            fields:
              code: {type: string, max_length: 8, pattern: "^T-"}
        """,
        "5:43",
        "hint: a pattern is a check: check:",
        id="pattern_key_of_other_tools",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          Task:
            fields:
              code: {type: text, check: "code ~ \\d+"}
        """,
        "5:42",
        "put the text in single quotes",
        id="backslash_escape_in_double_quotes",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          Task:
            fields:
              status: {type: enum, values: [todo, done]}
          TaskStatus:
            fields: {label: text}
        """,
        "6:3",
        "is also the name of the enum class of field 'Task.status'",
        id="entity_named_like_a_generated_enum_class",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          Task:
            fields: {title: text}
          TaskRead:
            fields: {label: text}
        """,
        "5:3",
        "is also the name of a schema of entity 'Task'",
        id="entity_named_like_a_generated_schema",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          Repository:
            fields: {url: text}
        """,
        "3:3",
        "entity name 'Repository' is reserved in the generated code",
        id="entity_named_like_generated_code",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Account, column: account_id}
        entities:
          Account:
            fields: {name: text}
          Tag:
            tenant_scoped: false
            fields: {name: text}
            relations:
              account: {kind: many_to_many, target: Tag}
        """,
        "10:7",
        "the tenant column's name",
        id="junction_column_takes_tenant_column_name",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Account}
        entities:
          Account: {fields: {name: text}}
          Country: {tenant_scoped: false, writable: true, fields: {code: string(2)}}
          Site:
            relations:
              country: {kind: many_to_one, target: Country, nullable: true, on_delete: set_null}
        """,
        "8:80",
        "'Country' is writable: deleting one of its rows would change the 'Site' rows",
        id="tenant_table_sets_null_through_a_writable_global_table",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Account}
        entities:
          Account: {fields: {name: text}}
          Tag: {tenant_scoped: false, writable: true, fields: {code: string(2)}}
          Site:
            relations:
              tags: {kind: many_to_many, target: Tag}
        """,
        "8:20",
        "'Tag' is writable: deleting one of its rows would unlink it",
        id="tenant_table_links_a_writable_global_table",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Account}
        entities:
          Account:
            fields: {name: text}
            relations:
              region: {kind: many_to_one, target: Region, nullable: true, on_delete: set_null}
          Region: {tenant_scoped: false, writable: true, fields: {code: string(2)}}
        """,
        "7:78",
        "'Region' is writable: deleting one of its rows would change the 'Account' rows",
        id="tenant_entity_sets_null_through_a_writable_global_table",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Account}
        entities:
          Account:
            fields: {name: text}
            relations:
              partners: {kind: many_to_many, target: Partner}
          Partner: {tenant_scoped: false, writable: true, fields: {code: string(2)}}
        """,
        "7:24",
        "'Partner' is writable: deleting one of its rows would unlink it",
        id="tenant_entity_links_a_writable_global_table",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Account}
        entities:
          Account: {fields: {name: text}}
          Partner:
            tenant_scoped: false
            writable: true
            fields: {code: string(2)}
            relations:
              accounts: {kind: many_to_many, target: Account}
        """,
        "10:24",
        "'Partner' is writable: deleting one of its rows would unlink it from every tenant's",
        id="writable_global_table_links_tenants",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          Country: {writable: true, fields: {code: string(2)}}
        """,
        "3:23",
        "says 'writable', but the spec has no tenancy",
        id="writable_without_tenancy",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Account}
        entities:
          Account: {fields: {name: text}}
          Site: {writable: true, fields: {name: text}}
        """,
        "5:20",
        "entity 'Site' is tenant-scoped: the writer may already change its tenant's rows",
        id="writable_on_a_tenant_scoped_entity",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Account}
        entities:
          Account: {writable: true, fields: {name: text}}
        """,
        "4:23",
        "the tenant entity 'Account' cannot be 'writable'",
        id="writable_tenant_entity",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Account, distribution: sharded}
        entities:
          Account: {fields: {name: text}}
        """,
        "2:42",
        "unknown distribution 'sharded'",
        id="unknown_distribution",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Account, distribution: citus}
        entities:
          Account: {fields: {slug: {type: string, max_length: 20, unique: true}}}
        """,
        "4:67",
        "Citus refuses a unique key of 'Account' that leaves the id out",
        id="citus_tenant_entity_with_a_unique_key",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Account}
        entities:
          Account: {fields: {name: text}}
          Site:
            relations:
              account: {kind: many_to_one, target: Account}
        """,
        "7:44",
        "already references the tenant entity",
        id="tenant_table_references_tenant_entity",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Account, column: account_id}
        entities:
          Account: {fields: {name: text}}
          Region:
            tenant_scoped: false
            relations:
              account: {kind: many_to_one, target: Account}
        """,
        "8:7",
        "tenant column's name",
        id="global_table_uses_tenant_column_name",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A: {fields: [1, 2
        """,
        "4:1",
        "invalid YAML",
        id="yaml_syntax",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              name: text
              name: integer
        """,
        "6:7",
        "duplicate key 'name'",
        id="duplicate_key",
    ),
    pytest.param(
        """\
        - version: 1
        """,
        "1:1",
        "must be a mapping",
        id="top_level_list",
    ),
    pytest.param(
        """\
        entities:
          A: {}
        """,
        "1:1",
        "has no 'version'",
        id="version_missing",
    ),
    pytest.param(
        """\
        version: 2
        entities:
          A: {}
        """,
        "1:10",
        "unsupported spec version 2",
        id="version_two",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          Member:
            fields:
              email: {type: string, max_length: 320, nulable: true}
        """,
        "5:46",
        "unknown key 'nulable' in field 'email' of entity 'Member'",
        id="unknown_field_key",
    ),
    pytest.param(
        """\
        version: 1
        entitys:
          A: {}
        """,
        "2:1",
        "unknown key 'entitys'",
        id="unknown_top_level_key",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            feilds:
              x: text
        """,
        "4:5",
        "unknown key 'feilds' in entity 'A'",
        id="unknown_entity_key",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              x: strng(20)
        """,
        "5:10",
        "unknown type 'strng'",
        id="unknown_type",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              x: {type: string, nullable: true}
        """,
        "5:17",
        "needs a maximum length",
        id="string_without_length",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              x: string(0)
        """,
        "5:10",
        "maximum length must be 1 to",
        id="string_zero",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              x: decimal(3,5)
        """,
        "5:10",
        "scale (5) must be between 0 and its precision (3)",
        id="decimal_scale_above_precision",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              x: {type: decimal, precision: 1001}
        """,
        "5:37",
        "precision must be 1 to 1000",
        id="decimal_precision_too_large",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              x: text(5)
        """,
        "5:10",
        "type 'text' takes no parameters",
        id="params_on_text",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          task_item: {}
        """,
        "3:3",
        "not PascalCase",
        id="entity_not_pascal",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              dueAt: datetime
        """,
        "5:7",
        "field name 'dueAt' is not snake_case",
        id="field_not_snake",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            relations:
              Parent: {kind: many_to_one, target: A, nullable: true}
        """,
        "5:7",
        "relation name 'Parent' is not snake_case",
        id="relation_not_snake",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              n: integer
            checks:
              - {name: Positive, expression: n > 0}
        """,
        "7:16",
        "check name 'Positive' is not snake_case",
        id="check_not_snake",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            table: a_table_name_that_goes_on_and_on_and_on_well_past_sixty_three_bytes
        """,
        "4:12",
        "over PostgreSQL's 63",
        id="table_too_long",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              a_field_name_that_goes_on_and_on_and_on_well_past_sixty_three_bytes: text
        """,
        "5:7",
        "over PostgreSQL's 63",
        id="field_too_long",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          TaskDetail: {}
          Taskdetail: {}
        """,
        "4:3",
        "only in case",
        id="duplicate_entity_case",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A: {table: things}
          B: {table: things}
        """,
        "4:14",
        "has the table 'things' of entity 'A'",
        id="duplicate_table",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              id: integer
        """,
        "5:7",
        "collides with the generated column 'id'",
        id="field_named_id",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Org}
        entities:
          Org: {}
          A:
            fields:
              tenant_id: uuid
        """,
        "7:7",
        "collides with the generated column 'tenant_id'",
        id="field_named_tenant_column",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              created_at: datetime
        """,
        "5:7",
        "collides with the generated column 'created_at'",
        id="field_created_at_with_timestamps",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            soft_delete: true
            fields:
              deleted_at: datetime
        """,
        "6:7",
        "collides with the generated column 'deleted_at'",
        id="field_deleted_at_with_soft_delete",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              owner_id: uuid
            relations:
              owner: {kind: many_to_one, target: A}
        """,
        "7:7",
        "the column 'owner_id' of relation 'owner' of entity 'A' collides with field 'owner_id'",
        id="relation_column_vs_field",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              parent: text
            relations:
              parent: {kind: many_to_one, target: A, nullable: true}
        """,
        "7:7",
        "relation 'parent' of entity 'A' collides with field 'parent'",
        id="relation_vs_field_name",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          Member: {}
          Task:
            relations:
              owner: {kind: many_to_one, target: Membr}
        """,
        "6:42",
        "targets 'Membr', which is no entity",
        id="unknown_target",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            relations:
              parent: {kind: belongs_to, target: A}
        """,
        "5:22",
        "unknown relation kind 'belongs_to'",
        id="unknown_kind",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            relations:
              parent: {kind: many_to_one, target: A, on_delete: nullify}
        """,
        "5:57",
        "unknown on_delete action 'nullify'",
        id="unknown_on_delete",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            relations:
              parent: {kind: many_to_one, target: A, on_delete: set_null}
        """,
        "5:57",
        "set_null needs a nullable relation",
        id="set_null_not_nullable",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            relations:
              peers: {kind: many_to_many, target: A, on_delete: cascade}
        """,
        "5:46",
        "'on_delete' does not apply to a many_to_many",
        id="on_delete_on_many_to_many",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            relations:
              peers: {kind: many_to_many, target: A, nullable: true}
        """,
        "5:46",
        "'nullable' does not apply to a many_to_many",
        id="nullable_on_many_to_many",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          Project:
            fields:
              tasks: integer
          Task:
            relations:
              project: {kind: many_to_one, target: Project, back_populates: tasks}
        """,
        "8:69",
        "back_populates 'tasks' collides with field 'tasks' of entity 'Project'",
        id="back_populates_collides",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          Project: {}
          Task:
            relations:
              project: {kind: many_to_one, target: Project, back_populates: items}
          Note:
            relations:
              project: {kind: many_to_one, target: Project, back_populates: items}
        """,
        "9:69",
        "already used by relation 'project' of entity 'Task'",
        id="back_populates_twice",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Org}
        entities:
          Org: {}
          Member: {}
          Country:
            tenant_scoped: false
            relations:
              members: {kind: many_to_many, target: Member}
        """,
        "9:45",
        "declare the relation on 'Member'",
        id="many_to_many_into_tenant",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Org}
        entities:
          Org:
            relations:
              default_project: {kind: many_to_one, target: Project, nullable: true}
          Project: {}
        """,
        "6:52",
        "its tenant column already refers to 'Org'",
        id="tenant_table_into_tenant_rows",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Org}
        entities:
          Org: {}
          Member: {}
          Country:
            tenant_scoped: false
            relations:
              owner: {kind: one_to_one, target: Member}
        """,
        "9:41",
        "declare the relation on 'Member'",
        id="global_into_tenant_rows",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              status: enum
        """,
        "5:15",
        "an enum needs a non-empty list of values",
        id="enum_without_values",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              status: {type: enum, values: [todo, done, todo]}
        """,
        "5:49",
        "'todo' is listed twice",
        id="enum_duplicate_values",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              level: {type: enum, values: [low, 2]}
        """,
        "5:41",
        "item 2 of 'values' in field 'level' of entity 'A' must be a string",
        id="enum_non_string_value",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              status:
                type: enum
                values:
                  - ok
                  - this label is far too long for postgresql, which allows 63 bytes
        """,
        "9:13",
        "longer than PostgreSQL's 63 bytes",
        id="enum_label_too_long",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              status: {type: enum, values: [todo, done], default: doing}
        """,
        "5:59",
        "is not one of the enum's values",
        id="enum_default_not_a_value",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              n: {type: integer, default: "3"}
        """,
        "5:35",
        "the default '3' is not a whole number",
        id="string_default_on_integer",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              t: {type: text, default: {}}
        """,
        "5:32",
        "fits only json fields",
        id="object_default_on_text",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              n: {type: integer, default: true}
        """,
        "5:35",
        "the default true is not a whole number",
        id="bool_default_on_integer",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              code: {type: string, max_length: 2, default: USA}
        """,
        "5:52",
        "longer than the field's max_length 2",
        id="default_longer_than_max_length",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              price: {type: decimal, precision: 4, scale: 2, default: 123.5}
        """,
        "5:63",
        "too many digits for decimal(4,2)",
        id="decimal_default_too_many_digits",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              at: {type: datetime, default: "2024-01-01", default_sql: now()}
        """,
        "5:51",
        "'default' or 'default_sql', not both",
        id="default_and_default_sql",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              s: {type: text, values: [a, b]}
        """,
        "5:23",
        "'values' applies only to enum fields",
        id="values_on_non_enum",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              s: {type: text, max_length: 20}
        """,
        "5:23",
        "'max_length' applies only to string fields",
        id="max_length_on_non_string",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              tags: array
        """,
        "5:13",
        "an array needs the type of its items",
        id="array_without_of",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              tags: {type: text, of: integer}
        """,
        "5:26",
        "'of' applies only to array fields",
        id="of_on_non_array",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              tags: {type: array, of: enum}
        """,
        "5:31",
        "may not be enum",
        id="array_of_enum",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              tags: {type: array, of: strng(4)}
        """,
        "5:31",
        "unknown type 'strng'",
        id="array_of_unknown",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              status: text
            indexes:
              - {columns: [stauts]}
        """,
        "7:20",
        "'stauts' is no column of this table",
        id="index_unknown_column",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Org}
        entities:
          Org: {}
          A:
            fields:
              name: text
            indexes:
              - {columns: [tenant_id, name]}
        """,
        "9:20",
        "the tenant column, which the generator puts first",
        id="index_names_tenant_column",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Org}
        entities:
          Org: {}
          A:
            fields:
              name: text
            unique:
              - [name, tenant_id]
        """,
        "9:16",
        "the tenant column, which the generator puts first",
        id="unique_names_tenant_column",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              name: {type: text, index: hash}
        """,
        "5:33",
        "unknown index method 'hash'",
        id="unknown_field_index_method",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              name: text
            indexes:
              - {columns: [name], using: gim}
        """,
        "7:34",
        "unknown index method 'gim'",
        id="unknown_declared_index_method",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              n: {type: integer, index: trgm}
        """,
        "5:33",
        "a trgm index needs a string or text column",
        id="trgm_on_integer",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              n: integer
            indexes:
              - {columns: [n], using: gin}
        """,
        "7:20",
        "a gin index is for json and array columns",
        id="gin_on_scalar",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              j: json
            indexes:
              - {columns: [j], using: gin, unique: true}
        """,
        "7:36",
        "a gin index cannot be unique",
        id="unique_gin_index",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            indexes:
              - {columns: []}
        """,
        "5:19",
        "the list of columns is empty",
        id="empty_index_columns",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              a: text
              b: text
            unique:
              - [a, b]
              - [b, a]
        """,
        "9:9",
        "are already unique",
        id="duplicate_unique_lists",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              a: text
            unique: [a]
        """,
        "6:14",
        "must be a list",
        id="unique_flat_list",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              n: integer
            checks:
              - {expression: n > 0}
        """,
        "7:9",
        "check #1 of entity 'A' has no 'name'",
        id="check_without_name",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            checks:
              - name: positive
        """,
        "5:9",
        "check #1 of entity 'A' has no 'expression'",
        id="check_without_expression",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              n: integer
            checks:
              - {name: positive, expression: "1) ; DROP TABLE x; --"}
        """,
        "7:38",
        "invalid SQL expression",
        id="check_injection",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              n: {type: integer, check: "n IN (SELECT 1)"}
        """,
        "5:33",
        "may not contain a subquery",
        id="check_with_subquery",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              budget: integer
            checks:
              - {name: positive, expression: budjet >= 0}
        """,
        "7:38",
        "refers to 'budjet', which is no column",
        id="check_unknown_column",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              due_at: datetime
            indexes:
              - {columns: [due_at], where: "deleted_at IS NULL"}
        """,
        "7:36",
        "refers to 'deleted_at'",
        id="where_unknown_column",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              a: integer
              b: {type: integer, default_sql: a + 1}
        """,
        "6:39",
        "default_sql may not refer to columns",
        id="default_sql_with_column",
    ),
    pytest.param(
        """\
        version: 1
        tenancy:
          entity: Workspace
        entities:
          Workspaces: {}
        """,
        "3:11",
        "the tenant entity 'Workspace' is not declared",
        id="tenancy_entity_missing",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Org}
        entities:
          Org:
            tenant_scoped: true
        """,
        "5:20",
        "cannot be tenant-scoped itself",
        id="tenant_entity_scoped",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Org, column: Tenant-ID}
        entities:
          Org: {}
        """,
        "2:32",
        "tenant column 'Tenant-ID' is not snake_case",
        id="bad_tenancy_column",
    ),
    pytest.param(
        """\
        version: 1
        tenancy: {entity: Org, setting: tenant_id}
        entities:
          Org: {}
        """,
        "2:33",
        "not a custom setting name",
        id="bad_tenancy_setting",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A: {tenant_scoped: true}
        """,
        "3:22",
        "the spec has no tenancy",
        id="tenant_scoped_without_tenancy",
    ),
    pytest.param(
        """\
        version: 1
        roles:
          reader: App Reader
        entities:
          A: {}
        """,
        "3:11",
        "the reader role name 'App Reader'",
        id="bad_role_name",
    ),
    pytest.param(
        """\
        version: 1
        roles: {admin: pg_admin}
        entities:
          A: {}
        """,
        "2:16",
        "is reserved by PostgreSQL",
        id="reserved_role_name",
    ),
    pytest.param(
        """\
        version: 1
        roles:
          reader: app
          writer: app
        entities:
          A: {}
        """,
        "4:11",
        "the writer and reader roles are both named 'app'",
        id="roles_not_distinct",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              title: {type: text, renamed_from: Old Title}
        """,
        "5:41",
        "renamed_from 'Old Title' is not snake_case",
        id="renamed_from_invalid",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            table: ix_bs_name
          B:
            fields:
              name: {type: text, index: true}
        """,
        "5:3",
        "the database name 'ix_bs_name' is used by table 'ix_bs_name'",
        id="table_clashes_with_index",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          Task:
            fields:
              status: {type: enum, values: [a, b]}
          Status:
            table: task_status
        """,
        "5:7",
        "the enum type 'task_status' has the name of table 'task_status'",
        id="enum_type_clashes_with_table",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              x: {type: text, nullable: "yes"}
        """,
        "5:33",
        "'nullable' in field 'x' of entity 'A' must be true or false",
        id="nullable_as_string",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields: [a, b]
        """,
        "4:13",
        "'fields' in entity 'A' must be a mapping",
        id="fields_as_list",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              1: text
        """,
        "5:7",
        "the key '1' in 'fields' of entity 'A' is not a string",
        id="non_string_key",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A: !!python/object:os.system {}
        """,
        "3:6",
        "unsupported YAML tag",
        id="unsupported_tag",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              blob: {type: bytes, default: abc}
        """,
        "5:36",
        "cannot be a literal for a bytes field",
        id="bytes_literal_default",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          Member:
            relations:
              member: {kind: many_to_many, target: Member}
        """,
        "5:7",
        "would have two columns named 'member_id'",
        id="junction_columns_collide",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          A:
            fields:
              x: 42
        """,
        "5:10",
        "field 'x' of entity 'A' must be a type expression",
        id="field_type_not_text",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          Category:
            fields: {name: text}
            relations:
              parent: {kind: many_to_one, target: Category}
        """,
        "6:43",
        "the required reference 'parent' of 'Category' to itself leaves no first row",
        id="required_self_reference",
    ),
    pytest.param(
        """\
        version: 1
        entities:
          Invoice:
            relations:
              latest_payment: {kind: one_to_one, target: Payment}
          Payment:
            relations:
              invoice: {kind: many_to_one, target: Invoice}
        """,
        "5:50",
        "required references go round (Invoice → Payment → Invoice)",
        id="required_reference_cycle",
    ),
    pytest.param(
        """\
        version: 1
        entities: {}
        """,
        "2:11",
        "declares no entities",
        id="empty_entities",
    ),
]


def first_error(error: EntityforgeError) -> SpecError:
    if isinstance(error, SpecErrors):
        return error.errors[0]
    assert isinstance(error, SpecError)
    return error


def assert_refused_at(spec: str, where: str, message: str) -> None:
    """Loading ``spec`` fails, its first error at ``where`` (``line:column``) saying
    ``message``, with a hint."""
    with pytest.raises(EntityforgeError) as raised:
        load_schema_text(spec)
    rendered = first_error(raised.value).render()
    assert rendered.startswith(f"entities.yaml:{where}: "), rendered
    assert message in rendered
    assert "\n  hint: " in rendered


@pytest.mark.parametrize(("spec", "where", "message"), MALFORMED)
def test_malformed_spec_is_reported_with_location_and_hint(
    spec: str, where: str, message: str
) -> None:
    with pytest.raises(EntityforgeError) as raised:
        load_schema_text(textwrap.dedent(spec))
    error = first_error(raised.value)
    rendered = error.render()
    assert rendered.startswith(f"entities.yaml:{where}: "), rendered
    assert message in rendered
    assert error.hint, rendered
    assert "\n  hint: " in rendered
    assert str(raised.value).startswith("entities.yaml:")
    assert "Traceback" not in str(raised.value)
    assert raised.value.__cause__ is None or isinstance(raised.value.__cause__, EntityforgeError)


def test_there_are_enough_malformed_cases() -> None:
    assert len(MALFORMED) >= 45


def test_several_errors_are_gathered_in_file_order() -> None:
    spec = textwrap.dedent("""\
        version: 1
        entities:
          A:
            fields:
              x: strng
              y: string
              z: {type: integer, default: abc}
        """)
    with pytest.raises(SpecErrors) as raised:
        load_schema_text(spec)
    locations = [str(error.location) for error in raised.value.errors]
    assert locations == ["entities.yaml:5:10", "entities.yaml:6:10", "entities.yaml:7:35"]
    assert raised.value.render().count("hint:") == 3


def test_duplicate_keys_report_both_positions() -> None:
    spec = "version: 1\nentities:\n  A: {}\n  A: {}\n"
    with pytest.raises(SpecError) as raised:
        load_schema_text(spec, filename="spec/app.yaml")
    assert str(raised.value).startswith("spec/app.yaml:4:3: duplicate key 'A'")
    assert "first written at spec/app.yaml:3:3" in str(raised.value)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 3000 + "]" * 3000,
        "a: &a [x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{c}: &{c} [{', '.join([f'*{p}'] * 8)}]\n"
            for p, c in zip("abcdef", "bcdefg", strict=True)
        ),
        "a: &a [*a]\n",
        "version: !!binary aGk=\nentities: {}\n",
        "version: 1\n---\nversion: 1\n",
        "\t- x",
        "version: 1\x00",
        "",
        "version: " + "9" * 5000 + "\nentities: {A: {}}\n",
    ],
    ids=["deep", "laughs", "recursive", "binary", "two_documents", "tab", "nul", "empty", "huge"],
)
def test_hostile_documents_fail_cleanly(text: str) -> None:
    with pytest.raises(EntityforgeError) as raised:
        load_schema_text(text)
    assert str(raised.value).startswith("entities.yaml:")


# --- fuzzing -----------------------------------------------------------------------------

_KEYS = st.sampled_from(
    [
        "version",
        "entities",
        "tenancy",
        "roles",
        "defaults",
        "fields",
        "relations",
        "indexes",
        "unique",
        "checks",
        "type",
        "kind",
        "target",
        "columns",
        "default",
        "values",
        "of",
        "entity",
        "Member",
        "Task",
        "name",
        "id",
    ]
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["string(20)", "enum", "array", "json", "Member", "many_to_one", "gin"])
)
_DATA = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(_KEYS | st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=25,
)


def dump(data: Any) -> str:
    buffer = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, buffer)
    return buffer.getvalue()


def assert_loads_or_reports(text: str) -> None:
    try:
        load_schema_text(text)
    except EntityforgeError as error:
        assert str(error).startswith("entities.yaml:"), str(error)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fuzz_arbitrary_text(text: str) -> None:
    assert_loads_or_reports(text)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(_DATA)
def test_fuzz_arbitrary_yaml_data(data: Any) -> None:
    assert_loads_or_reports(dump(data))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.dictionaries(_KEYS | st.text(max_size=8), _DATA, max_size=4), _DATA)
def test_fuzz_entities_under_a_valid_header(entities: Any, tenancy: Any) -> None:
    assert_loads_or_reports(dump({"version": 1, "tenancy": tenancy, "entities": entities}))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_fuzz_mutations_of_the_example(data: st.DataObject) -> None:
    spec = YAML(typ="safe", pure=True).load(EXAMPLE.read_text())
    for _ in range(data.draw(st.integers(1, 3))):
        parent, key = _pick_location(data, spec)
        if data.draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(key, None)
        else:
            parent[key] = data.draw(_DATA)
    assert_loads_or_reports(dump(spec))


def _pick_location(data: st.DataObject, spec: Any) -> tuple[Any, Any]:
    """A random (container, key) inside ``spec``, walking down from the top."""
    parent, key = spec, data.draw(st.sampled_from(sorted(spec)))
    while isinstance(parent[key], dict | list) and parent[key] and data.draw(st.booleans()):
        parent = parent[key]
        keys = sorted(parent) if isinstance(parent, dict) else list(range(len(parent)))
        key = data.draw(st.sampled_from(keys))
    return parent, key
