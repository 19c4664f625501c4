-- Decision records kept past the in-memory ring of the node that served
-- the request, so that any node sharing this store finds them. `id` orders
-- them by arrival for trimming by count and size; `bytes` is the size of
-- the row's text, summed for trimming by size.
CREATE TABLE decision_records (
    id          INTEGER PRIMARY KEY,
    request_id  TEXT    NOT NULL UNIQUE,
    recorded_at INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    body        TEXT    NOT NULL
);

CREATE INDEX decision_records_by_time ON decision_records (recorded_at);
