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
        role,
        -- users.csv's optional column; the loader stores 'true' or 'false', and no value means yes.
        coalesce(email_reports, 'true') = 'true' as email_reports

    from source

)

select * from renamed
