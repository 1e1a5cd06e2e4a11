{#- The rows of `sessions` (a CTE with org_id, session_id, cwd), each with the directory's path mapping whose
    prefix is the longest one containing its cwd (mapped_project_id, mapped_repository; null without one) and
    mapping_rank: keep mapping_rank = 1. -#}
{% macro sessions_mapped_to_projects(sessions) -%}
    select
        {{ sessions }}.*,
        mappings.project_id as mapped_project_id,
        mappings.repository as mapped_repository,
        row_number() over (
            partition by {{ sessions }}.org_id, {{ sessions }}.session_id order by length(mappings.path_prefix) desc
        ) as mapping_rank

    from {{ sessions }}
    left join {{ ref('stg_directory__path_mappings') }} as mappings
        on (mappings.org_id is null or mappings.org_id = {{ sessions }}.org_id)
        and ({{ sessions }}.cwd = mappings.path_prefix or {{ sessions }}.cwd like mappings.path_prefix || '/%')
{%- endmacro %}
