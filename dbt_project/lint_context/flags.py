"""sqlfluff's stand-in for dbt's `flags`."""

FULL_REFRESH = False
