/*
grain = "one row per (post, coin) mention: a post naming BTC and ETH has two rows, however often it names them"
materialized = "incremental"
partition = "date"
publish_partitioned = true
unique_key = ["source", "post_id", "coin_id"]
not_null = ["post_id", "source", "coin_id", "time_key", "mentions"]
relationships = [{ column = "coin_id", to = "dim_coin.coin_id" }, { column = "post_id", to = "fct_post.post_id" }]
ranges = [{ column = "mentions", min = 1 }]
*/
-- Tokenise once (lower-cased; '$' and '#' stay attached) and equi-join tokens to the alias table, so
-- matching cost does not grow with the number of coins. Multi-word names ('bitcoin cash') are found
-- as phrases, and the words inside a phrase ('bitcoin') do not count as mentions of another coin.
with posts as (
    select
        post_id,
        source,
        time_key,
        lower(text) as lower_text,
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
        unnest(regexp_split_to_array(lower_text, '[^a-z0-9$#]+')) as token
    from posts
),

word_mentions as (
    select
        k.post_id,
        k.source,
        k.time_key,
        k.date,
        a.coin_id,
        min(a.kind) as kind,
        count(*) as mentions
    from tokens as k
    inner join dim_coin_alias as a on a.alias = k.token
    group by k.post_id, k.source, k.time_key, k.date, a.coin_id
),

phrase_mentions as (
    select
        p.post_id,
        p.source,
        p.time_key,
        p.date,
        a.coin_id,
        a.alias,
        (length(p.lower_text) - length(replace(p.lower_text, a.alias, ''))) / length(a.alias) as mentions
    from posts as p
    inner join dim_coin_alias as a on a.kind = 'phrase' and strpos(p.lower_text, a.alias) > 0
),

-- words of a phrase that are aliases of their own: their occurrences inside the phrase are not theirs
hidden_words as (
    select
        h.post_id,
        h.source,
        w.coin_id,
        sum(h.mentions) as hidden
    from phrase_mentions as h
    inner join dim_coin_alias as w
        on w.kind <> 'phrase' and strpos(' ' || h.alias || ' ', ' ' || w.alias || ' ') > 0
    group by h.post_id, h.source, w.coin_id
),

mentions as (
    select
        m.post_id,
        m.source,
        m.time_key,
        m.date,
        m.coin_id,
        m.kind,
        m.mentions - coalesce(h.hidden, 0) as mentions
    from word_mentions as m
    left join hidden_words as h
        on h.post_id = m.post_id and h.source = m.source and h.coin_id = m.coin_id
    union all
    select post_id, source, time_key, date, coin_id, 'phrase' as kind, mentions
    from phrase_mentions
),

per_coin as (
    select
        post_id,
        source,
        coin_id,
        time_key,
        min(kind) as mention_kind,
        cast(sum(mentions) as bigint) as mentions,
        date
    from mentions
    group by post_id, source, coin_id, time_key, date
    having sum(mentions) > 0
)

select
    -- keys
    post_id,
    source,
    coin_id,
    time_key,
    -- how the coin was named
    mention_kind,
    mentions,
    -- partition
    date
from per_coin
