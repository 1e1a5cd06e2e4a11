/* grain: one row per (org_id, entity_kind, entity_id, cost_date) with a cost: the daily cost of each user, project
   and agent, scored against its own usual level. The baseline is the same weekday of the trailing weeks (up to
   anomaly_baseline_weeks, only weeks since the entity's first cost; a week without cost counts as 0): its median
   and median absolute deviation (MAD). A day is an anomaly when its cost is at least anomaly_min_usd, at least
   anomaly_min_ratio x the median, and more than anomaly_mad_threshold x 1.4826 x MAD above the median (1.4826 x
   MAD estimates a standard deviation), with at least anomaly_min_baseline_weeks weeks of baseline. */
{#- (sqlfluff renders every var as a name: the default then) #}
{%- set baseline_weeks = (var('anomaly_baseline_weeks', 8) | int) or 8 %}

with activity as (

    select org_id, activity_date, user_id, project_id, agent, cost_usd
    from {{ ref('mart_daily_activity') }}
    where cost_usd > 0

),

entity_days as (

    {% for kind, column in [('user', 'user_id'), ('project', 'project_id'), ('agent', 'agent')] -%}
    select
        org_id,
        '{{ kind }}' as entity_kind,
        {{ column }} as entity_id,
        activity_date as cost_date,
        sum(cost_usd) as cost_usd
    from activity
    where {{ column }} is not null
    group by org_id, {{ column }}, activity_date
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

firsts as (

    select org_id, entity_kind, entity_id, min(cost_date) as first_date
    from entity_days
    group by org_id, entity_kind, entity_id

),

weeks_back as (

    {% for weeks in range(1, baseline_weeks + 1) -%}
    select {{ weeks }} as weeks_back
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

baseline_days as (

    select
        entity_days.org_id,
        entity_days.entity_kind,
        entity_days.entity_id,
        entity_days.cost_date,
        cast(coalesce(past.cost_usd, 0) as double) as past_cost_usd
    from entity_days
    inner join firsts
        on entity_days.org_id = firsts.org_id
        and entity_days.entity_kind = firsts.entity_kind
        and entity_days.entity_id = firsts.entity_id
    cross join weeks_back
    left join entity_days as past
        on entity_days.org_id = past.org_id
        and entity_days.entity_kind = past.entity_kind
        and entity_days.entity_id = past.entity_id
        and cast({{ dbt.dateadd('day', '-7 * weeks_back.weeks_back', 'entity_days.cost_date') }} as date)
        = past.cost_date
    where cast({{ dbt.dateadd('day', '-7 * weeks_back.weeks_back', 'entity_days.cost_date') }} as date)
        >= firsts.first_date

),

medians as (

    select org_id, entity_kind, entity_id, cost_date, {{ median('past_cost_usd') }} as median_usd, count(*) as weeks
    from baseline_days
    group by org_id, entity_kind, entity_id, cost_date

),

deviations as (

    select
        baseline_days.org_id,
        baseline_days.entity_kind,
        baseline_days.entity_id,
        baseline_days.cost_date,
        {{ median('abs(baseline_days.past_cost_usd - medians.median_usd)') }} as mad_usd
    from baseline_days
    inner join medians
        on baseline_days.org_id = medians.org_id
        and baseline_days.entity_kind = medians.entity_kind
        and baseline_days.entity_id = medians.entity_id
        and baseline_days.cost_date = medians.cost_date
    group by baseline_days.org_id, baseline_days.entity_kind, baseline_days.entity_id, baseline_days.cost_date

),

scored as (

    select
        entity_days.org_id,
        entity_days.entity_kind,
        entity_days.entity_id,
        entity_days.cost_date,
        entity_days.cost_usd,
        coalesce(medians.weeks, 0) as baseline_weeks,
        medians.median_usd as baseline_median_usd,
        deviations.mad_usd as baseline_mad_usd
    from entity_days
    left join medians
        on entity_days.org_id = medians.org_id
        and entity_days.entity_kind = medians.entity_kind
        and entity_days.entity_id = medians.entity_id
        and entity_days.cost_date = medians.cost_date
    left join deviations
        on entity_days.org_id = deviations.org_id
        and entity_days.entity_kind = deviations.entity_kind
        and entity_days.entity_id = deviations.entity_id
        and entity_days.cost_date = deviations.cost_date

)

select
    org_id,
    entity_kind,
    entity_id,
    cost_date,
    cost_usd,
    baseline_weeks,
    baseline_median_usd,
    baseline_mad_usd,
    coalesce(
        baseline_weeks >= {{ var('anomaly_min_baseline_weeks', 4) }}
        and cost_usd >= {{ var('anomaly_min_usd', 100) }}
        and cast(cost_usd as double) >= {{ var('anomaly_min_ratio', 3) }} * baseline_median_usd
        and cast(cost_usd as double) - baseline_median_usd
        > {{ var('anomaly_mad_threshold', 3) }} * 1.4826 * baseline_mad_usd,
        false
    ) as is_anomaly

from scored
