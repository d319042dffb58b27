#!/usr/bin/python3
"""bench/poc.py — the proof of concept's algorithms, re-implemented for `scripts/bench`.

Runs with Debian's python3 and python3-psycopg2 only (no PyPI).

  poc.py schema DSN
      The POC's own schema in an empty database: `coordinate geometry` (no SRID, no GiST)
      with the POC's btree indexes coordinate_idx (on the geometry) and creation_time_idx.

  poc.py contacts DSN --people 1,2,3 --start 2020-08-17 --end 2020-08-20 [--distance 5]
                      [--sample 3]
      The POC's ConnectionService.find_contacts, faithfully: the person's own pings through
      the ORM's query, then ONE SQL QUERY PER OWN PING with the POC's exact SQL text, and a
      Connection object (person + location, string coordinates) per returned row, then the
      JSON the POC's endpoint returned. A full run takes minutes per person, so only
      --sample own pings per person are queried (evenly spread over the person's pings); the
      time for all of them is extrapolated from the sampled mean. One JSON line per person.

  poc.py serve DSN PORT
      The POC's ingest path as a stand-in server: POST /api/locations inserts one row in its
      own transaction (the POC's db.session.add + commit, then the refresh its response
      needed) and answers 200 with the Location; GET /api/persons answers every person.
      Threaded (one thread per connection), HTTP/1.1 keep-alive, a pool of connections like
      SQLAlchemy's default (5 + 10 overflow). Without Flask, marshmallow and SQLAlchemy it is
      faster than the POC was: an upper bound for the POC's design.
"""
import argparse
import datetime
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import psycopg2.pool

# The POC's database, as its init script created it (db/2020-08-15_init-db.sql).
POC_SCHEMA = """
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE TABLE person (
    id SERIAL PRIMARY KEY,
    first_name VARCHAR NOT NULL,
    last_name VARCHAR NOT NULL,
    company_name VARCHAR NOT NULL
);
CREATE TABLE location (
    id SERIAL PRIMARY KEY,
    person_id INT NOT NULL,
    coordinate GEOMETRY NOT NULL,
    creation_time TIMESTAMP NOT NULL DEFAULT NOW(),
    FOREIGN KEY (person_id) REFERENCES person(id)
);
CREATE INDEX coordinate_idx ON location (coordinate);
CREATE INDEX creation_time_idx ON location (creation_time);
"""

# The POC's find_contacts SQL, verbatim (its :name binds become psycopg2's %(name)s).
POC_CONTACT_SQL = """
        SELECT  person_id, id, ST_X(coordinate), ST_Y(coordinate), creation_time
        FROM    location
        WHERE   ST_DWithin(coordinate::geography,ST_SetSRID(ST_MakePoint(%(latitude)s,%(longitude)s),4326)::geography, %(meters)s)
        AND     person_id != %(person_id)s
        AND     TO_DATE(%(start_date)s, 'YYYY-MM-DD') <= creation_time
        AND     TO_DATE(%(end_date)s, 'YYYY-MM-DD') > creation_time;
        """

# What the ORM sent for the person's own pings (Location.person_id == ..., creation_time
# < end_date, >= start_date); the geometry came back as EWKB and became WKT through shapely.
POC_OWN_SQL = """
SELECT location.id, location.person_id, ST_AsText(location.coordinate), location.creation_time
FROM location
WHERE location.person_id = %(person_id_1)s AND location.creation_time < %(creation_time_1)s
  AND location.creation_time >= %(creation_time_2)s
"""


def wkt_parts(wkt):
    """The POC's Location.latitude / .longitude: the first and second number of the WKT
    (so 'latitude' held x, the longitude; the POC's SQL then passed it as x again)."""
    shape = wkt.replace("POINT", "ST_POINT")
    lat = shape[shape.find("(") + 1 : shape.find(" ")]
    lon = shape[shape.find(" ") + 1 : shape.find(")")]
    return lat, lon


def cmd_schema(args):
    with psycopg2.connect(args.dsn) as conn, conn.cursor() as cur:
        cur.execute(POC_SCHEMA)


def person_dict(row):
    return {"id": row[0], "first_name": row[1], "last_name": row[2], "company_name": row[3]}


def cmd_contacts(args):
    start = datetime.datetime.strptime(args.start, "%Y-%m-%d")
    end = datetime.datetime.strptime(args.end, "%Y-%m-%d")
    conn = psycopg2.connect(args.dsn)
    conn.autocommit = True
    cur = conn.cursor()
    for person_id in [int(p) for p in args.people.split(",") if p]:
        t0 = time.monotonic()
        cur.execute(POC_OWN_SQL, {"person_id_1": person_id, "creation_time_1": end,
                                  "creation_time_2": start})
        locations = cur.fetchall()
        # Cache all users in memory for quick lookup (the POC did this per request)
        cur.execute("SELECT id, first_name, last_name, company_name FROM person")
        person_map = {row[0]: person_dict(row) for row in cur.fetchall()}
        setup_s = time.monotonic() - t0
        data = []
        for location in locations:
            lat, lon = wkt_parts(location[2])
            data.append({
                "person_id": person_id,
                "longitude": lon,
                "latitude": lat,
                "meters": str(args.distance),  # request.args.get("distance", 5): a string
                "start_date": start.strftime("%Y-%m-%d"),
                "end_date": (end + datetime.timedelta(days=1)).strftime("%Y-%m-%d"),
            })
        n = len(data)
        k = min(args.sample, n)
        sample = [data[(i * n) // k] for i in range(k)] if k else []
        query_s = build_s = 0.0
        rows = 0
        result = []
        for line in sample:
            q0 = time.monotonic()
            cur.execute(POC_CONTACT_SQL, line)
            fetched = cur.fetchall()
            q1 = time.monotonic()
            for exposed_person_id, location_id, exposed_lat, exposed_long, exposed_time in fetched:
                result.append({
                    "person": person_map[exposed_person_id],
                    "location": {
                        "id": location_id,
                        "person_id": exposed_person_id,
                        "longitude": str(exposed_long),
                        "latitude": str(exposed_lat),
                        "creation_time": exposed_time.isoformat(),
                    },
                })
            rows += len(fetched)
            build_s += time.monotonic() - q1
            query_s += q1 - q0
        j0 = time.monotonic()
        body = json.dumps(result)
        json_s = time.monotonic() - j0
        scale = n / k if k else 0.0
        print(json.dumps({
            "person_id": person_id,
            "own_pings": n,
            "sampled": k,
            "sample_query_s": round(query_s, 4),
            "sample_rows": rows,
            "per_ping_s": round((query_s + build_s + json_s) / k, 5) if k else 0,
            "extrapolated_s": round(setup_s + (query_s + build_s + json_s) * scale, 2),
            "extrapolated_rows": int(rows * scale),
            "extrapolated_bytes": int(len(body) * scale),
            "distinct_people_in_sample": len({r["person"]["id"] for r in result}),
        }), flush=True)
    conn.close()


class BlockingPool:
    """SQLAlchemy's QueuePool waits for a free connection (5 + 10 overflow); psycopg2's pool
    raises instead, so a semaphore makes callers wait."""

    def __init__(self, dsn, size):
        self.slots = threading.BoundedSemaphore(size)
        self.pool = psycopg2.pool.ThreadedConnectionPool(1, size, dsn)

    def getconn(self):
        self.slots.acquire()
        return self.pool.getconn()

    def putconn(self, conn):
        self.pool.putconn(conn)
        self.slots.release()


class PocHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    pool = None

    def log_message(self, fmt, *args):  # quiet, like a production server
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != "/api/persons":
            return self.reply(404, {"message": "not found"})
        conn = self.pool.getconn()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT id, first_name, last_name, company_name FROM person")
                people = [person_dict(r) for r in cur.fetchall()]
            conn.commit()
        finally:
            self.pool.putconn(conn)
        self.reply(200, people)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        if self.path != "/api/locations":
            return self.reply(404, {"message": "not found"})
        try:
            loc = json.loads(raw)
            values = (int(loc["person_id"]), str(loc["latitude"]), str(loc["longitude"]),
                      loc["creation_time"])
        except (ValueError, KeyError, TypeError):
            return self.reply(400, {"message": "bad request"})
        conn = self.pool.getconn()
        try:
            with conn.cursor() as cur:
                # db.session.add(new_location); db.session.commit()
                cur.execute(
                    "INSERT INTO location (person_id, coordinate, creation_time) "
                    "VALUES (%s, ST_Point(%s, %s), %s) RETURNING id", values)
                new_id = cur.fetchone()[0]
                conn.commit()
                # The response read the expired object: SQLAlchemy reloaded it.
                cur.execute("SELECT id, person_id, ST_AsText(coordinate), creation_time "
                            "FROM location WHERE id = %s", (new_id,))
                row = cur.fetchone()
            conn.commit()
        except psycopg2.Error:
            conn.rollback()
            return self.reply(500, {"message": "Internal Server Error"})
        finally:
            self.pool.putconn(conn)
        lat, lon = wkt_parts(row[2])
        self.reply(200, {"id": row[0], "person_id": row[1], "latitude": lat, "longitude": lon,
                         "creation_time": row[3].isoformat()})


def cmd_serve(args):
    PocHandler.pool = BlockingPool(args.dsn, 15)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), PocHandler)
    server.daemon_threads = True
    print("poc: serving on 127.0.0.1:%d" % args.port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("schema")
    s.add_argument("dsn")
    c = sub.add_parser("contacts")
    c.add_argument("dsn")
    c.add_argument("--people", required=True)
    c.add_argument("--start", required=True)
    c.add_argument("--end", required=True)
    c.add_argument("--distance", default="5")
    c.add_argument("--sample", type=int, default=3)
    v = sub.add_parser("serve")
    v.add_argument("dsn")
    v.add_argument("port", type=int)
    args = p.parse_args()
    {"schema": cmd_schema, "contacts": cmd_contacts, "serve": cmd_serve}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
