/*
grain = "one row per post (source + post id)"
materialized = "incremental"
partition = "date"
publish_partitioned = true
unique_key = ["source", "post_id"]
not_null = ["post_id", "source", "created_at", "time_key", "text"]
non_empty = true
relationships = [{ column = "time_key", to = "dim_time.time_key" }]
ranges = [
    { column = "like_count", min = 0 }, { column = "retweet_count", min = 0 }, { column = "reply_count", min = 0 },
    { column = "quote_count", min = 0 }, { column = "num_comments", min = 0 },
]
freshness = { column = "created_at" }
*/
select
    -- keys
    s.post_id,
    s.source,
    t.time_key,
    -- timestamps
    s.created_at,
    -- author
    s.author_id,
    s.author,
    -- content
    s.text,
    s.lang,
    -- engagement
    s.like_count,
    s.retweet_count,
    s.reply_count,
    s.quote_count,
    s.score,
    s.num_comments,
    -- where it was posted (a subreddit for Reddit)
    s.channel,
    -- partition
    s.date
from stg_posts as s
left join dim_time as t on t.ts_hour = date_trunc('hour', s.created_at)
where s.created_at >= cast(:interval_start as timestamp)
  and s.created_at < cast(:interval_end as timestamp)
