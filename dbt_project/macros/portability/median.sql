{#- The median of a double expression (an aggregate), interpolating between the two middle values of an even count:
    DuckDB's median (quantile_cont 0.5); Spark's exact percentile (percentile_cont ... within group is not on
    Spark, and its median() is newer than some Spark versions). Cast the input to double: the two engines type
    the median of a decimal differently. -#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'session_analytics')(expression)) }}
{%- endmacro %}
{% macro default__median(expression) -%}
    median({{ expression }})
{%- endmacro %}
{% macro spark__median(expression) -%}
    percentile({{ expression }}, 0.5)
{%- endmacro %}
