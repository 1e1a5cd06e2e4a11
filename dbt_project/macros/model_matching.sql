{#- Model ids matched as genai-prices matches them (the seed model_match_rules, written by `prices sync`). -#}

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

{#- The one definition of a model family: from the model id, so unpriced models get a family too. The families
    are the var model_families (dbt_project.yml), matched by name in this order; the last is the fallback. -#}
{% macro model_family(model_id) -%}
    {%- set families = var('model_families') -%}
    case
        {%- for family in families[:-1] %}
        when lower({{ model_id }}) like '%{{ family }}%' then '{{ family }}'
        {%- endfor %}
        else '{{ families[-1] }}'
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
