with source as (

    select * from {{ source('directory', 'directory_users') }}

),

renamed as (

    select
        user_id,
        org_id,
        email,
        name as user_name,
        team,
        manager_id,
        role

    from source

)

select * from renamed
