/* grain: one row per (budget_key, spend_date): each budget's spend on every local day of its org's history (the
   org's first to last activity date, zero on days without spend). A team's spend is that of the people the
   directory lists in the team now (the directory is a snapshot: someone who moved counts for their new team, on
   every day); a user's or project's is theirs; an org's is everything of the org, unknown users included. */
{% set bounds_sql %}
    select min(activity_date) as first_date, max(activity_date) as last_date from {{ ref('mart_daily_activity') }}
{% endset %}

with budgets as (

    select * from {{ ref('stg_directory__budgets') }}

),

org_days as (

    select org_id, min(activity_date) as first_date, max(activity_date) as last_date
    from {{ ref('mart_daily_activity') }}
    group by org_id

),

spine as (

    {{ dbt.date_spine(
        'day',
        "(select coalesce(min(first_date), current_date) from (" ~ bounds_sql ~ ") as bounds)",
        dbt.dateadd('day', 1, "(select coalesce(max(last_date), current_date) from (" ~ bounds_sql ~ ") as bounds)")
    ) }}

),

activity as (

    -- the mart's rows summed to what a budget can select by; the team is the user's team in the directory now
    select facts.org_id, facts.activity_date, facts.user_id, facts.project_id, users.team, sum(facts.cost_usd) as cost_usd
    from {{ ref('mart_daily_activity') }} as facts
    left join {{ ref('dim_users') }} as users
        on facts.org_id = users.org_id and facts.user_id = users.user_id
    group by facts.org_id, facts.activity_date, facts.user_id, facts.project_id, users.team

),

spent as (

    select budgets.budget_key, activity.activity_date, sum(activity.cost_usd) as cost_usd
    from budgets
    inner join activity
        on budgets.org_id = activity.org_id
        and (
            budgets.budget_scope = 'org'
            or (budgets.budget_scope = 'team' and budgets.scope_id = activity.team)
            or (budgets.budget_scope = 'user' and budgets.scope_id = activity.user_id)
            or (budgets.budget_scope = 'project' and budgets.scope_id = activity.project_id)
        )
    group by budgets.budget_key, activity.activity_date

)

select
    budgets.budget_key,
    budgets.org_id,
    cast(spine.date_day as date) as spend_date,
    {{ date_part_isodow('spine.date_day') }} as iso_day_of_week,
    {{ money('coalesce(spent.cost_usd, 0)') }} as cost_usd

from budgets
inner join org_days on budgets.org_id = org_days.org_id
inner join spine
    on org_days.first_date <= cast(spine.date_day as date) and org_days.last_date >= cast(spine.date_day as date)
left join spent
    on budgets.budget_key = spent.budget_key and cast(spine.date_day as date) = spent.activity_date
