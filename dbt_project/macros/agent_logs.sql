{#- The agents whose local logs orchestration/ingest/agent_logs.py loads (lake.AGENT_LOG_SOURCES), with the
    agent name their sessions get. -#}
{% macro agent_log_sources() -%}
    {{ return({'codex': 'codex-cli', 'gemini': 'gemini-cli', 'copilot': 'copilot-cli'}) }}
{%- endmacro %}

{#- A staging model of one agent's lake dataset (kind 'requests' or 'sessions'): the columns are the same for
    every agent; the collection (the collected home's folder) is the user's email. -#}
{% macro agent_log_staged(source_name, kind) -%}
with source as (

    select * from {{ source('agent_logs', source_name ~ '_' ~ kind) }}

)

select
    '{{ source_name }}' as source,
    lower(collection) as user_email,
    source_file,
    line_number,
    session_id,
{%- if kind == 'requests' %}
    request_key,
    cast(event_at_utc as {{ dbt.type_timestamp() }}) as event_at_utc,
    model,
    is_fallback_model,
    input_tokens,
    output_tokens,
    cache_read_input_tokens,
    cache_creation_input_tokens,
    reasoning_output_tokens,
{%- else %}
    cast(first_at_utc as {{ dbt.type_timestamp() }}) as first_at_utc,
    cast(last_at_utc as {{ dbt.type_timestamp() }}) as last_at_utc,
    cwd,
    git_branch,
    repository,
{%- endif %}
    client_version

from source
{%- endmacro %}

{#- Every agent's staged rows of one kind, one union. -#}
{% macro agent_log_union(kind) -%}
    {% for source_name in agent_log_sources() %}
    select * from {{ ref('stg_' ~ source_name ~ '__' ~ kind) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
{%- endmacro %}
