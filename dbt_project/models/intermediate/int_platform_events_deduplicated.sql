/* grain: one row per (org_id, event_id) of the event types sessions and requests are built from. Delivery is
   at least once: keep the first copy delivered. Other event types (heartbeats, tool calls: nearly half the
   lines) are loaded and counted, but nothing downstream reads them: deduplicating them only cost time. */
with events as (

    select * from {{ ref('stg_platform__events') }}
    where event_type in ('session_started', 'model_request', 'session_ended')
        and {{ only_affected_sessions('session_id') }}

),

-- Few events arrive twice. Ranking only their copies (a hash aggregate finds them) instead of sorting every
-- event by its key was the largest single cost of a full build.
redelivered as (

    select org_id, event_id
    from events
    group by org_id, event_id
    having count(*) > 1

),

first_copies as (

    select *
    from (
        select
            events.*,
            row_number() over (
                partition by events.org_id, events.event_id
                order by events.delivery_date, events.source_file, events.line_number
            ) as copy_number

        from events
        inner join redelivered
            on redelivered.org_id = events.org_id and redelivered.event_id = events.event_id
    ) as ranked
    where copy_number = 1

)

select events.*, 1 as copy_number
from events
left join redelivered
    on redelivered.org_id = events.org_id and redelivered.event_id = events.event_id
where redelivered.event_id is null

union all

select * from first_copies
