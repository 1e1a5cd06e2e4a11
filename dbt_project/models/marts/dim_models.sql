/* grain: one row per model id: every model of the price seed (by its library id) and every model id seen in
   requests (by the id the request named), with the price it resolved to. */
with priced as (

    select provider_id, model_id, min(valid_from) as priced_from, max(price_library) as price_library
    from {{ ref('model_prices') }}
    group by provider_id, model_id

),

seen as (

    select
        model as model_id,
        max(price_provider_id) as price_provider_id,
        max(price_model_id) as price_model_id,
        count(*) as model_requests,
        sum(case when is_priced then 0 else 1 end) as unpriced_requests
    from {{ ref('fct_model_requests') }}
    group by model

),

-- A library id that requests also name (e.g. claude-opus-4-6) is one row; Vertex's copy of a Claude model has
-- the same id as Anthropic's, so the library's rows are one per id, Anthropic's own provider first.
library as (

    select model_id, provider_id, priced_from, price_library
    from (
        select
            *,
            row_number() over (
                partition by model_id
                order by case provider_id when 'anthropic' then 0 when 'openai' then 1 when 'google' then 2 else 3 end
            ) as rank
        from priced
    ) as ranked
    where rank = 1

),

-- Orgs' own prices (directory model_prices.csv) keep the grain: one row per model id, with the orgs that
-- override it listed (their requests of that id are priced by the override; everyone else's by the library).
overridden as (

    select model_id, {{ dbt.listagg('org_id', "', '", 'order by org_id') }} as override_orgs
    from (select distinct model_id, org_id from {{ ref('stg_directory__model_prices') }}) as org_models
    group by model_id

),

models as (

    select
        coalesce(seen.model_id, library.model_id) as model_id,
        coalesce(seen.price_provider_id, library.provider_id) as price_provider_id,
        coalesce(seen.price_model_id, library.model_id) as price_model_id,
        coalesce(seen.model_requests, 0) as model_requests,
        coalesce(seen.unpriced_requests, 0) as unpriced_requests
    from library
    full outer join seen on library.model_id = seen.model_id

),

every_model as (

    select
        coalesce(models.model_id, overridden.model_id) as model_id,
        models.price_provider_id,
        models.price_model_id,
        coalesce(models.model_requests, 0) as model_requests,
        coalesce(models.unpriced_requests, 0) as unpriced_requests,
        overridden.override_orgs
    from models
    full outer join overridden on models.model_id = overridden.model_id

)

select
    every_model.model_id,
    {{ model_family('every_model.model_id') }} as model_family,
    {{ model_vendor('every_model.model_id') }} as vendor,
    priced.model_id is not null or every_model.override_orgs is not null as has_price,
    every_model.price_provider_id,
    every_model.price_model_id,
    priced.priced_from,
    case
        when every_model.override_orgs is not null then 'override'
        when priced.model_id is not null then 'genai-prices'
    end as price_source,
    every_model.override_orgs,
    priced.price_library,
    every_model.model_requests,
    every_model.unpriced_requests

from every_model
left join priced
    on every_model.price_provider_id = priced.provider_id and every_model.price_model_id = priced.model_id
