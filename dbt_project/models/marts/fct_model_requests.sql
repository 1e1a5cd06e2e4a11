/* grain: one row per model request event (org_id, event_id). */
select
    {{ surrogate_key(['org_id', 'event_id']) }} as model_request_key,
    {{ surrogate_key(['org_id', 'session_id']) }} as session_key,
    *

from {{ ref('int_model_requests_priced') }}
