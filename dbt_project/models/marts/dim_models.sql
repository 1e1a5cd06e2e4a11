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

models as (

    select
        coalesce(seen.model_id, library.model_id) as model_id,
        coalesce(seen.price_provider_id, library.provider_id) as price_provider_id,
        coalesce(seen.price_model_id, library.model_id) as price_model_id,
        coalesce(seen.model_requests, 0) as model_requests,
        coalesce(seen.unpriced_requests, 0) as unpriced_requests
    from library
    full outer join seen on seen.model_id = library.model_id

)

select
    models.model_id,
    {{ model_family('models.model_id') }} as model_family,
    {{ model_vendor('models.model_id') }} as vendor,
    priced.model_id is not null as has_price,
    models.price_provider_id,
    models.price_model_id,
    priced.priced_from,
    case when priced.model_id is not null then 'genai-prices' end as price_source,
    priced.price_library,
    models.model_requests,
    models.unpriced_requests

from models
left join priced
    on priced.provider_id = models.price_provider_id and priced.model_id = models.price_model_id
