{#- The lake's datasets as the `raw` tables the dbt sources read. On DuckDB the loaders create `raw` views (see
    orchestration/ingest/lake.py), so this is a no-op. On Spark, every dataset is (re)registered as an external
    Parquet table over its lake folder, partitions included (without `msck repair` a partitioned table reads as
    empty): the var `spark_lake` ({name: {columns, partitioned_by, location}}, written by
    orchestration/engines/spark.py from the lake's own schema) names them. Dropping an external table leaves its
    files. Run as on-run-start, so every Spark build sees the partitions the loaders have just written. -#}
{% macro register_lake() -%}
    {{ return(adapter.dispatch('register_lake', 'session_analytics')()) }}
{%- endmacro %}
{% macro default__register_lake() -%}
{%- endmacro %}
{% macro spark__register_lake() -%}
    {%- set tables = var('spark_lake', none) -%}
    {%- if execute and tables is not none -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for name, table in tables.items() -%}
            {%- do run_query('drop table if exists raw.' ~ name) -%}
            {%- set partitioned_by = table['partitioned_by'] -%}
            {%- do run_query(
                'create table raw.' ~ name ~ ' (' ~ table['columns'] ~ ') using parquet'
                ~ (' partitioned by (' ~ partitioned_by | join(', ') ~ ')' if partitioned_by else '')
                ~ " location '" ~ table['location'] | replace("\\", "\\\\") | replace("'", "\\'") ~ "'"
            ) -%}
            {%- if partitioned_by -%}
                {%- do run_query('msck repair table raw.' ~ name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do log('registered ' ~ tables | length ~ ' lake datasets as raw tables', info=true) -%}
    {%- endif -%}
{%- endmacro %}
