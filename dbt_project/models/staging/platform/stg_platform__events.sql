with source as (

    select * from {{ source('platform', 'platform_events') }}

),

renamed as (

    select
        event_id,
        event_type,
        org_id,
        session_id,
        cast(event_at_utc as {{ dbt.type_timestamp() }}) as event_at_utc,
        user_id,
        agent,
        project_id,
        repository,
        request_id,
        model,
        input_tokens,
        output_tokens,
        cache_creation_input_tokens,
        cache_read_input_tokens,
        cache_creation_5m_input_tokens,
        cache_creation_1h_input_tokens,
        status as end_status,
        schema_version,
        delivery_date,
        source_file,
        line_number

    from source

)

select * from renamed
