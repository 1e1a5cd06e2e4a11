/* grain: one row per calendar date, spanning the activity in the warehouse padded to whole ISO weeks. */
{% set bounds_sql %}
    select
        coalesce(min(session_date), current_date) as first_date,
        coalesce(max(session_date), current_date) as last_date
    from {{ ref('fct_sessions') }}
{% endset %}

with spine as (

    {{ dbt.date_spine(
        'day',
        dbt.date_trunc('week', "(select min(first_date) from (" ~ bounds_sql ~ ") b)"),
        dbt.dateadd('day', 7, dbt.date_trunc('week', "(select max(last_date) from (" ~ bounds_sql ~ ") b)"))
    ) }}

)

select
    cast(date_day as date) as date_day,
    cast({{ dbt.date_trunc('week', 'date_day') }} as date) as iso_week_start,
    cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start,
    {{ date_part_isodow('date_day') }} as iso_day_of_week,
    {{ date_part_isodow('date_day') }} >= 6 as is_weekend

from spine
