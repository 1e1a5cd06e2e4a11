{#- The last component of a path, ignoring a trailing slash ('/home/zoe/src/api/' -> 'api'). -#}
{% macro last_path_component(path) -%}
    {{ return(adapter.dispatch('last_path_component', 'session_analytics')(path)) }}
{%- endmacro %}
{% macro default__last_path_component(path) -%}
    nullif(regexp_extract(rtrim({{ path }}, '/'), '([^/]+)$', 1), '')
{%- endmacro %}
{% macro spark__last_path_component(path) -%}
    nullif(regexp_extract(regexp_replace({{ path }}, '/+$', ''), '([^/]+)$', 1), '')
{%- endmacro %}
