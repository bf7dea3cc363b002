/*
grain = "one row per tracked coin per UTC day: open/close price, return, posts, authors, sentiment, and z-scores of sentiment and post volume against the coin's own trailing 20 days; flagged posts left out"
materialized = "incremental"
partition = "date"
publish_partitioned = true
unique_key = ["coin_id", "date"]
not_null = ["coin_id", "date", "posts", "flagged_posts", "scored_posts", "unique_authors", "baseline_days"]
non_empty = true
relationships = [{ column = "coin_id", to = "dim_coin.coin_id" }]
ranges = [
    { column = "posts", min = 0 },
    { column = "sentiment_mean", min = -1, max = 1 },
    { column = "share_bullish", min = 0, max = 1 },
    { column = "share_bearish", min = 0, max = 1 },
    { column = "social_dominance", min = 0, max = 1 },
    { column = "baseline_days", min = 0, max = 20 },
]
*/
-- The baseline of a day is the 20 days before it (not the day itself), read from the warehouse, so a
-- day's z-score does not depend on which run built it. A z-score needs at least 10 baseline days with
-- a sentiment (with fewer it is NULL) and a non-zero spread.
with days as (
    select distinct date
    from dim_time
    where date >= cast(:interval_start as date) - interval 21 day
      and date < cast(:interval_end as date)
),

coins as (
    select coin_id
    from dim_coin
    where is_tracked
),

prices as (
    select
        coin_id,
        date,
        price_usd,
        volume_usd,
        row_number() over (partition by coin_id, date order by ts_hour) as from_open,
        row_number() over (partition by coin_id, date order by ts_hour desc) as from_close
    from fct_coin_hourly
    where date >= cast(:interval_start as date) - interval 21 day
      and date < cast(:interval_end as date)
),

daily_prices as (
    select
        coin_id,
        date,
        max(case when from_open = 1 then price_usd end) as open_usd,
        max(case when from_close = 1 then price_usd end) as close_usd,
        max(case when from_close = 1 then volume_usd end) as volume_usd,
        count(*) as price_hours
    from prices
    group by coin_id, date
),

mentions as (
    select *
    from int_coin_mentions
    where date >= cast(:interval_start as date) - interval 21 day
      and date < cast(:interval_end as date)
),

social as (
    select
        coin_id,
        date,
        count(case when not is_flagged then 1 end) as posts,
        count(case when is_flagged then 1 end) as flagged_posts,
        count(case when not is_flagged and compound is not null then 1 end) as scored_posts,
        sum(case when not is_flagged then compound end) as compound_sum,
        count(case when not is_flagged and compound >= 0.05 then 1 end) as bullish_posts,
        count(case when not is_flagged and compound <= -0.05 then 1 end) as bearish_posts
    from mentions
    group by coin_id, date
),

-- distinct authors of unflagged posts, counted apart from `social`: a distinct count among other aggregates
-- makes PostgreSQL sort every mention instead of hashing them
authors as (
    select
        coin_id,
        date,
        count(*) as unique_authors
    from (select distinct coin_id, date, author_id from mentions where not is_flagged and author_id is not null) as d
    group by coin_id, date
),

day_totals as (
    select
        date,
        count(*) as all_coin_posts
    from (select distinct date, source, post_id from mentions where not is_flagged) as d
    group by date
),

grid as (
    select
        c.coin_id,
        d.date,
        p.open_usd,
        p.close_usd,
        p.volume_usd,
        p.price_hours,
        coalesce(s.posts, 0) as posts,
        coalesce(s.flagged_posts, 0) as flagged_posts,
        coalesce(s.scored_posts, 0) as scored_posts,
        coalesce(a.unique_authors, 0) as unique_authors,
        cast(s.posts as double) / t.all_coin_posts as social_dominance,
        cast(s.compound_sum as double) / nullif(s.scored_posts, 0) as sentiment_mean,
        -- the same mean as an exact decimal, for baselines whose sums do not depend on summation order
        cast(cast(s.compound_sum as double) / nullif(s.scored_posts, 0) as decimal(16, 10)) as sentiment_exact,
        cast(s.bullish_posts as double) / nullif(s.scored_posts, 0) as share_bullish,
        cast(s.bearish_posts as double) / nullif(s.scored_posts, 0) as share_bearish,
        lag(p.close_usd) over (partition by c.coin_id order by d.date) as previous_close_usd
    from days as d
    cross join coins as c
    left join daily_prices as p on p.coin_id = c.coin_id and p.date = d.date
    left join social as s on s.coin_id = c.coin_id and s.date = d.date
    left join authors as a on a.coin_id = c.coin_id and a.date = d.date
    left join day_totals as t on t.date = d.date
),

baselines as (
    select
        *,
        count(sentiment_exact) over trailing as baseline_days,
        sum(sentiment_exact) over trailing as sentiment_s1,
        sum(sentiment_exact * sentiment_exact) over trailing as sentiment_s2,
        count(*) over trailing as posts_days,
        sum(posts) over trailing as posts_s1,
        sum(posts * posts) over trailing as posts_s2
    from grid
    window trailing as (partition by coin_id order by date rows between 20 preceding and 1 preceding)
),

-- mean and sample standard deviation from exact sums: sd = sqrt((s2 - s1^2 / n) / (n - 1))
moments as (
    select
        *,
        cast(sentiment_s1 as double) / nullif(baseline_days, 0) as baseline_sentiment,
        sqrt(greatest(
            (cast(sentiment_s2 as double) - cast(sentiment_s1 as double) * cast(sentiment_s1 as double) / nullif(baseline_days, 0))
            / nullif(baseline_days - 1, 0), 0
        )) as baseline_sentiment_sd,
        cast(posts_s1 as double) / nullif(posts_days, 0) as baseline_posts,
        sqrt(greatest(
            (cast(posts_s2 as double) - cast(posts_s1 as double) * cast(posts_s1 as double) / nullif(posts_days, 0))
            / nullif(posts_days - 1, 0), 0
        )) as baseline_posts_sd
    from baselines
)

select
    -- keys
    coin_id,
    -- market
    open_usd,
    close_usd,
    case when close_usd > 0 and previous_close_usd > 0 then ln(close_usd / previous_close_usd) end as return_1d,
    volume_usd,
    price_hours,
    -- social volume
    posts,
    flagged_posts,
    scored_posts,
    unique_authors,
    social_dominance,
    -- sentiment
    sentiment_mean,
    share_bullish,
    share_bearish,
    -- against the coin's own trailing 20 days
    baseline_days,
    baseline_sentiment,
    case when baseline_days >= 10 and baseline_sentiment_sd > 0
        then (sentiment_mean - baseline_sentiment) / baseline_sentiment_sd end as sentiment_z,
    case when baseline_days >= 10 and baseline_posts_sd > 0
        then (posts - baseline_posts) / baseline_posts_sd end as posts_z,
    -- partition
    date
from moments
where date >= cast(:interval_start as date)
  and date < cast(:interval_end as date)
