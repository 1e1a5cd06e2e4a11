/* grain: one row per claude_code.api_request record (by request_id; records without one stand alone). */
with requests as (

    select
        *,
        coalesce(
            request_id,
            source_file || ':' || cast(line_number as {{ dbt.type_string() }}) || ':'
                || cast(record_index as {{ dbt.type_string() }})
        ) as request_key

    from {{ ref('stg_otel__events') }}
    where event_name = 'api_request' and {{ only_affected_sessions('session_id') }}

),

ranked as (

    select *, row_number() over (partition by request_key order by source_file, line_number, record_index) as copy_rank
    from requests

)

select
    'otel' as source,
    users.org_id,
    ranked.request_key,
    cast(null as {{ dbt.type_string() }}) as event_id,
    ranked.request_id,
    ranked.session_id,
    ranked.event_at_utc,
    ranked.model,
    ranked.input_tokens,
    ranked.output_tokens,
    coalesce(ranked.cache_creation_input_tokens, 0) as cache_creation_input_tokens,
    coalesce(ranked.cache_read_input_tokens, 0) as cache_read_input_tokens,
    cast(null as {{ dbt.type_bigint() }}) as cache_creation_5m_input_tokens,
    cast(null as {{ dbt.type_bigint() }}) as cache_creation_1h_input_tokens,
    ranked.reported_cost_usd

from ranked
inner join {{ ref('int_users_resolved_by_email') }} as users
    on ranked.user_email = users.user_email
where ranked.copy_rank = 1
