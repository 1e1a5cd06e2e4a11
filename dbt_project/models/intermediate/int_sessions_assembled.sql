/* grain: one row per (org_id, session_id) over every source. A Claude Code session seen both in transcripts
   and in OTel is one session: its bounds span both, its attributes come from the most informative source
   (a source that knows the user, then platform, transcripts, OTel, the other agents' logs). */
{% set sources = [('int_platform_sessions_conformed', 1), ('int_claude_code_sessions_conformed', 2),
                  ('int_otel_sessions_conformed', 3), ('int_agent_logs_sessions_conformed', 4)] %}
with unioned as (

    {% for model, rank in sources %}
    select *, {{ rank }} as source_rank from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

bounds as (

    select
        org_id,
        session_id,
        min(started_at_utc) as start_event_at_utc,
        max(ended_at_utc) as ended_at_utc,
        min(first_event_at_utc) as first_event_at_utc,
        max(last_event_at_utc) as last_event_at_utc,
        max(case when has_start_event then 1 else 0 end) = 1 as has_start_event,
        max(case when has_end_event then 1 else 0 end) = 1 as has_end_event,
        count(distinct source) as sources

    from unioned
    group by org_id, session_id

),

best as (

    select
        *,
        row_number() over (
            partition by org_id, session_id
            order by case when user_id is null then 1 else 0 end, source_rank
        ) as attribute_rank

    from unioned

),

orgs as (

    select * from {{ ref('stg_directory__orgs') }}

),

assembled as (

    select
        bounds.org_id,
        bounds.session_id,
        best.source,
        best.user_id,
        best.agent,
        best.project_id,
        best.repository,
        bounds.has_start_event,
        bounds.has_end_event,
        coalesce(bounds.start_event_at_utc, bounds.first_event_at_utc) as started_at_utc,
        bounds.ended_at_utc,
        bounds.first_event_at_utc,
        bounds.last_event_at_utc,
        best.status,
        -- Duration = end - start; without an end event, last event - first event.
        case
            when bounds.ended_at_utc is not null
                then {{ seconds_between('coalesce(bounds.start_event_at_utc, bounds.first_event_at_utc)', 'bounds.ended_at_utc') }}
            else {{ seconds_between('bounds.first_event_at_utc', 'bounds.last_event_at_utc') }}
        end as duration_seconds,
        coalesce(orgs.time_zone, 'UTC') as time_zone

    from bounds
    inner join best
        on bounds.org_id = best.org_id and bounds.session_id = best.session_id and best.attribute_rank = 1
    left join orgs
        on bounds.org_id = orgs.org_id

)

select
    *,
    -- The session's date: local date (org time zone) of its start, or of its earliest event without one.
    cast({{ utc_to_local('started_at_utc', 'time_zone') }} as date) as session_date,
    -- Hashed once per session here, not once per request in fct_model_requests.
    {{ surrogate_key(['org_id', 'session_id']) }} as session_key

from assembled
