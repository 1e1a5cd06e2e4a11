/* grain: one row per model id, priced (in the price seed) or only seen in requests. */
with priced as (

    select model_id, min(valid_from) as priced_from
    from {{ ref('model_prices') }}
    group by model_id

),

seen as (

    select model as model_id, count(*) as model_requests
    from {{ ref('fct_model_requests') }}
    group by model

)

select
    coalesce(priced.model_id, seen.model_id) as model_id,
    {{ model_family('coalesce(priced.model_id, seen.model_id)') }} as model_family,
    priced.model_id is not null as has_price,
    priced.priced_from,
    coalesce(seen.model_requests, 0) as model_requests

from priced
full outer join seen on seen.model_id = priced.model_id
