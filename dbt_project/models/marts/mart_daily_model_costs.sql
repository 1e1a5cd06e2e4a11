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
/* grain: one row per (org_id, request_date, user_id, agent, project_id, repository, model).
   Cost and tokens by model for the cost breakdown; the same filters as mart_daily_activity apply. */
{% call rows_of_rebuilt_partitions('int_days_affected', ['org_id', 'activity_date'], 'activity_date') %}
select
    {{ surrogate_key(['org_id', 'request_date', 'user_id', 'agent', 'project_id', 'repository', 'model']) }}
        as grain_key,
    org_id,
    request_date as activity_date,
    user_id,
    agent,
    project_id,
    repository,
    model,
    model_family,
    vendor,
    count(*) as model_requests,
    sum(total_input_tokens) as input_tokens,
    sum(output_tokens) as output_tokens,
    sum(total_tokens) as total_tokens,
    coalesce(sum(cost_usd), 0) as cost_usd,
    sum(case when is_priced then 0 else 1 end) as unpriced_requests

from {{ ref('fct_model_requests') }}
where {{ only_affected_days('org_id', 'request_date') }}
group by org_id, request_date, user_id, agent, project_id, repository, model, model_family, vendor
{% endcall %}
