with source as (

    select * from {{ source('ingestion', 'load_file_summary') }}

)

select
    source,
    batch,
    source_file,
    lines_read,
    blank_lines,
    loaded_lines,
    quarantined_lines,
    ignored_event_lines

from source
