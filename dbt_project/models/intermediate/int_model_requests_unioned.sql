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

ranked as (

    select
        *,
        case
            when source in ('claude_code', 'otel') and request_id is not null
                then row_number() over (
                    partition by org_id, case when source in ('claude_code', 'otel') then request_id end
                    order by source_rank, request_key
                )
            else 1
        end as cross_source_rank

    from unioned

)

select * from ranked
where cross_source_rank = 1
