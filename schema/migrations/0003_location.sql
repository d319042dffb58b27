-- Location pings. event_id is the message's id (set at ingest or by the partner): its unique
-- index is what makes the writer idempotent under at-least-once delivery.
-- coordinate is geography(Point, 4326) with x = longitude, y = latitude.
CREATE TABLE location (
    id bigserial PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    person_id int NOT NULL REFERENCES person (id),
    coordinate geography(Point, 4326) NOT NULL,
    creation_time timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    source text NOT NULL DEFAULT 'seed'
);

-- ST_DWithin over geography uses this index (without it a proximity join is a full scan).
CREATE INDEX location_coordinate_gist ON location USING gist (coordinate);
-- A person's pings in a time window (own side of the connection query, location listings).
CREATE INDEX location_person_time ON location (person_id, creation_time);
-- Everybody's pings in a time window (other side of the connection query, backfill).
CREATE INDEX location_creation_time ON location (creation_time);
