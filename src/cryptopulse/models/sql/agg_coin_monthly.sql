/*
grain = "one row per coin per calendar month (UTC)"
materialized = "incremental"
partition = "month"
partition_unit = "month"
unique_key = ["coin_id", "month"]
not_null = ["coin_id", "month", "min_price_usd", "max_price_usd", "hours"]
non_empty = true
relationships = [{ column = "coin_id", to = "dim_coin.coin_id" }]
ranges = [{ column = "min_price_usd", min = 0 }, { column = "hours", min = 1, max = 744 }]
*/
-- The original system's aggregate (min/max of price, market cap, volume), plus the month's first
-- and last price. The runner widens the interval to whole months, so a partial month is recomputed
-- from every hour the warehouse holds for it.
with hourly as (
    select
        coin_id,
        cast(date_trunc('month', ts_hour) as date) as month,
        ts_hour,
        price_usd,
        market_cap_usd,
        volume_usd,
        -- the explicit frame changes nothing here and is required by Redshift for first_value with an order
        first_value(price_usd) over (
            partition by coin_id, cast(date_trunc('month', ts_hour) as date) order by ts_hour
            rows between unbounded preceding and unbounded following
        ) as first_price_usd,
        first_value(price_usd) over (
            partition by coin_id, cast(date_trunc('month', ts_hour) as date) order by ts_hour desc
            rows between unbounded preceding and unbounded following
        ) as last_price_usd
    from fct_coin_hourly
    where ts_hour >= cast(:interval_start as timestamp)
      and ts_hour < cast(:interval_end as timestamp)
)

select
    -- keys
    coin_id,
    month,
    -- the original aggregate
    min(price_usd) as min_price_usd,
    max(price_usd) as max_price_usd,
    min(market_cap_usd) as min_market_cap_usd,
    max(market_cap_usd) as max_market_cap_usd,
    min(volume_usd) as min_volume_usd,
    max(volume_usd) as max_volume_usd,
    -- additions
    min(first_price_usd) as first_price_usd,
    min(last_price_usd) as last_price_usd,
    count(*) as hours,
    min(ts_hour) as first_hour,
    max(ts_hour) as last_hour
from hourly
group by coin_id, month
