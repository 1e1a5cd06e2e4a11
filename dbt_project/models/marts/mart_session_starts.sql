/* grain: one row per session (org_id, session_id).
   When sessions start (local weekday and hour in the org's time zone) and how long they last, with the same
   filter columns as mart_daily_activity (activity_date = session_date), for the session-pattern figures:
   sessions by weekday x hour and the session-duration distribution. */
with sessions as (

    select * from {{ ref('fct_sessions') }}

),

orgs as (

    select org_id, time_zone from {{ ref('dim_orgs') }}

)

select
    sessions.session_key,
    sessions.org_id,
    sessions.session_id,
    sessions.session_date as activity_date,
    sessions.user_id,
    sessions.agent,
    sessions.project_id,
    sessions.repository,
    {{ utc_to_local('sessions.started_at_utc', "coalesce(orgs.time_zone, 'UTC')") }} as started_at_local,
    {{ date_part_isodow('sessions.session_date') }} as start_isodow,
    cast(extract(hour from {{ utc_to_local('sessions.started_at_utc', "coalesce(orgs.time_zone, 'UTC')") }}) as integer)
        as start_hour,
    sessions.duration_seconds

from sessions
left join orgs on sessions.org_id = orgs.org_id
