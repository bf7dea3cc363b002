/*
grain = "one row per coin per UTC hour (the last CoinGecko point of the hour)"
materialized = "incremental"
partition = "date"
publish_partitioned = true
unique_key = ["coin_id", "time_key"]
# market_cap_usd may be NULL: imported OHLCV files carry no market cap
not_null = ["coin_id", "time_key", "ts_hour", "price_usd", "volume_usd"]
non_empty = true
relationships = [{ column = "coin_id", to = "dim_coin.coin_id" }, { column = "time_key", to = "dim_time.time_key" }]
ranges = [{ column = "price_usd", min = 0 }, { column = "market_cap_usd", min = 0 }, { column = "volume_usd", min = 0 }]
freshness = { column = "ts_hour" }
*/
-- Staging already floored timestamps to the hour and kept the last point, so this is a typed
-- pass-through joined to the calendar; the gates catch anything that got into staging another way.
select
    -- keys
    s.coin_id,
    t.time_key,
    s.ts_hour,
    -- measures
    s.price_usd,
    s.market_cap_usd,
    s.volume_usd,
    -- lineage
    s.ts_ms as source_ts_ms,
    s.source,
    -- partition
    s.date
from stg_coin_hourly as s
left join dim_time as t on t.ts_hour = s.ts_hour
where s.ts_hour >= cast(:interval_start as timestamp)
  and s.ts_hour < cast(:interval_end as timestamp)
