/* grain: one row per (org_id, entity_kind, entity_id, anomaly_date): a day on which a user's, project's or agent's
   cost was far above its own usual level (int_cost_anomalies_scored has the rule), with what explains it, from
   that day's requests of the entity: the model with the most cost and its share, the long-context requests' share
   of the cost, the share of input tokens not read from the cache, and the sessions. */
with flagged as (

    select * from {{ ref('int_cost_anomalies_scored') }} where is_anomaly

),

requests as (

    select
        flagged.org_id,
        flagged.entity_kind,
        flagged.entity_id,
        flagged.cost_date,
        requests.model,
        requests.session_key,
        requests.is_long_context,
        coalesce(requests.cost_usd, 0) as cost_usd,
        requests.uncached_input_tokens,
        requests.total_input_tokens
    from flagged
    inner join {{ ref('fct_model_requests') }} as requests
        on flagged.org_id = requests.org_id
        and flagged.cost_date = requests.request_date
        and (
            (flagged.entity_kind = 'user' and flagged.entity_id = requests.user_id)
            or (flagged.entity_kind = 'project' and flagged.entity_id = requests.project_id)
            or (flagged.entity_kind = 'agent' and flagged.entity_id = requests.agent)
        )

),

totals as (

    select
        org_id,
        entity_kind,
        entity_id,
        cost_date,
        count(*) as model_requests,
        count(distinct session_key) as sessions,
        sum(case when is_long_context then cost_usd else 0 end) as long_context_cost_usd,
        sum(uncached_input_tokens) as uncached_input_tokens,
        sum(total_input_tokens) as total_input_tokens
    from requests
    group by org_id, entity_kind, entity_id, cost_date

),

by_model as (

    select
        org_id,
        entity_kind,
        entity_id,
        cost_date,
        model,
        row_number() over (
            partition by org_id, entity_kind, entity_id, cost_date order by sum(cost_usd) desc, model
        ) as model_rank,
        sum(cost_usd) as model_cost_usd
    from requests
    group by org_id, entity_kind, entity_id, cost_date, model

)

select
    {{ surrogate_key(['flagged.org_id', 'flagged.entity_kind', 'flagged.entity_id', 'flagged.cost_date']) }}
        as anomaly_key,
    flagged.org_id,
    flagged.entity_kind,
    flagged.entity_id,
    flagged.cost_date as anomaly_date,
    {{ date_part_isodow('flagged.cost_date') }} as iso_day_of_week,
    flagged.cost_usd,
    {{ money('flagged.baseline_median_usd') }} as baseline_median_usd,
    {{ money('flagged.baseline_mad_usd') }} as baseline_mad_usd,
    flagged.baseline_weeks,
    case
        when flagged.baseline_median_usd > 0 then cast(flagged.cost_usd as double) / flagged.baseline_median_usd
    end as cost_ratio,
    coalesce(totals.model_requests, 0) as model_requests,
    coalesce(totals.sessions, 0) as sessions,
    by_model.model as top_model,
    cast(by_model.model_cost_usd as double) / cast(flagged.cost_usd as double) as top_model_cost_share,
    cast(totals.long_context_cost_usd as double) / cast(flagged.cost_usd as double) as long_context_cost_share,
    case
        when totals.total_input_tokens > 0
            then cast(totals.uncached_input_tokens as double) / cast(totals.total_input_tokens as double)
    end as uncached_input_share

from flagged
left join totals
    on flagged.org_id = totals.org_id
    and flagged.entity_kind = totals.entity_kind
    and flagged.entity_id = totals.entity_id
    and flagged.cost_date = totals.cost_date
left join by_model
    on flagged.org_id = by_model.org_id
    and flagged.entity_kind = by_model.entity_kind
    and flagged.entity_id = by_model.entity_id
    and flagged.cost_date = by_model.cost_date
    and by_model.model_rank = 1
