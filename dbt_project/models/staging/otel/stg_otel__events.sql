with source as (

    select * from {{ source('otel', 'otel_events') }}

)

select
    source_file,
    line_number,
    record_index,
    event_name,
    cast(event_at_utc as {{ dbt.type_timestamp() }}) as event_at_utc,
    session_id,
    lower(user_email) as user_email,
    organization_id as anthropic_organization_id,
    request_id,
    model,
    input_tokens,
    output_tokens,
    cache_read_tokens as cache_read_input_tokens,
    cache_creation_tokens as cache_creation_input_tokens,
    cost_usd as reported_cost_usd,
    duration_ms,
    collection

from source
