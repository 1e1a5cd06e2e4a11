{#- Dispatched helpers where DuckDB and Spark SQL differ and dbt has no cross-database macro. -#}

{#- A naive UTC timestamp as wall-clock time in an IANA zone (a column or a literal). -#}
{% macro utc_to_local(utc_timestamp, time_zone) -%}
    {{ return(adapter.dispatch('utc_to_local', 'session_analytics')(utc_timestamp, time_zone)) }}
{%- endmacro %}
{% macro default__utc_to_local(utc_timestamp, time_zone) -%}
    timezone({{ time_zone }}, timezone('UTC', {{ utc_timestamp }}))
{%- endmacro %}
{% macro spark__utc_to_local(utc_timestamp, time_zone) -%}
    from_utc_timestamp({{ utc_timestamp }}, {{ time_zone }})
{%- endmacro %}

{#- Exact elapsed seconds (with fractions) between two timestamps; dbt.datediff counts boundaries. -#}
{% macro seconds_between(start_timestamp, end_timestamp) -%}
    {{ return(adapter.dispatch('seconds_between', 'session_analytics')(start_timestamp, end_timestamp)) }}
{%- endmacro %}
{% macro default__seconds_between(start_timestamp, end_timestamp) -%}
    (epoch({{ end_timestamp }}) - epoch({{ start_timestamp }}))
{%- endmacro %}
{% macro spark__seconds_between(start_timestamp, end_timestamp) -%}
    (cast({{ end_timestamp }} as double) - cast({{ start_timestamp }} as double))
{%- endmacro %}

{#- A stable key from several columns, nulls included (dbt_utils' generate_surrogate_key, without packages:
    dbt deps needs the package hub, which these machines cannot reach). -#}
{% macro surrogate_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '_null_')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{#- A 64-bit hash of several columns, to find candidate duplicates cheaply. Not a key (it can collide): use
    it only where a collision costs time, never correctness. -#}
{% macro fast_hash(columns) -%}
    {{ return(adapter.dispatch('fast_hash', 'session_analytics')(columns)) }}
{%- endmacro %}
{% macro default__fast_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}
{% macro spark__fast_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}
