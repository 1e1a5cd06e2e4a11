with source as (

    select * from {{ source('claude_code', 'claude_code_requests') }}

)

select
    lower(collection) as user_email,
    source_file,
    line_number,
    session_id,
    cast(event_at_utc as {{ dbt.type_timestamp() }}) as event_at_utc,
    is_sidechain,
    agent_id,
    message_id,
    request_id,
    model,
    input_tokens,
    output_tokens,
    cache_creation_input_tokens,
    cache_read_input_tokens,
    cache_creation_5m_input_tokens,
    cache_creation_1h_input_tokens,
    is_api_error,
    client_version

from source
