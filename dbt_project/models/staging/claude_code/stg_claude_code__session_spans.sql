with source as (

    select * from {{ source('claude_code', 'claude_code_session_spans') }}

)

select
    lower(collection) as user_email,
    source_file,
    session_id,
    cast(first_at_utc as {{ dbt.type_timestamp() }}) as first_at_utc,
    cast(last_at_utc as {{ dbt.type_timestamp() }}) as last_at_utc,
    timestamped_lines,
    cwd,
    git_branch

from source
