/* grain: one row per model request (source, org_id, request_key), deduplicated within and across sources. */
select
    {{ surrogate_key(['source', 'org_id', 'request_key']) }} as model_request_key,
    {{ surrogate_key(['org_id', 'session_id']) }} as session_key,
    *

from {{ ref('int_model_requests_priced') }}
