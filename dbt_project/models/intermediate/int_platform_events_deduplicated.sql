/* grain: one row per (org_id, event_id) of the event types sessions and requests are built from. Delivery is
   at least once: keep the first copy delivered. Other event types (heartbeats, tool calls: nearly half the
   lines) are loaded and counted, but nothing downstream reads them: deduplicating them only cost time. */
-- The columns sessions and requests are built from. Lineage (delivery_date, source_file, line_number) only
-- picks the first copy: writing it for every event cost a quarter of this model.
{% set kept_columns = [
    'event_id', 'event_type', 'org_id', 'session_id', 'event_at_utc', 'user_id', 'agent', 'project_id',
    'repository', 'request_id', 'model', 'input_tokens', 'output_tokens', 'cache_creation_input_tokens',
    'cache_read_input_tokens', 'cache_creation_5m_input_tokens', 'cache_creation_1h_input_tokens', 'end_status'
] %}
with events as (

    select {{ kept_columns | join(', ') }}, delivery_date, source_file, line_number
    from {{ ref('stg_platform__events') }}
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

select {% for column in kept_columns %}events.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
from events
left join redelivered
    on redelivered.org_id = events.org_id and redelivered.event_id = events.event_id
where redelivered.event_id is null

union all

select {{ kept_columns | join(', ') }}
from first_copies
