with source as (

    select * from {{ source('ingestion', 'quarantined_lines') }}

)

select
    source,
    batch,
    source_file,
    line_number,
    reason,
    line as rejected_line

from source
