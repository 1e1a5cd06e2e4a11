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
-- The events, read where they are used rather than as a CTE: DuckDB materialises a CTE read several times,
-- here every event with all its columns (at 10M requests: 3 GB in memory and 4.3 GB spilled to disk).
{% set events %}
    (
        select {{ kept_columns | join(', ') }}, delivery_date, source_file, line_number
        from {{ ref('stg_platform__events') }}
        where event_type in ('session_started', 'model_request', 'session_ended')
            and {{ only_affected_sessions('session_id') }}
    )
{% endset %}
{% set key_hash = fast_hash(['events.org_id', 'events.event_id']) %}
-- Few events arrive twice. Ranking only their copies instead of sorting every event by its key was the
-- largest single cost of a full build. The copies are found by a 64-bit hash of the key: grouping integers
-- instead of the key strings takes a fraction of the memory. A collision only makes a unique event a
-- candidate, and candidates are ranked by their real key, so the result is exact.
with redelivered as (

    select {{ key_hash }} as key_hash
    from {{ events }} as events
    group by {{ key_hash }}
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

        from {{ events }} as events
        where {{ key_hash }} in (select key_hash from redelivered)
    ) as ranked
    where copy_number = 1

)

select {% for column in kept_columns %}events.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
from {{ events }} as events
where {{ key_hash }} not in (select key_hash from redelivered)

union all

select {{ kept_columns | join(', ') }}
from first_copies
