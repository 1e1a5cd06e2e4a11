{#- Nightly incremental builds.

    The loaders record which batches they rewrote (platform delivery dates, Claude Code and OTel collections);
    the refresh passes them as the var `changed_batches` ({"platform": [...], "claude_code": [...],
    "otel": [...]}). int_sessions_affected turns them into the sessions to rebuild; the intermediate models
    then hold only those sessions, the facts replace those sessions' rows, and the daily marts replace the
    (org, day) rows those sessions touch, before and after the change (int_days_affected). Without the var,
    or with --full-refresh, or before the facts exist, every model is built from all data. How the rows are
    replaced differs by engine (DuckDB deletes them, Spark rewrites day partitions): macros/portability/
    rebuild_window.sql. -#}

{% macro mart_relation(name) -%}
    {{ return(adapter.get_relation(database=target.database, schema='analytics', identifier=name)) }}
{%- endmacro %}

{#- True when this build rebuilds only what the changed batches touch. -#}
{% macro incremental_window_active() -%}
    {%- if not execute or flags.FULL_REFRESH or var('changed_batches', none) is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- for name in ['fct_sessions', 'fct_model_requests', 'mart_daily_activity', 'mart_daily_model_costs'] -%}
        {%- if mart_relation(name) is none -%}{{ return(false) }}{%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}

{#- The batches of one source named in `changed_batches`. -#}
{% macro changed_batches_of(source_name) -%}
    {{ return((var('changed_batches', none) or {}).get(source_name, [])) }}
{%- endmacro %}

{#- `column in ('a', 'b')`, or false for an empty list (SQL has no empty IN list). -#}
{% macro in_list(column, values) -%}
    {%- if values | length == 0 -%}
        1 = 0
    {%- else -%}
        {{ column }} in ({% for value in values %}'{{ value | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- Filter of the intermediate models: only the affected sessions in an incremental window. -#}
{% macro only_affected_sessions(session_column) -%}
    {%- set affected = ref('int_sessions_affected') -%}
    {%- if incremental_window_active() -%}
        {{ session_column }} in (select session_id from {{ affected }})
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- Filter of the daily marts: only the (org, day) pairs the affected sessions touch. The subquery renames its
    columns: a caller's unqualified `org_id` would otherwise name the subquery's own column (always true), and the
    window would rebuild every org's rows on an affected day (Spark's kept rows then doubled them). -#}
{% macro only_affected_days(org_column, date_column) -%}
    {%- set affected = ref('int_days_affected') -%}
    {%- if is_incremental() and incremental_window_active() -%}
        exists (
            select 1
            from (select org_id as affected_org_id, activity_date as affected_date from {{ affected }}) as affected_days
            where affected_days.affected_org_id = {{ org_column }} and affected_days.affected_date = {{ date_column }}
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- The key of one API request in Claude Code transcripts, as ccusage counts it. -#}
{% macro claude_code_request_key() -%}
    case
        when message_id is null then source_file || ':' || cast(line_number as {{ dbt.type_string() }})
        else message_id || ':' || coalesce(request_id, '')
    end
{%- endmacro %}
