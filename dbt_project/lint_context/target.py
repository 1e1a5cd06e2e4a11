"""sqlfluff's stand-in for dbt's `target`."""

name = type = "duckdb"
database = "warehouse"
schema = "main"
