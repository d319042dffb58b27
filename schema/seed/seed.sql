-- Default seed: the POC's sample people and pings (persons.csv, locations.csv next to this
-- file; true latitude/longitude, creation_time in UTC), ids kept because the POC's page and
-- its users know the people by them.
--
-- Run by `scripts/migrate --seed` in one transaction, with psql variable seed_dir set to this
-- folder. Each table is filled only when it is empty, so running it again changes nothing.

-- \copy takes its line literally (no variables), so read the files relative to seed_dir.
\cd :seed_dir

CREATE TEMP TABLE seed_person (
    id int, first_name text, last_name text, company_name text
) ON COMMIT DROP;
CREATE TEMP TABLE seed_location (
    id bigint, person_id int, latitude float8, longitude float8, creation_time timestamp
) ON COMMIT DROP;

\copy seed_person FROM 'persons.csv' WITH (FORMAT csv, HEADER true)
\copy seed_location FROM 'locations.csv' WITH (FORMAT csv, HEADER true)

INSERT INTO person (id, first_name, last_name, company_name)
SELECT id, first_name, last_name, company_name
FROM seed_person
WHERE NOT EXISTS (SELECT 1 FROM person)
ORDER BY id;

-- event_id: a UUID derived from the id, so that a re-created database gets the same ids.
INSERT INTO location (id, event_id, person_id, coordinate, creation_time, source)
SELECT id,
       md5('seed-location-' || id)::uuid,
       person_id,
       ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)::geography,
       creation_time AT TIME ZONE 'UTC',
       'seed'
FROM seed_location
WHERE NOT EXISTS (SELECT 1 FROM location)
ORDER BY id;

-- Rows inserted with explicit ids leave the sequences behind: move them past the largest
-- id (never backwards), so the next insert without an id gets a fresh one.
SELECT setval(pg_get_serial_sequence('person', 'id'), max(id))
FROM person
HAVING max(id) > (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM person_id_seq);
SELECT setval(pg_get_serial_sequence('location', 'id'), max(id))
FROM location
HAVING max(id) > (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM location_id_seq);
