{#- Regular expressions where DuckDB (RE2) and Spark (Java) differ. -#}

{#- Whether a regex finds a match anywhere in a text (Python's re.search): RE2 on DuckDB, Java on Spark. -#}
{% macro regex_search(text, pattern) -%}
    {{ return(adapter.dispatch('regex_search', 'session_analytics')(text, pattern)) }}
{%- endmacro %}
{% macro default__regex_search(text, pattern) -%}
    regexp_matches({{ text }}, {{ pattern }})
{%- endmacro %}
{% macro spark__regex_search(text, pattern) -%}
    ({{ text }} rlike {{ pattern }})
{%- endmacro %}

{#- genai-prices' second try for an id no model matched: a compact date suffix (-20251211) written dashed
    (-2025-12-11), as LiteLLM and OpenRouter ids need. (The library also skips impossible dates like 20250231;
    this does not, and ids of such dates match nothing either way.) -#}
{% macro compact_dates_dashed(text) -%}
    {{ return(adapter.dispatch('compact_dates_dashed', 'session_analytics')(text)) }}
{%- endmacro %}
{% macro default__compact_dates_dashed(text) -%}
    regexp_replace({{ text }}, '-(20[0-9]{2})(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])(-|:|$)', '-\1-\2-\3\4', 'g')
{%- endmacro %}
{% macro spark__compact_dates_dashed(text) -%}
    regexp_replace({{ text }}, '-(20[0-9]{2})(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])(-|:|$)', '-$1-$2-$3$4')
{%- endmacro %}
