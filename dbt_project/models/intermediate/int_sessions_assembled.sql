/* grain: one row per (org_id, session_id), from the session's deduplicated events whatever their order. */
with events as (

    select * from {{ ref('int_platform_events_deduplicated') }}
    where event_type in ('session_started', 'model_request', 'session_ended')

),

orgs as (

    select * from {{ ref('stg_directory__orgs') }}

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
        max(event_at_utc) as last_event_at_utc,
        sum(case when event_type = 'model_request' then 1 else 0 end) as model_request_events

    from events
    group by org_id, session_id

),

assembled as (

    select
        bounds.org_id,
        bounds.session_id,
        starts.user_id,
        starts.agent,
        starts.project_id,
        starts.repository,
        starts.event_id is not null as has_start_event,
        ends.event_id is not null as has_end_event,
        coalesce(starts.event_at_utc, bounds.first_event_at_utc) as started_at_utc,
        ends.event_at_utc as ended_at_utc,
        bounds.first_event_at_utc,
        bounds.last_event_at_utc,
        coalesce(ends.end_status, 'open') as status,
        -- Duration = end - start; without an end event, last event - first event.
        case
            when ends.event_id is not null
                then {{ seconds_between('coalesce(starts.event_at_utc, bounds.first_event_at_utc)', 'ends.event_at_utc') }}
            else {{ seconds_between('bounds.first_event_at_utc', 'bounds.last_event_at_utc') }}
        end as duration_seconds,
        coalesce(orgs.time_zone, 'UTC') as time_zone

    from bounds
    left join starts
        on starts.org_id = bounds.org_id and starts.session_id = bounds.session_id and starts.start_rank = 1
    left join ends
        on ends.org_id = bounds.org_id and ends.session_id = bounds.session_id and ends.end_rank = 1
    left join orgs
        on orgs.org_id = bounds.org_id

)

select
    *,
    -- The session's date: local date (org time zone) of its start, or of its earliest event without one.
    cast({{ utc_to_local('started_at_utc', 'time_zone') }} as date) as session_date

from assembled
