{{ config(
    materialized='incremental',
    incremental_strategy=window_incremental_strategy(),
    partition_by=window_partition_by('activity_date'),
    unique_key='grain_key',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_rows('int_days_affected', ['org_id', 'activity_date'], 'activity_date') }}"
) }}
-- Incremental: a nightly build replaces the (org, day) rows the affected sessions touch (int_days_affected).
-- depends_on: {{ ref('int_days_affected') }}
/* grain: one row per (org_id, activity_date, user_id, agent, project_id, repository).
   Sessions are counted on their session date and tokens/cost on each request's date, so every filter
   combination (date range, user, agent, project, repository) sums without double counting. Nulls in the
   grain mean "unknown" (a session whose start has not arrived). */
{% call rows_of_rebuilt_partitions('int_days_affected', ['org_id', 'activity_date'], 'activity_date') %}
with session_side as (

    select
        org_id, session_date as activity_date, user_id, agent, project_id, repository,
        count(*) as sessions,
        sum(duration_seconds) as session_duration_seconds,
        0 as model_requests,
        0 as input_tokens,
        0 as output_tokens,
        0 as cache_read_input_tokens,
        {{ money('null') }} as cost_usd,
        0 as unpriced_requests,
        {{ money('null') }} as cache_read_savings_usd

    from {{ ref('fct_sessions') }}
    where {{ only_affected_days('org_id', 'session_date') }}
    group by org_id, session_date, user_id, agent, project_id, repository

),

request_side as (

    select
        org_id, request_date as activity_date, user_id, agent, project_id, repository,
        0 as sessions,
        cast(null as double) as session_duration_seconds,
        count(*) as model_requests,
        sum(total_input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cache_read_input_tokens) as cache_read_input_tokens,
        sum(cost_usd) as cost_usd,
        sum(case when is_priced then 0 else 1 end) as unpriced_requests,
        sum(cache_read_savings_usd) as cache_read_savings_usd

    from {{ ref('fct_model_requests') }}
    where {{ only_affected_days('org_id', 'request_date') }}
    group by org_id, request_date, user_id, agent, project_id, repository

),

combined as (

    select * from session_side
    union all
    select * from request_side

)

select
    {{ surrogate_key(['org_id', 'activity_date', 'user_id', 'agent', 'project_id', 'repository']) }} as grain_key,
    org_id,
    activity_date,
    user_id,
    agent,
    project_id,
    repository,
    sum(sessions) as sessions,
    coalesce(sum(session_duration_seconds), 0) as session_duration_seconds,
    sum(model_requests) as model_requests,
    sum(input_tokens) as input_tokens,
    sum(output_tokens) as output_tokens,
    sum(input_tokens) + sum(output_tokens) as total_tokens,
    sum(cache_read_input_tokens) as cache_read_input_tokens,
    coalesce(sum(cost_usd), 0) as cost_usd,
    sum(unpriced_requests) as unpriced_requests,
    coalesce(sum(cache_read_savings_usd), 0) as cache_read_savings_usd

from combined
group by org_id, activity_date, user_id, agent, project_id, repository
{% endcall %}
