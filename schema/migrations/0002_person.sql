-- People, with the POC's columns; ids of the POC's sample data are kept by the seed.
CREATE TABLE person (
    id serial PRIMARY KEY,
    first_name text NOT NULL,
    last_name text NOT NULL,
    company_name text NOT NULL
);
