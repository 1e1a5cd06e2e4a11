{#- The marts' contracts name DuckDB's types (what analysts see in the warehouse). On Spark, dbt's contract check
    casts null to each YAML type: two of them are named differently there. `varchar` is `string` (Spark refuses a
    varchar without a length), and DuckDB's 128-bit `hugeint` (its sum of bigints) is `bigint` (Spark's sum of
    bigints). Overrides dbt's macro on Spark only (dispatch search order in dbt_project.yml). -#}
{% macro spark__get_empty_schema_sql(columns) -%}
    {%- set spark_types = {'varchar': 'string', 'hugeint': 'bigint'} -%}
    {%- set translated = {} -%}
    {%- for name, column in columns.items() -%}
        {%- set copied = dict(column) -%}
        {%- if column.get('data_type') -%}
            {%- do copied.update({'data_type': spark_types.get(column['data_type'] | lower, column['data_type'])}) -%}
        {%- endif -%}
        {%- do translated.update({name: copied}) -%}
    {%- endfor -%}
    {{ return(dbt.default__get_empty_schema_sql(translated)) }}
{%- endmacro %}
