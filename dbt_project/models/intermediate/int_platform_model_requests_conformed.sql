-- A view: read once, by the next model; a table here only copied every request once more.
{{ config(materialized='view') }}
/* grain: one row per (org_id, event_id) of a platform model_request. */
select
    'platform' as source,
    org_id,
    event_id as request_key,
    event_id,
    request_id,
    session_id,
    event_at_utc,
    model,
    input_tokens,
    output_tokens,
    cache_creation_input_tokens,
    cache_read_input_tokens,
    cache_creation_5m_input_tokens,
    cache_creation_1h_input_tokens,
    cast(null as double) as reported_cost_usd

from {{ ref('int_platform_events_deduplicated') }}
where event_type = 'model_request'
