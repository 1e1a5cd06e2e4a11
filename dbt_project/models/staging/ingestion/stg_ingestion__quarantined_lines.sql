with source as (

    select * from {{ source('ingestion', 'quarantined_lines') }}

)

select
    source,
    delivery_date,
    source_file,
    line_number,
    reason,
    line as rejected_line

from source
