-- A view: read once, by the next model; a table here only copied every request once more.
{{ config(materialized='view') }}
/* grain: one row per model request over every source. A request seen both in a transcript and in OTel
   (same request id) is counted once, from the transcript, which has the 5m/1h cache-write split. */
{% set sources = [('int_platform__model_requests', 1), ('int_claude_code__model_requests', 2),
                  ('int_otel__model_requests', 3)] %}
with unioned as (

    {% for model, rank in sources %}
    select *, {{ rank }} as source_rank from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

-- Only transcript and OTel requests can share a request id; platform requests pass through unranked (ranking
-- them too sorted every platform request in one partition).
ranked as (

    select
        *,
        row_number() over (partition by org_id, request_id order by source_rank, request_key) as cross_source_rank

    from unioned
    where source in ('claude_code', 'otel') and request_id is not null

)

select *, 1 as cross_source_rank
from unioned
where not (source in ('claude_code', 'otel') and request_id is not null)

union all

select * from ranked
where cross_source_rank = 1
