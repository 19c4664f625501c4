-- Decision records kept past the in-memory ring of the node that served
-- the request, so that any node sharing this store finds them. `id` orders
-- them by arrival for trimming by count and size; `bytes` is the size of
-- the row's text, summed for trimming by size. The body is TEXT, not
-- JSONB: it is never queried into, and is read back exactly as written.
CREATE TABLE decision_records (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id  TEXT COLLATE "C" NOT NULL UNIQUE,
    recorded_at BIGINT NOT NULL,
    bytes       BIGINT NOT NULL,
    body        TEXT   NOT NULL
);

CREATE INDEX decision_records_by_time ON decision_records (recorded_at);
