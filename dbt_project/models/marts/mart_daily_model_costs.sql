/* grain: one row per (org_id, request_date, user_id, agent, project_id, repository, model).
   Cost and tokens by model for the cost breakdown; the same filters as mart_daily_activity apply. */
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
    count(*) as model_requests,
    sum(total_input_tokens) as input_tokens,
    sum(output_tokens) as output_tokens,
    sum(total_tokens) as total_tokens,
    coalesce(sum(cost_usd), 0) as cost_usd,
    sum(case when is_priced then 0 else 1 end) as unpriced_requests

from {{ ref('fct_model_requests') }}
group by org_id, request_date, user_id, agent, project_id, repository, model, model_family
