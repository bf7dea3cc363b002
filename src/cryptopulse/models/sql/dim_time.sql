/*
grain = "one row per UTC hour of the interval"
materialized = "incremental"
partition = "date"
unique_key = ["time_key"]
not_null = ["time_key", "ts_hour", "date"]
non_empty = true
*/
-- A generated calendar, so facts never join to a source's duplicated or missing timestamps.
with hours as (
    select ts_hour
    from generate_series(
        cast(:interval_start as timestamp),
        cast(:interval_end as timestamp) - interval 1 hour,
        interval 1 hour
    ) as g(ts_hour)
),

parts as (
    select
        ts_hour,
        cast(extract(year from ts_hour) as integer) as year,
        cast(extract(quarter from ts_hour) as integer) as quarter,
        cast(extract(month from ts_hour) as integer) as month,
        cast(extract(day from ts_hour) as integer) as day,
        cast(extract(hour from ts_hour) as integer) as hour,
        cast(extract(isodow from ts_hour) as integer) as iso_day_of_week,
        cast(extract(week from ts_hour) as integer) as iso_week
    from hours
)

select
    -- keys
    year * 1000000 + month * 10000 + day * 100 + hour as time_key,
    ts_hour,
    -- date parts
    year,
    quarter,
    month,
    day,
    hour,
    iso_day_of_week,
    iso_week,
    iso_day_of_week >= 6 as is_weekend,
    cast(date_trunc('month', ts_hour) as date) as month_start,
    -- partition
    cast(ts_hour as date) as date
from parts
