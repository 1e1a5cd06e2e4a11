/* grain: one row per session_id that an incremental build rebuilds (empty on a full build, which rebuilds
   every session). The sessions with rows in the changed batches, plus the sessions that share an API request
   with them -- the same transcript request copied into a resumed session, a transcript request also seen
   in OTel, another agent's request copied into another file --, because deduplication across those copies
   may move the request from one session to another. */
-- depends_on: {{ ref('stg_platform__events') }}, {{ ref('stg_claude_code__session_spans') }}
-- depends_on: {{ ref('stg_claude_code__usage_lines') }}, {{ ref('stg_otel__events') }}
{%- for source_name in agent_log_sources() %}
-- depends_on: {{ ref('stg_' ~ source_name ~ '__sessions') }}, {{ ref('stg_' ~ source_name ~ '__requests') }}
{%- endfor %}
{% if incremental_window_active() %}
with base as (

    select session_id from {{ ref('stg_platform__events') }}
    where {{ in_list('cast(delivery_date as ' ~ dbt.type_string() ~ ')', changed_batches_of('platform')) }}
    union
    select session_id from {{ ref('stg_claude_code__session_spans') }}
    where {{ in_list('user_email', changed_batches_of('claude_code') | map('lower') | list) }}
    union
    select session_id from {{ ref('stg_claude_code__usage_lines') }}
    where {{ in_list('user_email', changed_batches_of('claude_code') | map('lower') | list) }}
    union
    select session_id from {{ ref('stg_otel__events') }}
    where {{ in_list('collection', changed_batches_of('otel')) }} and session_id is not null
    {%- for source_name in agent_log_sources() %}
    {%- for kind in ['sessions', 'requests'] %}
    union
    select session_id from {{ ref('stg_' ~ source_name ~ '__' ~ kind) }}
    where {{ in_list('user_email', changed_batches_of(source_name) | map('lower') | list) }}
    {%- endfor %}
    {%- endfor %}

),

-- The other agents' copies of one request share (source, request_key), in whichever session they are.
agent_log_requests as (

    select session_id, source || ':' || request_key as source_request_key
    from ({{ agent_log_union('requests') }}) as requests

),

shared_agent_log_keys as (

    select distinct source_request_key from agent_log_requests where session_id in (select session_id from base)

),

transcript_requests as (

    select session_id, request_id, {{ claude_code_request_key() }} as request_key
    from {{ ref('stg_claude_code__usage_lines') }}

),

otel_requests as (

    select session_id, request_id
    from {{ ref('stg_otel__events') }}
    where event_name = 'api_request' and request_id is not null and session_id is not null

),

shared_request_keys as (

    select distinct request_key from transcript_requests where session_id in (select session_id from base)

),

shared_request_ids as (

    select request_id from transcript_requests
    where request_id is not null and session_id in (select session_id from base)
    union
    select request_id from otel_requests where session_id in (select session_id from base)

)

select session_id from base
union
select session_id from transcript_requests where request_key in (select request_key from shared_request_keys)
union
select session_id from transcript_requests where request_id in (select request_id from shared_request_ids)
union
select session_id from otel_requests where request_id in (select request_id from shared_request_ids)
union
select session_id from agent_log_requests
where source_request_key in (select source_request_key from shared_agent_log_keys)
{% else %}
select cast(null as {{ dbt.type_string() }}) as session_id
where 1 = 0
{% endif %}
