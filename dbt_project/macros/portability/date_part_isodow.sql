{#- ISO day of week, Monday = 1 ... Sunday = 7. -#}
{% macro date_part_isodow(date_expression) -%}
    {{ return(adapter.dispatch('date_part_isodow', 'session_analytics')(date_expression)) }}
{%- endmacro %}
{% macro default__date_part_isodow(date_expression) -%}
    isodow({{ date_expression }})
{%- endmacro %}
{% macro spark__date_part_isodow(date_expression) -%}
    extract(dayofweek_iso from {{ date_expression }})
{%- endmacro %}
