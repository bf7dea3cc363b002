/*
grain = "one row per (post, coin) mention: a post naming BTC and ETH has two rows, however often it names them"
materialized = "incremental"
partition = "date"
publish_partitioned = true
unique_key = ["source", "post_id", "coin_id"]
not_null = ["post_id", "source", "coin_id", "time_key"]
relationships = [{ column = "coin_id", to = "dim_coin.coin_id" }, { column = "post_id", to = "fct_post.post_id" }]
*/
-- Tokenise once (lower-cased; '$' and '#' stay attached) and join tokens to the alias table: an
-- equi-join, so matching cost does not grow with the number of coins.
with posts as (
    select
        post_id,
        source,
        time_key,
        text,
        date
    from fct_post
    where date >= cast(:interval_start as date)
      and date < cast(:interval_end as date)
),

tokens as (
    select
        post_id,
        source,
        time_key,
        date,
        unnest(regexp_split_to_array(lower(text), '[^a-z0-9$#]+')) as token
    from posts
),

mentions as (
    select
        k.post_id,
        k.source,
        a.coin_id,
        min(a.kind) as first_kind,
        count(*) as mentions,
        min(k.time_key) as time_key,
        min(k.date) as date
    from tokens as k
    inner join dim_coin_alias as a on a.alias = k.token
    group by k.post_id, k.source, a.coin_id
)

select
    -- keys
    post_id,
    source,
    coin_id,
    time_key,
    -- how the coin was named
    first_kind as mention_kind,
    mentions,
    -- partition
    date
from mentions
