{#- A path without its trailing slashes ('/home/zoe/src/' -> '/home/zoe/src'). Spark's two-argument rtrim takes
    the characters to trim first (`rtrim('/', path)`): with DuckDB's order every path became ''. -#}
{% macro trailing_slashes_trimmed(path) -%}
    {{ return(adapter.dispatch('trailing_slashes_trimmed', 'session_analytics')(path)) }}
{%- endmacro %}
{% macro default__trailing_slashes_trimmed(path) -%}
    rtrim({{ path }}, '/')
{%- endmacro %}
{% macro spark__trailing_slashes_trimmed(path) -%}
    regexp_replace({{ path }}, '/+$', '')
{%- endmacro %}
