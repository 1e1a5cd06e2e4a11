-- A view: fct_model_requests is the one table that holds every priced request (a table here copied every
-- request once more: 58 s of a 10M build). An incremental build reads it for the affected sessions only.
{{ config(materialized='view') }}
/* grain: one row per (source, org_id, request_key) of a model request, with its session's attributes and
   its cost. */
with requests as (

    select * from {{ ref('int_model_requests_unioned') }}

),

sessions as (

    select * from {{ ref('int_sessions_assembled') }}

),

prices as (

    select * from {{ ref('model_prices') }}

),

tokens as (

    select
        requests.source,
        requests.org_id,
        requests.request_key,
        requests.event_id,
        requests.request_id,
        requests.session_id,
        requests.event_at_utc,
        requests.model,
        requests.input_tokens,
        requests.output_tokens,
        requests.cache_creation_input_tokens,
        requests.cache_read_input_tokens,
        requests.cache_creation_5m_input_tokens,
        requests.cache_creation_1h_input_tokens,
        requests.reported_cost_usd,
        -- Attributes are the session's: request events do not carry them.
        sessions.session_key,
        sessions.user_id,
        sessions.agent,
        sessions.project_id,
        sessions.repository,
        sessions.time_zone,
        -- Cache writes without the 5m/1h split are priced as 5-minute writes.
        case
            when requests.cache_creation_5m_input_tokens is null and requests.cache_creation_1h_input_tokens is null
                then requests.cache_creation_input_tokens
            else coalesce(requests.cache_creation_5m_input_tokens, 0)
        end as cache_write_5m_tokens,
        coalesce(requests.cache_creation_1h_input_tokens, 0) as cache_write_1h_tokens,
        requests.input_tokens + requests.cache_creation_input_tokens + requests.cache_read_input_tokens
            as total_input_tokens

    from requests
    inner join sessions
        on sessions.org_id = requests.org_id and sessions.session_id = requests.session_id

),

priced as (

    select
        tokens.*,
        prices.model_id is not null or tokens.reported_cost_usd is not null as is_priced,
        -- Anthropic bills every token of a request above the threshold at the long-context rates.
        coalesce(tokens.total_input_tokens > prices.long_context_threshold_tokens, false) as is_long_context,
        prices.input_usd_per_mtok,
        prices.output_usd_per_mtok,
        prices.cache_write_5m_usd_per_mtok,
        prices.cache_write_1h_usd_per_mtok,
        prices.cache_read_usd_per_mtok,
        prices.long_context_input_usd_per_mtok,
        prices.long_context_output_usd_per_mtok,
        prices.long_context_cache_write_5m_usd_per_mtok,
        prices.long_context_cache_write_1h_usd_per_mtok,
        prices.long_context_cache_read_usd_per_mtok

    from tokens
    left join prices
        on prices.model_id = tokens.model
        and cast(tokens.event_at_utc as date) >= prices.valid_from
        and (prices.valid_to is null or cast(tokens.event_at_utc as date) < prices.valid_to)

),

rates as (

    select
        *,
        case when is_long_context then long_context_input_usd_per_mtok else input_usd_per_mtok end as input_rate,
        case when is_long_context then long_context_output_usd_per_mtok else output_usd_per_mtok end as output_rate,
        case when is_long_context then long_context_cache_write_5m_usd_per_mtok else cache_write_5m_usd_per_mtok end
            as cache_write_5m_rate,
        case when is_long_context then long_context_cache_write_1h_usd_per_mtok else cache_write_1h_usd_per_mtok end
            as cache_write_1h_rate,
        case when is_long_context then long_context_cache_read_usd_per_mtok else cache_read_usd_per_mtok end
            as cache_read_rate

    from priced

)

select
    session_key,
    source,
    org_id,
    request_key,
    event_id,
    request_id,
    session_id,
    event_at_utc as requested_at_utc,
    cast({{ utc_to_local('event_at_utc', 'time_zone') }} as date) as request_date,
    user_id,
    agent,
    project_id,
    repository,
    model,
    {{ model_family('model') }} as model_family,
    input_tokens as uncached_input_tokens,
    cache_creation_input_tokens,
    cache_write_5m_tokens,
    cache_write_1h_tokens,
    cache_read_input_tokens,
    total_input_tokens,
    output_tokens,
    total_input_tokens + output_tokens as total_tokens,
    is_priced,
    is_long_context,
    -- OTel reports its own cost (it has no 5m/1h split to price from); every other source is priced here.
    coalesce(
        {{ money('reported_cost_usd') }},
        {{ per_million_tokens(
            'input_tokens * input_rate
            + output_tokens * output_rate
            + cache_write_5m_tokens * cache_write_5m_rate
            + cache_write_1h_tokens * cache_write_1h_rate
            + cache_read_input_tokens * cache_read_rate'
        ) }}
    ) as cost_usd,
    case when reported_cost_usd is not null then 'reported' when input_rate is not null then 'price_table' end
        as cost_basis,
    -- What the cache reads would have cost as uncached input, minus what they cost.
    {{ per_million_tokens('cache_read_input_tokens * (input_rate - cache_read_rate)') }} as cache_read_savings_usd

from rates
