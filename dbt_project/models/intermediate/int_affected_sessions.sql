/* grain: one row per session_id that an incremental build rebuilds (empty on a full build, which rebuilds
   every session). The sessions with rows in the changed batches, plus the sessions that share an API request
   with them -- the same transcript request copied into a resumed session, or a transcript request also seen
   in OTel --, because deduplication across those copies may move the request from one session to another. */
-- depends_on: {{ ref('stg_platform__events') }}, {{ ref('stg_claude_code__session_spans') }}
-- depends_on: {{ ref('stg_claude_code__usage_lines') }}, {{ ref('stg_otel__events') }}
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
{% else %}
select cast(null as {{ dbt.type_string() }}) as session_id
where 1 = 0
{% endif %}
