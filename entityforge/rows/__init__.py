"""Rows that satisfy a table's checks: the checks read from their parse trees, a small
solver that picks each column's value, and the plans the generated factories follow."""
