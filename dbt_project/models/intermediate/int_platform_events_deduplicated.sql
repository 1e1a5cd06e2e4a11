/* grain: one row per (org_id, event_id). Delivery is at least once: keep the first copy delivered. */
with events as (

    select * from {{ ref('stg_platform__events') }}
    where {{ only_affected_sessions('session_id') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by org_id, event_id
            order by delivery_date, source_file, line_number
        ) as copy_number

    from events

)

select * from ranked
where copy_number = 1
