{#- The rows of `sessions` (a CTE with org_id, session_id, cwd), each with the directory's path mapping whose
    prefix is the longest one containing its cwd (mapped_project_id, mapped_repository; null without one) and
    mapping_rank: keep mapping_rank = 1. -#}
{% macro sessions_mapped_to_projects(sessions) -%}
    select
        {{ sessions }}.*,
        mappings.project_id as mapped_project_id,
        mappings.repository as mapped_repository,
        row_number() over (
            partition by {{ sessions }}.org_id, {{ sessions }}.session_id order by length(mappings.path_prefix) desc
        ) as mapping_rank

    from {{ sessions }}
    left join {{ ref('stg_directory__path_mappings') }} as mappings
        on (mappings.org_id is null or mappings.org_id = {{ sessions }}.org_id)
        and ({{ sessions }}.cwd = mappings.path_prefix or {{ sessions }}.cwd like mappings.path_prefix || '/%')
{%- endmacro %}

{#- A mapped session's project and repository (the columns of sessions_mapped_to_projects): the mapping's, else the
    cwd's last component as the project and as the repository; where the agent names the git remote
    (`remote_repository`, owner/name), it is the repository, and the project when there is no cwd. -#}
{% macro mapped_project_and_repository(remote_repository=none) -%}
    {%- if remote_repository is none -%}
    coalesce(mapped_project_id, {{ last_path_component('cwd') }}) as project_id,
    case when mapped_project_id is not null then mapped_repository else {{ last_path_component('cwd') }} end
        as repository
    {%- else -%}
    coalesce(mapped_project_id, {{ last_path_component('cwd') }}, {{ last_path_component(remote_repository) }})
        as project_id,
    case
        when mapped_project_id is not null then mapped_repository
        else coalesce({{ remote_repository }}, {{ last_path_component('cwd') }})
    end as repository
    {%- endif -%}
{%- endmacro %}

{#- The lifecycle columns of a session assembled from its requests' lines only (transcripts, agent logs): no start
    or end event, so no start or end time and status unknown; its bounds are its first and last lines. -#}
{% macro session_without_lifecycle_events() -%}
    false as has_start_event,
    false as has_end_event,
    cast(null as {{ dbt.type_timestamp() }}) as started_at_utc,
    cast(null as {{ dbt.type_timestamp() }}) as ended_at_utc,
    first_event_at_utc,
    last_event_at_utc,
    'unknown' as status
{%- endmacro %}
