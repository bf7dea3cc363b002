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

-- one row per token naming a coin
word_mentions as (
    select
        k.post_id,
        k.source,
        k.time_key,
        k.date,
        a.coin_id,
        a.kind
    from tokens as k
    inner join dim_coin_alias as a on a.alias = k.token
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
        h.time_key,
        h.date,
        w.coin_id,
        h.mentions
    from phrase_mentions as h
    inner join dim_coin_alias as w
        on w.kind <> 'phrase' and strpos(' ' || h.alias || ' ', ' ' || w.alias || ' ') > 0
),

-- words, phrases and hidden words side by side, so that one aggregation counts each (post, coin); hidden words
-- count against a coin only where its words were found
mentions as (
    select post_id, source, time_key, date, coin_id, kind, 1 as words, 0 as phrases, 0 as hidden
    from word_mentions
    union all
    select post_id, source, time_key, date, coin_id, 'phrase' as kind, 0 as words, mentions as phrases, 0 as hidden
    from phrase_mentions
    union all
    select post_id, source, time_key, date, coin_id, null as kind, 0 as words, 0 as phrases, mentions as hidden
    from hidden_words
),

per_coin as (
    select
        post_id,
        source,
        coin_id,
        time_key,
        min(kind) as mention_kind,
        cast(sum(phrases) + case when sum(words) > 0 then sum(words) - sum(hidden) else 0 end as bigint) as mentions,
        date
    from mentions
    group by post_id, source, coin_id, time_key, date
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
where mentions > 0
