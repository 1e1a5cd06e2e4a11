-- A view: read once, by the next model; a table here only copied every request once more.
{{ config(materialized='view') }}
/* grain: one row per model request over every source. A request seen both in a transcript and in OTel
   (same request id) is counted once, from the transcript, which has the 5m/1h cache-write split. */
with transcript_and_otel as (

    select *, 2 as source_rank from {{ ref('int_claude_code_model_requests_conformed') }}
    union all
    select *, 3 as source_rank from {{ ref('int_otel_model_requests_conformed') }}

),

-- Only transcript and OTel requests can share a request id, so only they are ranked: ranking platform requests
-- too sorted every one of them in one partition. (Platform requests are not in a CTE read twice either:
-- DuckDB would materialise it.)
ranked as (

    select
        *,
        case
            when request_id is not null
                then row_number() over (partition by org_id, request_id order by source_rank, request_key)
            else 1
        end as cross_source_rank

    from transcript_and_otel

)

select *, 1 as source_rank, 1 as cross_source_rank
from {{ ref('int_platform_model_requests_conformed') }}

union all

-- The other agents' requests share no request id with another source.
select *, 4 as source_rank, 1 as cross_source_rank
from {{ ref('int_agent_logs_model_requests_conformed') }}

union all

select * from ranked
where cross_source_rank = 1
