-- PostGIS for the geography type and its GiST index support.
--
-- CREATE EXTENSION postgis needs a superuser (the extension is not "trusted"), while every
-- later migration runs as the database owner, so the database is prepared by its
-- administrator: `scripts/stack up` creates the extension as the postgres superuser before
-- migrating, the k8s database's init script does the same. For the owner this statement is
-- then a no-op; on a database without PostGIS it fails here, naming the missing extension.
CREATE EXTENSION IF NOT EXISTS postgis;
