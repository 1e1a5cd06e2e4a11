{{ config(
    materialized='incremental',
    incremental_strategy=window_incremental_strategy(),
    partition_by=window_partition_by('request_date'),
    unique_key='model_request_key',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_rows('int_sessions_affected', ['session_id'], 'request_date') }}"
) }}
-- Incremental: a nightly build replaces the rows of the affected sessions (int_sessions_affected).
-- depends_on: {{ ref('int_sessions_affected') }}, {{ ref('int_days_affected') }}
/* grain: one row per model request (source, org_id, request_key), deduplicated within and across sources. */
{% call rows_of_rebuilt_partitions('int_sessions_affected', ['session_id'], 'request_date') %}
select
    {{ surrogate_key(['source', 'org_id', 'request_key']) }} as model_request_key,
    *  -- session_key first: the session's key, from int_sessions_assembled

from {{ ref('int_model_requests_priced') }}
{% endcall %}
