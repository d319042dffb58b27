-- A counter that moves in every transaction that changes person, so that udc-api can keep
-- its rendered list of people until it moves: every API instance sees the change with its
-- next read, whoever made it (another instance, the writer of a partner, psql). The row is
-- updated inside the changing transaction, so the new value becomes visible exactly when
-- the change does (a sequence would not: nextval is seen before the commit). Statement
-- level, so a COPY or a bulk UPDATE bumps it once; writers of person queue on this one row,
-- which is cheap because people change rarely.
CREATE TABLE person_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version bigint NOT NULL DEFAULT 1
);
INSERT INTO person_version DEFAULT VALUES;

CREATE FUNCTION person_version_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE person_version SET version = version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER person_version_bump
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON person
    FOR EACH STATEMENT EXECUTE FUNCTION person_version_bump();
