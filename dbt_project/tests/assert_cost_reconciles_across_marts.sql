{{ config(meta={'dagster': {'ref': {'name': 'mart_daily_activity'}}}) }}
-- The cost in each mart equals the cost in the request fact (to a thousandth of a cent).
with totals as (
    select 'fct_model_requests' as layer, coalesce(sum(cost_usd), 0) as cost_usd from {{ ref('fct_model_requests') }}
    union all
    select 'mart_daily_activity', sum(cost_usd) from {{ ref('mart_daily_activity') }}
    union all
    select 'mart_daily_model_costs', sum(cost_usd) from {{ ref('mart_daily_model_costs') }}
)

select totals.*
from totals
cross join (select cost_usd as expected from totals where layer = 'fct_model_requests') as fact
where abs(coalesce(totals.cost_usd, 0) - coalesce(fact.expected, 0)) > 0.00001
