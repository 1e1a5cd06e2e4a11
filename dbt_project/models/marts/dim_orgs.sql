/* grain: one row per org, from the directory and from every org seen in events. */
with directory as (

    select * from {{ ref('stg_directory__orgs') }}

),

seen as (

    select distinct org_id from {{ ref('fct_sessions') }}

)

select
    coalesce(directory.org_id, seen.org_id) as org_id,
    coalesce(directory.org_name, coalesce(directory.org_id, seen.org_id)) as org_name,
    coalesce(directory.time_zone, 'UTC') as time_zone,
    directory.org_id is not null as in_directory

from directory
full outer join seen on directory.org_id = seen.org_id
