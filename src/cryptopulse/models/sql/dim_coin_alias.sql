/*
grain = "one row per alias (a lower-case token such as '$eth', '#ethereum', 'ethereum', or a phrase such as 'bitcoin cash'), each naming one tracked coin"
materialized = "table"
unique_key = ["alias"]
not_null = ["alias", "coin_id", "kind"]
non_empty = true
relationships = [{ column = "coin_id", to = "dim_coin.coin_id" }]
*/
-- Symbols are not unique across CoinGecko, so only tracked coins get aliases, and an alias claimed
-- by two tracked coins goes to the one with the better market-cap rank. Cashtags and hashtags are
-- always safe; bare names and symbols are skipped when they are everyday words (seed_ambiguous_words).
with tracked as (
    select
        coin_id,
        lower(symbol) as symbol,
        lower(name) as name,
        market_cap_rank
    from stg_coins
    where is_tracked
),

candidates as (
    select coin_id, '$' || symbol as alias, 'cashtag' as kind, 1 as priority, market_cap_rank from tracked
    union all
    select coin_id, '#' || symbol as alias, 'hashtag' as kind, 2 as priority, market_cap_rank from tracked
    union all
    select coin_id, '#' || regexp_replace(name, '[^a-z0-9]', '', 'g') as alias, 'hashtag' as kind, 2 as priority, market_cap_rank
    from tracked
    union all
    select coin_id, name as alias, 'name' as kind, 3 as priority, market_cap_rank
    from tracked
    where regexp_matches(name, '^[a-z0-9]+$')
    union all
    -- a multi-word name ('bitcoin cash'): matched as a phrase, and it hides the words inside it
    select coin_id, name as alias, 'phrase' as kind, 3 as priority, market_cap_rank
    from tracked
    where regexp_matches(name, '^[a-z0-9]+( [a-z0-9]+)+$')
    union all
    select coin_id, symbol as alias, 'symbol' as kind, 4 as priority, market_cap_rank
    from tracked
    where length(symbol) >= 3 and regexp_matches(symbol, '^[a-z0-9]+$')
),

unambiguous as (
    select *
    from candidates
    where kind in ('cashtag', 'hashtag', 'phrase')
       or alias not in (select word from seed_ambiguous_words)
),

ranked as (
    select
        alias,
        coin_id,
        kind,
        row_number() over (partition by alias order by market_cap_rank nulls last, priority, coin_id) as claim
    from unambiguous
)

select
    alias,
    coin_id,
    kind
from ranked
where claim = 1
