/*
grain = "one row per (post, coin) mention, with what the sentiment marts measure of it: author, hour, sentiment and bot/spam flag (once enriched), engagement weight"
materialized = "incremental"
partition = "date"
unique_key = ["source", "post_id", "coin_id"]
not_null = ["coin_id", "source", "post_id", "time_key", "is_flagged", "weight"]
ranges = [{ column = "weight", min = 1 }]
*/
-- The mentions that mart_coin_hourly (per hour) and mart_coin_daily (per day) aggregate, defined once. An
-- intermediate model (`int_`): built and checked in the warehouse like any model, never published.
-- A post not yet scored (no row in fct_post_sentiment) has no compound and is not flagged.
select
    -- keys
    b.coin_id,
    b.source,
    b.post_id,
    b.time_key,
    -- the post
    p.author_id,
    s.compound,
    coalesce(s.is_flagged, false) as is_flagged,
    -- engagement weight: 1 + ln(1 + likes, reposts, replies, quotes, Reddit score and comments), as an
    -- exact decimal so that sums are exact and reruns give identical bits; a negative count (which fct_post's
    -- range gates reject) counts as none here, so that such a post fails its gate instead of the build
    cast(1 + ln(
        1 + greatest(coalesce(p.like_count, 0), 0) + greatest(coalesce(p.retweet_count, 0), 0)
        + greatest(coalesce(p.reply_count, 0), 0) + greatest(coalesce(p.quote_count, 0), 0)
        + greatest(coalesce(p.score, 0), 0) + greatest(coalesce(p.num_comments, 0), 0)
    ) as decimal(18, 12)) as weight,
    -- partition
    b.date
from bridge_post_coin as b
inner join fct_post as p on p.post_id = b.post_id and p.source = b.source and p.date = b.date
left join fct_post_sentiment as s on s.post_id = b.post_id and s.source = b.source and s.date = b.date
where b.date >= cast(:interval_start as date)
  and b.date < cast(:interval_end as date)
