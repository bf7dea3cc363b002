/*
grain = "one row per scored post (source + post id): VADER scores with the crypto lexicon, and bot/spam flags"
materialized = "incremental"
partition = "date"
publish_partitioned = true
unique_key = ["source", "post_id"]
not_null = ["post_id", "source", "time_key", "compound", "pos", "neu", "neg", "is_flagged"]
relationships = [{ column = "post_id", to = "fct_post.post_id" }, { column = "time_key", to = "dim_time.time_key" }]
ranges = [
    { column = "compound", min = -1, max = 1 },
    { column = "pos", min = 0, max = 1 },
    { column = "neu", min = 0, max = 1 },
    { column = "neg", min = 0, max = 1 },
]
*/
-- Scores and flags are computed in Python by `cryptopulse enrich` (cryptopulse.analysis) and land in
-- the lake's enriched zone (enriched/post_sentiment/); until a post is enriched it has no row here, and the marts
-- count it without a sentiment. Only posts still in fct_post are kept. Scores are exact decimals (VADER
-- rounds them to 4 and 3 places), so the marts' sums do not depend on the order rows are added in.
select
    -- keys
    s.post_id,
    s.source,
    p.time_key,
    -- VADER scores (compound in [-1, 1]; pos + neu + neg = 1, rounded)
    cast(s.compound as decimal(5, 4)) as compound,
    cast(s.pos as decimal(4, 3)) as pos,
    cast(s.neu as decimal(4, 3)) as neu,
    cast(s.neg as decimal(4, 3)) as neg,
    -- bot / spam flags: flagged posts are kept, and the marts leave them out
    s.is_copy_storm,
    s.is_high_rate,
    s.is_spam_pattern,
    s.is_copy_storm or s.is_high_rate or s.is_spam_pattern as is_flagged,
    s.lexicon_version,
    -- partition
    s.date
from enriched_post_sentiment as s
inner join fct_post as p on p.post_id = s.post_id and p.source = s.source and p.date = s.date
where s.date >= cast(:interval_start as date)
  and s.date < cast(:interval_end as date)
