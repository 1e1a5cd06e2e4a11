with source as (

    select * from {{ source('directory', 'directory_orgs') }}

),

renamed as (

    select
        org_id,
        name as org_name,
        timezone as time_zone

    from source

)

select * from renamed
