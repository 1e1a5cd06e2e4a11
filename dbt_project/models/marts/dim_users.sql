/* grain: one row per (org_id, user_id): directory users and users seen only in events. */
with directory as (

    select * from {{ ref('stg_directory__users') }}

),

seen as (

    select org_id, user_id, count(*) as sessions
    from {{ ref('fct_sessions') }}
    where user_id is not null
    group by org_id, user_id

),

seen_org as (

    -- A directory row without org_id belongs to the org its sessions were in.
    select user_id, org_id
    from (
        select user_id, org_id, row_number() over (partition by user_id order by sessions desc, org_id) as rank_in_user
        from seen
    ) as ranked
    where rank_in_user = 1

),

directory_users as (

    select directory.*, coalesce(directory.org_id, seen_org.org_id) as resolved_org_id
    from directory
    left join seen_org on directory.user_id = seen_org.user_id

),

unknown_users as (

    select seen.org_id, seen.user_id
    from seen
    left join directory_users
        on seen.user_id = directory_users.user_id and seen.org_id = directory_users.resolved_org_id
    where directory_users.user_id is null

)

select
    {{ surrogate_key(['resolved_org_id', 'user_id']) }} as user_key,
    resolved_org_id as org_id,
    user_id,
    email,
    user_name,
    team,
    manager_id,
    role,
    email_reports,
    true as in_directory
from directory_users

union all

select
    {{ surrogate_key(['org_id', 'user_id']) }} as user_key,
    org_id,
    user_id,
    cast(null as {{ dbt.type_string() }}) as email,
    cast(null as {{ dbt.type_string() }}) as user_name,
    cast(null as {{ dbt.type_string() }}) as team,
    cast(null as {{ dbt.type_string() }}) as manager_id,
    cast(null as {{ dbt.type_string() }}) as role,
    cast(null as {{ dbt.type_boolean() }}) as email_reports,
    false as in_directory
from unknown_users
