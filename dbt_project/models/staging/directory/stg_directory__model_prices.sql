/* grain: one row per (org_id, model_id, valid_from) of the org's own prices (directory model_prices.csv),
   typed. A missing cache rate is the input rate (as genai-prices prices a token type it has no price for);
   a missing long-context rate of a token type is its normal rate. */
with source as (

    select * from {{ source('directory', 'directory_model_prices') }}

),

typed as (

    select
        org_id,
        model_id,
        cast(valid_from as date) as valid_from,
        cast(valid_to as date) as valid_to,
        {%- for column in ['input', 'output', 'cache_write_5m', 'cache_write_1h', 'cache_read',
                           'long_context_input', 'long_context_output', 'long_context_cache_write_5m',
                           'long_context_cache_write_1h', 'long_context_cache_read'] %}
        cast({{ column }}_usd_per_mtok as decimal(18, 6)) as {{ column }}_usd_per_mtok,
        {%- endfor %}
        cast(long_context_threshold_tokens as bigint) as long_context_threshold_tokens

    from source

),

renamed as (

    select
        org_id,
        model_id,
        valid_from,
        valid_to,
        input_usd_per_mtok,
        output_usd_per_mtok,
        coalesce(cache_write_5m_usd_per_mtok, input_usd_per_mtok) as cache_write_5m_usd_per_mtok,
        coalesce(cache_write_1h_usd_per_mtok, input_usd_per_mtok) as cache_write_1h_usd_per_mtok,
        coalesce(cache_read_usd_per_mtok, input_usd_per_mtok) as cache_read_usd_per_mtok,
        long_context_threshold_tokens,
        long_context_input_usd_per_mtok,
        long_context_output_usd_per_mtok,
        coalesce(long_context_cache_write_5m_usd_per_mtok, cache_write_5m_usd_per_mtok, input_usd_per_mtok)
            as long_context_cache_write_5m_usd_per_mtok,
        coalesce(long_context_cache_write_1h_usd_per_mtok, cache_write_1h_usd_per_mtok, input_usd_per_mtok)
            as long_context_cache_write_1h_usd_per_mtok,
        coalesce(long_context_cache_read_usd_per_mtok, cache_read_usd_per_mtok, input_usd_per_mtok)
            as long_context_cache_read_usd_per_mtok

    from typed

)

select * from renamed
