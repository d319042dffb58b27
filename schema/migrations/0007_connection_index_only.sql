-- The API's co-presence query (connections_precomputed) reads, for one person, every pair
-- in a date range and sums them up per other person and, before that, per other ping
-- (a ping met from several of the person's pings counts once). The index of 0004, by
-- (person_id, creation_time), lacked other_location_id, so every row was a heap fetch of a
-- random page of a table that grows to gigabytes, and its order (the person's own time)
-- made the query sort ~6,500 rows per person and three days to group them.
--
-- This index holds every column the query reads, in the order it groups by: one person's
-- pairs by other person, then other ping. The query is an index-only scan whose rows need
-- no sort; the page cursor (other_person_id > $6) is an index bound and LIMIT stops the scan.
-- The price: the date range is a filter on the index entries, not a bound, so a narrow range
-- still reads all of the person's pairs (cheap entries, no heap: ~1 ms per 6,500 here).
-- Measured on 500,000 pings of 1,000 people over 3 days: 2.3x faster than an index-only
-- scan of (person_id, creation_time) with the same columns included.
DROP INDEX connection_person_time;
CREATE INDEX connection_person_other ON connection (person_id, other_person_id, other_location_id)
    INCLUDE (creation_time, other_creation_time, distance_m);

-- An index-only scan still visits the heap for every page the visibility map does not mark
-- all-visible, and only VACUUM sets those marks. The connector only inserts, so the default
-- trigger (after inserts of 20 % of the table: over a million rows once it is full) would
-- leave the newest pairs — the ones live queries read — on unmarked pages for a long time.
-- Vacuum after every 20,000 inserted rows instead; on an insert-only table it scans only the
-- pages not yet marked, so each run is short.
ALTER TABLE connection SET (
    autovacuum_vacuum_insert_threshold = 20000,
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_analyze_scale_factor = 0.02
);
