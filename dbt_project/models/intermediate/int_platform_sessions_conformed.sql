/* grain: one row per (org_id, session_id) of the platform events, whatever their order of arrival. */
with events as (

    select * from {{ ref('int_platform_events_deduplicated') }}
    where event_type in ('session_started', 'model_request', 'session_ended')

),

starts as (

    -- A session should start once; if a client sent two starts, the earliest one defines the session.
    select *, row_number() over (partition by org_id, session_id order by event_at_utc, event_id) as start_rank
    from events
    where event_type = 'session_started'

),

ends as (

    select *, row_number() over (partition by org_id, session_id order by event_at_utc desc, event_id) as end_rank
    from events
    where event_type = 'session_ended'

),

bounds as (

    select
        org_id,
        session_id,
        min(event_at_utc) as first_event_at_utc,
        max(event_at_utc) as last_event_at_utc

    from events
    group by org_id, session_id

)

select
    'platform' as source,
    bounds.org_id,
    bounds.session_id,
    starts.user_id,
    starts.agent,
    starts.project_id,
    starts.repository,
    starts.event_id is not null as has_start_event,
    ends.event_id is not null as has_end_event,
    starts.event_at_utc as started_at_utc,
    ends.event_at_utc as ended_at_utc,
    bounds.first_event_at_utc,
    bounds.last_event_at_utc,
    coalesce(ends.end_status, 'open') as status

from bounds
left join starts
    on bounds.org_id = starts.org_id and bounds.session_id = starts.session_id and starts.start_rank = 1
left join ends
    on bounds.org_id = ends.org_id and bounds.session_id = ends.session_id and ends.end_rank = 1
