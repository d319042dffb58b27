-- location_cell (0008) named PostGIS's types and functions without their schema, so its
-- body was resolved through the search_path of whoever evaluated it. Autovacuum evaluates
-- index expressions with an empty search_path (so does pg_restore), and failed on it with
-- 'type "geometry" does not exist': the location table was never vacuumed nor analyzed
-- automatically. The body now names PostGIS's schema. It computes the same keys, so the
-- index stays valid, and it is still a plain SQL expression that the planner inlines.
DO $migration$
DECLARE
    postgis name := (SELECT n.nspname FROM pg_extension e
                       JOIN pg_namespace n ON n.oid = e.extnamespace
                      WHERE e.extname = 'postgis');
BEGIN
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION location_cell(g %1$I.geography) RETURNS int8
            IMMUTABLE STRICT PARALLEL SAFE LANGUAGE sql
            AS $body$ SELECT (pg_catalog.floor((%1$I.ST_Y(g::%1$I.geometry) + 90) * 20000)::int8 << 32)
                             | pg_catalog.floor((%1$I.ST_X(g::%1$I.geometry) + 180) * 20000)::int8 $body$
        $f$, postgis);
END
$migration$;
