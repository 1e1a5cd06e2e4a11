/* grain: one row per (org_id, project_id): directory projects and projects seen only in events. */
with directory as (

    select * from {{ ref('stg_directory__projects') }}

),

seen as (

    select org_id, project_id, count(distinct repository) as repositories
    from {{ ref('fct_sessions') }}
    where project_id is not null
    group by org_id, project_id

)

select
    {{ surrogate_key(['coalesce(directory.org_id, seen.org_id)', 'coalesce(directory.project_id, seen.project_id)']) }}
        as project_key,
    coalesce(directory.org_id, seen.org_id) as org_id,
    coalesce(directory.project_id, seen.project_id) as project_id,
    directory.project_name,
    directory.project_kind,
    coalesce(seen.repositories, 0) as repositories_seen,
    directory.project_id is not null as in_directory

from directory
full outer join seen
    on directory.org_id = seen.org_id and directory.project_id = seen.project_id
