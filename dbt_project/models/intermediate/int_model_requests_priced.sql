-- A view: fct_model_requests is the one table that holds every priced request (a table here copied every
-- request once more: 58 s of a 10M build). An incremental build reads it for the affected sessions only.
{{ config(materialized='view') }}
{%- set price_columns = [] -%}
{%- for tier in ['', 'long_context_'] -%}
    {%- for token_type in ['input', 'output', 'cache_write_5m', 'cache_write_1h', 'cache_read'] -%}
        {%- do price_columns.append(tier ~ token_type ~ '_usd_per_mtok') -%}
    {%- endfor -%}
{%- endfor -%}
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

overrides as (

    select * from {{ ref('stg_directory__model_prices') }}

),

match_rules as (

    select * from {{ ref('model_match_rules') }}

),

-- Each request's model id resolved as genai-prices resolves it: the provider whose rule matches first, then the
-- first of that provider's models (and its fallback providers') whose rule matches. A rule is an AND of
-- conditions; a model or provider has several rules (OR). Evaluated once per distinct model id.
distinct_models as (

    select distinct model from requests

),

-- id_form 1: the library's second try, with compact dates dashed, for ids that no model matches as they are.
model_ids as (

    select model, 0 as id_form, lower(model) as model_lower from distinct_models
    union all
    select model, 1 as id_form, {{ compact_dates_dashed('lower(model)') }} as model_lower from distinct_models
    where {{ compact_dates_dashed('lower(model)') }} <> lower(model)

),

rules_matched as (

    select
        model_ids.model,
        model_ids.id_form,
        match_rules.rule_level,
        match_rules.searched_provider_id,
        match_rules.priority,
        match_rules.provider_id,
        match_rules.model_id
    from model_ids
    cross join match_rules
    group by
        model_ids.model, model_ids.id_form, match_rules.rule_level, match_rules.searched_provider_id,
        match_rules.priority, match_rules.rule_no, match_rules.provider_id, match_rules.model_id
    having min(case
        when coalesce({{ match_condition_holds('model_ids.model_lower', 'match_rules.match_kind',
                                               'match_rules.match_value') }}, false) <> match_rules.is_negated
            then 1 else 0 end) = 1

),

first_provider as (

    select model, searched_provider_id
    from (
        select model, searched_provider_id, row_number() over (partition by model order by priority) as rank
        from rules_matched
        where rule_level = 'provider' and id_form = 0  -- the provider is found from the id as it is
    ) as ranked
    where rank = 1

),

resolved_models as (

    select model, price_provider_id, price_model_id
    from (
        select
            rules_matched.model,
            rules_matched.provider_id as price_provider_id,
            rules_matched.model_id as price_model_id,
            row_number() over (
                partition by rules_matched.model order by rules_matched.id_form, rules_matched.priority
            ) as rank
        from rules_matched
        inner join first_provider
            on rules_matched.model = first_provider.model
            and rules_matched.searched_provider_id = first_provider.searched_provider_id
        where rules_matched.rule_level = 'model'
    ) as ranked
    where rank = 1

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
        resolved_models.price_provider_id,
        resolved_models.price_model_id,
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
        on requests.org_id = sessions.org_id and requests.session_id = sessions.session_id
    left join resolved_models on requests.model = resolved_models.model

),

priced as (

    select
        tokens.*,
        -- An org's own price (directory model_prices.csv) for the exact model id wins over the library's.
        case when overrides.model_id is not null then 'override' when prices.model_id is not null then 'genai-prices'
        end as price_source,
        case when overrides.model_id is not null then overrides.long_context_threshold_tokens
            else prices.long_context_threshold_tokens end as long_context_threshold_tokens,
        {%- for rate in price_columns %}
        case when overrides.model_id is not null then overrides.{{ rate }} else prices.{{ rate }} end as {{ rate }},
        {%- endfor %}
        tokens.reported_cost_usd is not null or overrides.model_id is not null or prices.model_id is not null
            as is_priced

    from tokens
    left join prices
        on tokens.price_provider_id = prices.provider_id
        and tokens.price_model_id = prices.model_id
        and (prices.valid_from is null or cast(tokens.event_at_utc as date) >= prices.valid_from)
        and (prices.valid_to is null or cast(tokens.event_at_utc as date) < prices.valid_to)
    left join overrides
        on tokens.org_id = overrides.org_id
        and tokens.model = overrides.model_id
        and cast(tokens.event_at_utc as date) >= overrides.valid_from
        and (overrides.valid_to is null or cast(tokens.event_at_utc as date) < overrides.valid_to)

),

thresholds as (

    select
        *,
        -- Anthropic bills every token of a request above the threshold at the long-context rates.
        coalesce(total_input_tokens > long_context_threshold_tokens, false) as is_long_context

    from priced

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

    from thresholds

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
    {{ model_vendor('model') }} as vendor,
    price_provider_id,
    price_model_id,
    price_source,
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
