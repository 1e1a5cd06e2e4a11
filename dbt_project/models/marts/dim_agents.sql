/* grain: one row per agent seen in any session start. */
select
    agent,
    count(*) as sessions,
    min(session_date) as first_session_date,
    max(session_date) as last_session_date

from {{ ref('fct_sessions') }}
where agent is not null
group by agent
