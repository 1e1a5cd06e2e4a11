/* grain: one row per (budget_key, as_of_date): each budget's period (calendar month or ISO week, local dates) as it
   stood at the end of every day of its org's history. The forecast to the period's end is the spend so far plus,
   for each remaining day, the average spend of that weekday over the trailing four weeks up to as_of_date (the
   days of them in the org's history). Status: over (spend >= amount), projected_over (forecast > amount),
   warning (spend >= warn_at x amount), else ok. is_latest marks the org's latest day: the current status. */
{%- set trailing_days = 28 %}

with budgets as (

    select * from {{ ref('stg_directory__budgets') }}

),

days as (

    select * from {{ ref('int_budget_days_summed') }}

),

as_of as (

    select
        days.budget_key,
        days.spend_date as as_of_date,
        days.iso_day_of_week as as_of_day_of_week,
        case
            when budgets.period = 'month' then cast({{ dbt.date_trunc('month', 'days.spend_date') }} as date)
            else cast({{ dbt.date_trunc('week', 'days.spend_date') }} as date)
        end as period_start
    from days
    inner join budgets on days.budget_key = budgets.budget_key

),

periods as (

    select
        as_of.*,
        case
            when budgets.period = 'month'
                then cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'as_of.period_start')) }} as date)
            else cast({{ dbt.dateadd('day', 6, 'as_of.period_start') }} as date)
        end as period_end
    from as_of
    inner join budgets on as_of.budget_key = budgets.budget_key

),

spent as (

    select periods.budget_key, periods.as_of_date, sum(days.cost_usd) as spend_usd
    from periods
    inner join days
        on periods.budget_key = days.budget_key
        and days.spend_date between periods.period_start and periods.as_of_date
    group by periods.budget_key, periods.as_of_date

),

weekday_rates as (

    -- the average spend of each weekday over the trailing four weeks (its days within the org's history)
    select
        periods.budget_key,
        periods.as_of_date,
        days.iso_day_of_week,
        sum(cast(days.cost_usd as double)) / count(*) as daily_rate_usd
    from periods
    inner join days
        on periods.budget_key = days.budget_key
        and days.spend_date between
            cast({{ dbt.dateadd('day', 1 - trailing_days, 'periods.as_of_date') }} as date) and periods.as_of_date
    group by periods.budget_key, periods.as_of_date, days.iso_day_of_week

),

days_ahead as (

    {% for ahead in range(1, 31) -%}
    select {{ ahead }} as days_ahead
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

remaining as (

    -- each day after as_of_date up to the period's end, by weekday
    select
        periods.budget_key,
        periods.as_of_date,
        mod(periods.as_of_day_of_week - 1 + days_ahead.days_ahead, 7) + 1 as iso_day_of_week
    from periods
    inner join days_ahead
        on cast({{ dbt.dateadd('day', 'days_ahead.days_ahead', 'periods.as_of_date') }} as date) <= periods.period_end

),

projected as (

    select remaining.budget_key, remaining.as_of_date, sum(coalesce(weekday_rates.daily_rate_usd, 0)) as rest_usd
    from remaining
    left join weekday_rates
        on remaining.budget_key = weekday_rates.budget_key
        and remaining.as_of_date = weekday_rates.as_of_date
        and remaining.iso_day_of_week = weekday_rates.iso_day_of_week
    group by remaining.budget_key, remaining.as_of_date

),

org_latest as (

    select org_id, max(spend_date) as latest_date from days group by org_id

),

figures as (

    select
        periods.budget_key,
        budgets.org_id,
        budgets.budget_scope,
        budgets.scope_id,
        budgets.period,
        periods.period_start,
        periods.period_end,
        periods.as_of_date,
        periods.as_of_date = org_latest.latest_date as is_latest,
        periods.as_of_date = periods.period_end as is_period_complete,
        case
            when budgets.period = 'month' then cast(extract(day from periods.as_of_date) as bigint)
            else periods.as_of_day_of_week
        end as days_elapsed,
        case
            when budgets.period = 'month' then cast(extract(day from periods.period_end) as bigint)
            else 7
        end as days_in_period,
        budgets.amount_usd,
        budgets.warn_at,
        {{ money('spent.spend_usd') }} as spend_usd,
        {{ money('spent.spend_usd + ' ~ money('coalesce(projected.rest_usd, 0)')) }} as forecast_usd
    from periods
    inner join budgets on periods.budget_key = budgets.budget_key
    inner join spent on periods.budget_key = spent.budget_key and periods.as_of_date = spent.as_of_date
    inner join org_latest on budgets.org_id = org_latest.org_id
    left join projected on periods.budget_key = projected.budget_key and periods.as_of_date = projected.as_of_date

)

select
    {{ surrogate_key(['budget_key', 'as_of_date']) }} as budget_status_key,
    budget_key,
    org_id,
    budget_scope,
    scope_id,
    period,
    period_start,
    period_end,
    as_of_date,
    is_latest,
    is_period_complete,
    days_elapsed,
    days_in_period,
    amount_usd,
    warn_at,
    spend_usd,
    forecast_usd,
    cast(spend_usd as double) / cast(amount_usd as double) as spend_share,
    cast(forecast_usd as double) / cast(amount_usd as double) as forecast_share,
    case
        when spend_usd >= amount_usd then 'over'
        when forecast_usd > amount_usd then 'projected_over'
        when spend_usd >= amount_usd * warn_at then 'warning'
        else 'ok'
    end as status

from figures
