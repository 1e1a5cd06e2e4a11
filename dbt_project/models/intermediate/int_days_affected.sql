/* grain: one row per (org_id, activity_date) whose daily mart rows an incremental build replaces: the days
   of the affected sessions and of their requests, both as the facts held them before this build (a late
   start can move a session to another day) and as they are now. Empty on a full build. */
{% set previous_sessions = mart_relation('fct_sessions') %}
{% set previous_requests = mart_relation('fct_model_requests') %}
-- depends_on: {{ ref('int_sessions_assembled') }}, {{ ref('int_model_requests_priced') }},
--             {{ ref('int_sessions_affected') }}
{% if incremental_window_active() %}
select org_id, session_date as activity_date from {{ ref('int_sessions_assembled') }}
union
select org_id, request_date from {{ ref('int_model_requests_priced') }}
union
select org_id, session_date from {{ previous_sessions }}
where session_id in (select session_id from {{ ref('int_sessions_affected') }})
union
select org_id, request_date from {{ previous_requests }}
where session_id in (select session_id from {{ ref('int_sessions_affected') }})
{% else %}
select cast(null as {{ dbt.type_string() }}) as org_id, cast(null as date) as activity_date
where 1 = 0
{% endif %}
