-- Progress of `udc-connector --backfill` (pairs for locations stored before the connector
-- ran): the highest location id whose pairs are computed. One row; each chunk updates it in
-- the transaction that inserts the chunk's pairs, so an interrupted backfill resumes where
-- it stopped and never computes a chunk twice.
CREATE TABLE connector_backfill (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_location_id bigint NOT NULL DEFAULT 0 CHECK (last_location_id >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO connector_backfill DEFAULT VALUES;
