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

{#- The one definition of a model family: from the model id, so unpriced models get a family too. -#}
{% macro model_family(model_id) -%}
    case
        when lower({{ model_id }}) like '%opus%' then 'opus'
        when lower({{ model_id }}) like '%sonnet%' then 'sonnet'
        when lower({{ model_id }}) like '%haiku%' then 'haiku'
        else 'other'
    end
{%- endmacro %}

{#- Money is exact: USD as decimal(38, 12), so sums over millions of requests never drift, and a figure
    rounded to 6 decimals is the same in every mart, report and API answer. Rates are decimal(18, 6) per
    million tokens; multiplying by 0.000001 (rather than dividing, which turns decimals into doubles on
    DuckDB) keeps the arithmetic exact on DuckDB and Spark alike. -#}
{% macro money(expression) -%}
    cast({{ expression }} as decimal(38, 12))
{%- endmacro %}

{% macro per_million_tokens(expression) -%}
    {{ money('(' ~ expression ~ ') * 0.000001') }}
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
