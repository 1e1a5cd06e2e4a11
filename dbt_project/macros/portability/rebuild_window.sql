{#- How an incremental model replaces the rows its window rebuilds (see macros/incremental.sql for the window).

    DuckDB: `delete+insert`. A pre-hook deletes the rows of the affected keys (sessions, or (org, day) pairs),
    including rows that will have no successor; the model's rows for those keys are then inserted.

    Spark's plain Parquet tables cannot delete rows, so each of these tables is partitioned by its day and the
    model's rows replace whole day partitions (`insert_overwrite`, dynamic partitions): the rows it rebuilds,
    plus the rows it keeps (those of the other keys on the days int_days_affected names), read from the table
    itself. A pre-hook drops the partitions of those days that keep nothing (a session that moved to another
    day may have left its old day empty: an overwrite would not touch it). Re-running gives the same partitions.
    The partition column moves to the end of the Spark table; dbt inserts by column name. -#}

{#- The model's incremental strategy (config). -#}
{% macro window_incremental_strategy() -%}
    {{ return(adapter.dispatch('window_incremental_strategy', 'session_analytics')()) }}
{%- endmacro %}
{% macro default__window_incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}
{% macro spark__window_incremental_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{#- The model's partition columns (config): none on DuckDB. -#}
{% macro window_partition_by(day_column) -%}
    {{ return(adapter.dispatch('window_partition_by', 'session_analytics')(day_column)) }}
{%- endmacro %}
{% macro default__window_partition_by(day_column) -%}
    {{ return(none) }}
{%- endmacro %}
{% macro spark__window_partition_by(day_column) -%}
    {{ return([day_column]) }}
{%- endmacro %}

{#- `exists` a row of `affected_model` with the same key_columns as the row `alias` of this table. -#}
{% macro rebuilt_by_window(affected_model, key_columns, alias) -%}
    exists (
            select 1 from {{ ref(affected_model) }} as affected
            where {% for column in key_columns %}affected.{{ column }} = {{ alias }}.{{ column }}{% if not loop.last %} and {% endif %}{% endfor %}
        )
{%- endmacro %}

{#- Pre-hook of an incremental model: remove what the window rebuilds. A no-op outside a window. -#}
{% macro delete_affected_rows(affected_model, key_columns, day_column=none) -%}
    {{ return(adapter.dispatch('delete_affected_rows', 'session_analytics')(affected_model, key_columns, day_column)) }}
{%- endmacro %}
{% macro default__delete_affected_rows(affected_model, key_columns, day_column) -%}
    {%- if is_incremental() and incremental_window_active() -%}
        delete from {{ this }}
        where exists (
            select 1 from {{ ref(affected_model) }} as affected
            where {% for column in key_columns %}affected.{{ column }} = {{ this }}.{{ column }}{% if not loop.last %} and {% endif %}{% endfor %}
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
{% macro spark__delete_affected_rows(affected_model, key_columns, day_column) -%}
    {%- if is_incremental() and incremental_window_active() -%}
        {%- set emptied -%}
            select distinct days.activity_date
            from {{ ref('int_days_affected') }} as days
            where not exists (
                select 1 from {{ this }} as kept
                where kept.{{ day_column }} <=> days.activity_date
                    and not {{ rebuilt_by_window(affected_model, key_columns, 'kept') }}
            )
        {%- endset -%}
        {%- for row in run_query(emptied) -%}
            {%- set day = row[0] -%}
            {%- do run_query(
                'alter table ' ~ this ~ ' drop if exists partition (' ~ day_column ~ ' = '
                ~ ("date'" ~ day ~ "'" if day is not none else 'null') ~ ')'
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{#- Wraps the model's SQL (a call block): on DuckDB, and outside a window, the SQL as it is. -#}
{% macro rows_of_rebuilt_partitions(affected_model, key_columns, day_column) -%}
    {%- set rows = caller() -%}
    {%- if is_incremental() and incremental_window_active() -%}
        {{ adapter.dispatch('rows_of_rebuilt_partitions', 'session_analytics')(rows, affected_model, key_columns, day_column) }}
    {%- else -%}
        {{ rows }}
    {%- endif -%}
{%- endmacro %}
{% macro default__rows_of_rebuilt_partitions(rows, affected_model, key_columns, day_column) -%}
    {{ rows }}
{%- endmacro %}
{% macro spark__rows_of_rebuilt_partitions(rows, affected_model, key_columns, day_column) -%}
    {%- set columns = model['columns'].keys() | join(', ') -%}
select {{ columns }} from (
{{ rows }}
) as rebuilt
union all
select {{ columns }} from {{ this }} as kept
where exists (
        select 1 from {{ ref('int_days_affected') }} as days where days.activity_date <=> kept.{{ day_column }}
    )
    and not {{ rebuilt_by_window(affected_model, key_columns, 'kept') }}
{%- endmacro %}
