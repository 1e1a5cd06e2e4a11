/* grain: one row per (org_id, session_id) of Claude Code transcripts; subagent files share their parent's
   sessionId. Duration = last - first timestamp of the session's lines. Project and repository come from the
   working directory: the longest matching prefix in claude_code_projects.csv, else its last path component. */
with spans as (

    select * from {{ ref('stg_claude_code__session_spans') }}
    where {{ only_affected_sessions('session_id') }}

),

sessions as (

    select
        users.org_id,
        spans.session_id,
        min(users.user_id) as user_id,
        min(spans.first_at_utc) as first_event_at_utc,
        max(spans.last_at_utc) as last_event_at_utc,
        min_by(spans.cwd, spans.first_at_utc) as cwd

    from spans
    inner join {{ ref('int_users_resolved_by_email') }} as users
        on spans.user_email = users.user_email
    group by users.org_id, spans.session_id

),

mapped as (

    {{ sessions_mapped_to_projects('sessions') }}

)

select
    'claude_code' as source,
    org_id,
    session_id,
    user_id,
    'claude-code' as agent,
    {{ mapped_project_and_repository() }},
    {{ session_without_lifecycle_events() }}

from mapped
where mapping_rank = 1
