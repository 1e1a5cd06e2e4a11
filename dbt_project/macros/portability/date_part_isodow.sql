{#- ISO day of week, Monday = 1 ... Sunday = 7, a bigint (DuckDB's isodow; Spark's extract gives an int). -#}
{% macro date_part_isodow(date_expression) -%}
    {{ return(adapter.dispatch('date_part_isodow', 'session_analytics')(date_expression)) }}
{%- endmacro %}
{% macro default__date_part_isodow(date_expression) -%}
    isodow({{ date_expression }})
{%- endmacro %}
{% macro spark__date_part_isodow(date_expression) -%}
    cast(extract(dayofweek_iso from {{ date_expression }}) as bigint)
{%- endmacro %}
