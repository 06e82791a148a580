"""The relations a view of the spec makes: what holds its rows and its unique index.

A plain view is one relation, its name. A materialized view's rows are held by a
materialized view of that name too, unless it is tenant-scoped: the application then
reads the name through a view that filters on the tenant, and the rows live in
``<name>_materialized``, which only the admin reads and refreshes.
"""

from __future__ import annotations

from entityforge import naming
from entityforge.schema import View


def storage_name(view: View) -> str:
    """The relation that holds a materialized view's rows (a plain view's own name)."""
    if view.materialized and view.tenant_scoped:
        return naming.materialized_view_name(view.relation)
    return view.relation


def unique_index_name(view: View) -> str | None:
    """The unique index of a materialized view that says ``unique``, which lets
    ``REFRESH MATERIALIZED VIEW CONCURRENTLY`` run."""
    if not (view.materialized and view.unique):
        return None
    return naming.unique_name(storage_name(view), view.unique)
