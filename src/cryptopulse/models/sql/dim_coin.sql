/*
grain = "one row per CoinGecko coin id (ids are unique; symbols are not)"
materialized = "table"
unique_key = ["coin_id"]
not_null = ["coin_id", "symbol", "is_tracked"]
non_empty = true
*/
with aliases as (
    select
        coin_id,
        string_agg(alias, ' ' order by alias) as aliases
    from dim_coin_alias
    group by coin_id
)

select
    -- keys
    c.coin_id,
    -- attributes
    c.symbol,
    c.name,
    c.market_cap_rank,
    c.is_tracked,
    a.aliases,
    c.source
from stg_coins as c
left join aliases as a on a.coin_id = c.coin_id
