/* grain: one row per model request of the other agents' local logs (source, request_key), deduplicated across
   every file and user: copies of one request (a session file rewritten as it grows, an archived copy beside the
   active one, a replayed history) share their request_key; the first copy in file order is kept. */
with requests as (

    {{ agent_log_union('requests') }}

),

keyed as (

    select *, source || ':' || request_key as source_request_key
    from requests

),

in_scope as (

    -- Every copy of each request an affected session has a copy of, so the copy kept is the one a full build keeps.
    select * from keyed
    where source_request_key in (select source_request_key from keyed where {{ only_affected_sessions('session_id') }})

),

ranked as (

    select
        *,
        row_number() over (partition by source_request_key order by source_file, line_number) as copy_rank

    from in_scope

)

select
    ranked.source,
    users.org_id,
    ranked.request_key,
    cast(null as {{ dbt.type_string() }}) as event_id,
    cast(null as {{ dbt.type_string() }}) as request_id,
    ranked.session_id,
    ranked.event_at_utc,
    coalesce(ranked.model, 'unknown') as model,
    ranked.input_tokens,
    ranked.output_tokens,
    ranked.cache_creation_input_tokens,
    ranked.cache_read_input_tokens,
    cast(null as {{ dbt.type_bigint() }}) as cache_creation_5m_input_tokens,
    cast(null as {{ dbt.type_bigint() }}) as cache_creation_1h_input_tokens,
    cast(null as double) as reported_cost_usd

from ranked
inner join {{ ref('int_users_resolved_by_email') }} as users
    on ranked.user_email = users.user_email
where ranked.copy_rank = 1
