with source as (

    select * from {{ source('directory', 'directory_path_mappings') }}

)

select
    -- A prefix matches the folder itself and everything below it; a trailing slash is not significant.
    {{ trailing_slashes_trimmed('path_prefix') }} as path_prefix,
    org_id,
    project_id,
    repository

from source
