with source as (

    select * from {{ source('directory', 'directory_projects') }}

),

renamed as (

    select
        org_id,
        project_id,
        name as project_name,
        kind as project_kind

    from source

)

select * from renamed
