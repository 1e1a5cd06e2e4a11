{{ config(meta={'dagster': {'ref': {'name': 'stg_ingestion__load_file_summary'}}}) }}
-- Every line read is blank, loaded or quarantined.
select *
from {{ ref('stg_ingestion__load_file_summary') }}
where lines_read <> blank_lines + loaded_lines + quarantined_lines
