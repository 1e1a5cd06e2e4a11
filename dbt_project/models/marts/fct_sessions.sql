{{ config(
    materialized='incremental',
    incremental_strategy=window_incremental_strategy(),
    partition_by=window_partition_by('session_date'),
    unique_key='session_key',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_rows('int_sessions_affected', ['session_id'], 'session_date') }}"
) }}
-- Incremental: a nightly build replaces the rows of the affected sessions (int_sessions_affected).
-- depends_on: {{ ref('int_sessions_affected') }}, {{ ref('int_days_affected') }}
/* grain: one row per session (org_id, session_id). */
{% call rows_of_rebuilt_partitions('int_sessions_affected', ['session_id'], 'session_date') %}
with sessions as (

    select * from {{ ref('int_sessions_assembled') }}

),

request_totals as (

    select
        org_id,
        session_id,
        count(*) as model_requests,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd,
        sum(case when is_priced then 0 else 1 end) as unpriced_requests

    -- From the fact, not from int_model_requests_priced (a view: reading it again would price every
    -- request twice). On an incremental build the fact already holds the affected sessions' new requests.
    from {{ ref('fct_model_requests') }}
    where {{ only_affected_sessions('session_id') }}
    group by org_id, session_id

)

select
    sessions.session_key,
    sessions.org_id,
    sessions.session_id,
    sessions.source,
    sessions.user_id,
    sessions.agent,
    sessions.project_id,
    sessions.repository,
    sessions.session_date,
    sessions.started_at_utc,
    sessions.ended_at_utc,
    sessions.last_event_at_utc,
    sessions.duration_seconds,
    sessions.status,
    sessions.has_start_event,
    sessions.has_end_event,
    coalesce(request_totals.model_requests, 0) as model_requests,
    coalesce(request_totals.total_tokens, 0) as total_tokens,
    request_totals.cost_usd,
    coalesce(request_totals.unpriced_requests, 0) as unpriced_requests

from sessions
left join request_totals
    on sessions.org_id = request_totals.org_id and sessions.session_id = request_totals.session_id
{% endcall %}
