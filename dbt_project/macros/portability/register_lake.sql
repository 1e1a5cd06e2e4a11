{#- The lake's datasets as the `raw` tables the dbt sources read. On DuckDB the loaders create `raw` views (see
    orchestration/ingest/lake.py), so this is a no-op. On Spark, every dataset is an external Parquet table over
    its lake folder, partitions included (without `msck repair` a partitioned table reads as empty): the var
    `spark_lake` ({name: {columns, partitioned_by, location}}, written by orchestration/engines/spark.py from the
    lake's own schema) names them. A table whose definition changed is created again (dropping an external table
    leaves its files); the others get their partitions synced. Run as on-run-start, so every Spark build sees the
    partitions the loaders have just written. -#}
{% macro register_lake() -%}
    {{ return(adapter.dispatch('register_lake', 'session_analytics')()) }}
{%- endmacro %}
{% macro default__register_lake() -%}
{%- endmacro %}
{% macro spark__register_lake() -%}
    {%- set tables = var('spark_lake', none) -%}
    {%- if execute and tables is not none -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- set existing = run_query('show tables in raw').columns['tableName'].values() | list -%}
        {%- for name, table in tables.items() -%}
            {%- set partitioned_by = table['partitioned_by'] -%}
            {#- The table's definition, kept as a table property: an unchanged table only gets its partitions
                synced (recreating every table cost a Spark build about 15 s). -#}
            {%- set definition = spark_sql_string(
                table['columns'] ~ ' | ' ~ partitioned_by | join(', ') ~ ' | ' ~ table['location']
            ) -%}
            {%- set registered = none -%}
            {%- if name in existing -%}
                {%- set shown = run_query("show tblproperties raw." ~ name ~ " ('session_analytics.lake')") -%}
                {%- set registered = spark_sql_string(shown.rows[0][1]) if shown.rows | length > 0 else none -%}
            {%- endif -%}
            {%- if registered == definition -%}
                {%- if partitioned_by -%}
                    {%- do run_query('msck repair table raw.' ~ name ~ ' sync partitions') -%}
                {%- endif -%}
            {%- else -%}
                {%- do run_query('drop table if exists raw.' ~ name) -%}
                {%- do run_query(
                    'create table raw.' ~ name ~ ' (' ~ table['columns'] ~ ') using parquet'
                    ~ (' partitioned by (' ~ partitioned_by | join(', ') ~ ')' if partitioned_by else '')
                    ~ ' location ' ~ spark_sql_string(table['location'])
                    ~ " tblproperties ('session_analytics.lake' = " ~ definition ~ ')'
                ) -%}
                {%- if partitioned_by -%}
                    {%- do run_query('msck repair table raw.' ~ name) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do log('registered ' ~ tables | length ~ ' lake datasets as raw tables', info=true) -%}
    {%- endif -%}
{%- endmacro %}

{#- A Spark SQL string literal. -#}
{% macro spark_sql_string(text) -%}
    {{ return("'" ~ text | replace("\\", "\\\\") | replace("'", "\\'") ~ "'") }}
{%- endmacro %}
