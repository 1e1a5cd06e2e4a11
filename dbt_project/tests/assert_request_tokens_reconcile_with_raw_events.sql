{{ config(meta={'dagster': {'ref': {'name': 'fct_model_requests'}}}) }}
-- Reconciliation: the tokens of the distinct platform model_request events in the raw layer equal the
-- platform tokens in the request fact, and the facts equal both marts. Returns a row per layer that disagrees.
with raw_requests as (
    select distinct org_id, event_id, input_tokens + cache_creation_input_tokens + cache_read_input_tokens
        + output_tokens as total_tokens
    from {{ source('platform', 'platform_events') }}
    where event_type = 'model_request'
),

layer_totals as (
    select 'raw' as layer, sum(total_tokens) as total_tokens, count(*) as requests from raw_requests
    union all
    select 'fct_model_requests', sum(total_tokens), count(*) from {{ ref('fct_model_requests') }}
    where source = 'platform'
),

all_sources as (
    select 'fct_model_requests (all sources)' as layer, sum(total_tokens) as total_tokens, count(*) as requests
    from {{ ref('fct_model_requests') }}
    union all
    select 'mart_daily_activity', sum(total_tokens), sum(model_requests) from {{ ref('mart_daily_activity') }}
    union all
    select 'mart_daily_model_costs', sum(total_tokens), sum(model_requests) from {{ ref('mart_daily_model_costs') }}
)

select layer_totals.*
from layer_totals
cross join (select * from layer_totals where layer = 'raw') as expected
where coalesce(layer_totals.total_tokens, 0) <> coalesce(expected.total_tokens, 0)
   or layer_totals.requests <> expected.requests

union all

-- The marts hold exactly the facts' requests and tokens, whatever their source.
select all_sources.*
from all_sources
cross join (select * from all_sources where layer = 'fct_model_requests (all sources)') as expected
where coalesce(all_sources.total_tokens, 0) <> coalesce(expected.total_tokens, 0)
   or all_sources.requests <> expected.requests
