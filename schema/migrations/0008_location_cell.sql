-- The POC question ("whom was a person within d metres of, over a date range?") reads every
-- other ping near each of the person's pings: ~50,000 for a person of the benchmark's set.
-- Through the GiST index each is a heap fetch of a random page (the geography opclass has no
-- fetch support, so no index-only scan): ~2 µs a ping, most of the query's time.
--
-- location_cell is the ping's cell in a grid of 0.00005 degrees (5.5 m of latitude), as
-- row << 32 | column. The btree on it includes every column the query reads, so the API
-- asks for a few key ranges (the cells around the person's pings, computed in C: see
-- daemons/api/connection_scan.h, which computes the same key with the same float8
-- operations) and gets the pings from the index alone, neighbours on neighbouring pages.
-- Measured on 500,000 pings: ~53,000 candidates in ~17 ms of execution against ~51,000 in
-- ~80-110 ms through the GiST index. The price: one more btree entry (~80 bytes) per stored
-- ping, at a random place; COPY into the loaded table was ~18 % slower with it.
CREATE FUNCTION location_cell(g geography) RETURNS int8
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE sql
    AS $$ SELECT (floor((ST_Y(g::geometry) + 90) * 20000)::int8 << 32)
                 | floor((ST_X(g::geometry) + 180) * 20000)::int8 $$;

CREATE INDEX location_cell_idx ON location (location_cell(coordinate))
    INCLUDE (person_id, creation_time, id, coordinate);
