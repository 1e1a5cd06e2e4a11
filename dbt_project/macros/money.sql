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
