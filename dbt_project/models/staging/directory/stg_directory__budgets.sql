/* grain: one row per (org_id, budget_scope, scope_id, period) of the directory's budgets.csv, typed. The loader
   has checked every value and filled warn_at's default (0.8). */
with source as (

    select * from {{ source('directory', 'directory_budgets') }}

),

renamed as (

    select
        {{ surrogate_key(['org_id', 'scope', 'scope_id', 'period']) }} as budget_key,
        org_id,
        scope as budget_scope,
        scope_id,
        period,
        {{ money('amount_usd') }} as amount_usd,
        cast(warn_at as decimal(18, 6)) as warn_at

    from source

)

select * from renamed
