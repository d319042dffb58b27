-- Precomputed co-presence: pairs of locations of different people within connector.radius_m
-- metres and connector.window_min minutes of each other, written by udc-connector.
--
-- Each pair is stored in BOTH directions (one row per location and its nearby location of
-- another person) rather than once with location_a < location_b. Every question asked of
-- this table starts from one person ("whom did X meet between these dates?"); with both
-- directions that is one range scan of (person_id, creation_time) returning the other side
-- in fixed columns, instead of an OR over two indexes and a CASE to pick "the other" side.
-- The price is twice the rows, which is small next to location itself. The connector
-- inserts both directions in the same statement (ON CONFLICT DO NOTHING makes it
-- idempotent), so the table is always symmetric.
CREATE TABLE connection (
    location_id bigint NOT NULL REFERENCES location (id) ON DELETE CASCADE,
    other_location_id bigint NOT NULL REFERENCES location (id) ON DELETE CASCADE,
    person_id int NOT NULL,
    other_person_id int NOT NULL,
    distance_m double precision NOT NULL CHECK (distance_m >= 0),
    creation_time timestamptz NOT NULL,       -- of location_id
    other_creation_time timestamptz NOT NULL, -- of other_location_id
    PRIMARY KEY (location_id, other_location_id),
    CHECK (person_id <> other_person_id)
);

-- "X's connections in a date window": the API's co-presence query. The included columns let
-- it answer from the index alone.
CREATE INDEX connection_person_time ON connection (person_id, creation_time)
    INCLUDE (other_person_id, other_creation_time, distance_m);
-- Deleting a location cascades through other_location_id too; without this index each
-- delete would scan the table.
CREATE INDEX connection_other_location ON connection (other_location_id);
