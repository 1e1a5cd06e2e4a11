/* grain: one row per (org_id, session_id) seen in OTel records; duration = last - first record. */
select
    'otel' as source,
    users.org_id,
    events.session_id,
    min(users.user_id) as user_id,
    'claude-code' as agent,
    cast(null as {{ dbt.type_string() }}) as project_id,
    cast(null as {{ dbt.type_string() }}) as repository,
    false as has_start_event,
    false as has_end_event,
    cast(null as {{ dbt.type_timestamp() }}) as started_at_utc,
    cast(null as {{ dbt.type_timestamp() }}) as ended_at_utc,
    min(events.event_at_utc) as first_event_at_utc,
    max(events.event_at_utc) as last_event_at_utc,
    'unknown' as status

from {{ ref('stg_otel__events') }} as events
inner join {{ ref('int_users_resolved_by_email') }} as users
    on events.user_email = users.user_email
where events.session_id is not null and {{ only_affected_sessions('events.session_id') }}
group by users.org_id, events.session_id
