{#- Model ids matched as genai-prices matches them (the seed model_match_rules, written by `prices sync`). -#}

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

{#- One condition of a match rule on a lower-cased model id (the library lower-cases both sides, but not for
    regexes). instr/left/right rather than LIKE: ids may hold % or _. -#}
{% macro match_condition_holds(model_id, kind, value) -%}
    case {{ kind }}
        when 'equals' then {{ model_id }} = {{ value }}
        when 'starts_with' then left({{ model_id }}, length({{ value }})) = {{ value }}
        when 'ends_with' then right({{ model_id }}, length({{ value }})) = {{ value }}
        when 'contains' then instr({{ model_id }}, {{ value }}) > 0
        when 'regex' then {{ regex_search(model_id, value) }}
    end
{%- endmacro %}

{#- The one definition of a model's vendor (who made it, whoever serves it: Bedrock's Claude is anthropic),
    from the model id, so unpriced models get a vendor too. -#}
{% macro model_vendor(model_id) -%}
    case
        when lower({{ model_id }}) like '%claude%' then 'anthropic'
        when lower({{ model_id }}) like '%gemini%' then 'google'
        when lower({{ model_id }}) like 'gpt-%' or lower({{ model_id }}) like '%openai.%'
            or lower({{ model_id }}) like '%codex%' or {{ regex_search('lower(' ~ model_id ~ ')', "'^o[134]'") }}
            then 'openai'
        else 'other'
    end
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
