/* grain: one row per (org_id, session_id) of the other agents' local logs (Codex CLI, Gemini CLI, Copilot CLI).
   A session's bounds span every file that speaks of it and its requests; its cwd, git branch and repository
   are the earliest ones a file names. Project and repository as for Claude Code: the longest matching path
   mapping, else the git remote's owner/name (repository) and the cwd's last component, or without a cwd the
   repository's name (project). */
with staged as (

    {{ agent_log_union('sessions') }}

),

-- A request whose file has no session record still belongs to a session: its bounds come from its requests.
request_bounds as (

    select source, user_email, session_id, min(event_at_utc) as first_at_utc, max(event_at_utc) as last_at_utc
    from ({{ agent_log_union('requests') }}) as requests
    group by source, user_email, session_id

),

spans as (

    select source, user_email, session_id, first_at_utc, last_at_utc, cwd, git_branch, repository
    from staged
    union all
    select
        source, user_email, session_id, first_at_utc, last_at_utc,
        cast(null as {{ dbt.type_string() }}) as cwd,
        cast(null as {{ dbt.type_string() }}) as git_branch,
        cast(null as {{ dbt.type_string() }}) as repository
    from request_bounds

),

sessions as (

    select
        users.org_id,
        spans.session_id,
        min(spans.source) as source,
        min(users.user_id) as user_id,
        min(spans.first_at_utc) as first_event_at_utc,
        max(spans.last_at_utc) as last_event_at_utc,
        min_by(spans.cwd, case when spans.cwd is not null then spans.first_at_utc end) as cwd,
        min_by(spans.repository, case when spans.repository is not null then spans.first_at_utc end)
            as remote_repository

    from spans
    inner join {{ ref('int_users_resolved_by_email') }} as users
        on spans.user_email = users.user_email
    where {{ only_affected_sessions('spans.session_id') }}
    group by users.org_id, spans.session_id

),

mapped as (

    {{ sessions_mapped_to_projects('sessions') }}

)

select
    source,
    org_id,
    session_id,
    user_id,
    case source
        {%- for source_name, agent in agent_log_sources().items() %}
        when '{{ source_name }}' then '{{ agent }}'
        {%- endfor %}
    end as agent,
    -- Without a cwd (Copilot's telemetry may name only the repository), the repository's name.
    {{ mapped_project_and_repository(remote_repository='remote_repository') }},
    {{ session_without_lifecycle_events() }}

from mapped
where mapping_rank = 1
