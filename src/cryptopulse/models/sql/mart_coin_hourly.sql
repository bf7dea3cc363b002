/*
grain = "one row per tracked coin per UTC hour: price, return, volume, posts, authors and sentiment; flagged (bot/spam) posts are left out of every measure but flagged_posts"
materialized = "incremental"
partition = "date"
publish_partitioned = true
unique_key = ["coin_id", "time_key"]
not_null = ["coin_id", "time_key", "ts_hour", "posts", "flagged_posts", "scored_posts", "unique_authors"]
non_empty = true
relationships = [{ column = "coin_id", to = "dim_coin.coin_id" }, { column = "time_key", to = "dim_time.time_key" }]
ranges = [
    { column = "posts", min = 0 },
    { column = "sentiment_mean", min = -1, max = 1 },
    { column = "sentiment_weighted", min = -1, max = 1 },
    { column = "share_bullish", min = 0, max = 1 },
    { column = "share_bearish", min = 0, max = 1 },
    { column = "social_dominance", min = 0, max = 1 },
]
*/
-- Every tracked coin gets every hour of the interval, with or without price and posts, so series
-- have no gaps. Sentiment comes from fct_post_sentiment (after `cryptopulse enrich`); a post not yet
-- scored counts in `posts` but not in the sentiment columns (`scored_posts` says how many did).
with hours as (
    select
        time_key,
        ts_hour,
        date
    from dim_time
    where ts_hour >= cast(:interval_start as timestamp)
      and ts_hour < cast(:interval_end as timestamp)
),

coins as (
    select coin_id
    from dim_coin
    where is_tracked
),

-- one hour before the interval too, for the first hour's return
prices as (
    select
        coin_id,
        ts_hour,
        price_usd,
        market_cap_usd,
        volume_usd
    from fct_coin_hourly
    where ts_hour >= cast(:interval_start as timestamp) - interval 1 hour
      and ts_hour < cast(:interval_end as timestamp)
),

returns as (
    select
        c.coin_id,
        c.ts_hour,
        c.price_usd,
        c.market_cap_usd,
        c.volume_usd,
        case when c.price_usd > 0 and p.price_usd > 0 then ln(c.price_usd / p.price_usd) end as return_1h
    from prices as c
    left join prices as p on p.coin_id = c.coin_id and p.ts_hour = c.ts_hour - interval 1 hour
    where c.ts_hour >= cast(:interval_start as timestamp)
),

mentions as (
    select *
    from int_coin_mentions
    where date >= cast(:interval_start as date)
      and date < cast(:interval_end as date)
),

social as (
    select
        coin_id,
        time_key,
        count(case when not is_flagged then 1 end) as posts,
        count(case when is_flagged then 1 end) as flagged_posts,
        count(case when not is_flagged and compound is not null then 1 end) as scored_posts,
        sum(case when not is_flagged then compound end) as compound_sum,
        sum(case when not is_flagged then weight * compound end) as weighted_sum,
        sum(case when not is_flagged and compound is not null then weight end) as weight_sum,
        count(case when not is_flagged and compound >= 0.05 then 1 end) as bullish_posts,
        count(case when not is_flagged and compound <= -0.05 then 1 end) as bearish_posts
    from mentions
    group by coin_id, time_key
),

-- distinct authors of unflagged posts, counted apart from `social`: a distinct count among other aggregates
-- makes PostgreSQL sort every mention instead of hashing them
authors as (
    select
        coin_id,
        time_key,
        count(*) as unique_authors
    from (select distinct coin_id, time_key, author_id from mentions where not is_flagged and author_id is not null) as d
    group by coin_id, time_key
),

-- distinct unflagged posts naming any tracked coin, per hour: the denominator of social dominance
hour_totals as (
    select
        time_key,
        count(*) as all_coin_posts
    from (select distinct time_key, source, post_id from mentions where not is_flagged) as d
    group by time_key
)

select
    -- keys
    c.coin_id,
    h.time_key,
    h.ts_hour,
    -- market
    r.price_usd,
    r.return_1h,
    r.volume_usd,
    r.market_cap_usd,
    -- social volume
    coalesce(s.posts, 0) as posts,
    coalesce(s.flagged_posts, 0) as flagged_posts,
    coalesce(s.scored_posts, 0) as scored_posts,
    coalesce(a.unique_authors, 0) as unique_authors,
    cast(s.posts as double) / t.all_coin_posts as social_dominance,
    -- sentiment (VADER compound of unflagged scored posts)
    cast(s.compound_sum as double) / nullif(s.scored_posts, 0) as sentiment_mean,
    cast(s.weighted_sum as double) / cast(s.weight_sum as double) as sentiment_weighted,
    cast(s.bullish_posts as double) / nullif(s.scored_posts, 0) as share_bullish,
    cast(s.bearish_posts as double) / nullif(s.scored_posts, 0) as share_bearish,
    -- partition
    h.date
from hours as h
cross join coins as c
left join returns as r on r.coin_id = c.coin_id and r.ts_hour = h.ts_hour
left join social as s on s.coin_id = c.coin_id and s.time_key = h.time_key
left join authors as a on a.coin_id = c.coin_id and a.time_key = h.time_key
left join hour_totals as t on t.time_key = h.time_key
