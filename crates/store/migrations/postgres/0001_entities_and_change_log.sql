-- Entities are JSON documents addressed by (kind, scope, key). `version` is the
-- sequence number of the batch that last wrote the row, so it grows on every
-- write and never repeats after a delete and re-create.
-- COLLATE "C": keys sort in byte order, as on SQLite, whatever the database
-- locale, and the primary key index serves `list` and `load_all` ordering.
CREATE TABLE entities (
    kind    TEXT COLLATE "C" NOT NULL,
    scope   TEXT COLLATE "C" NOT NULL,
    key     TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    body    JSONB  NOT NULL,
    PRIMARY KEY (kind, scope, key)
);

-- One row per entity touched by an applied batch; `idx` keeps the batch order.
CREATE TABLE changes (
    seq   BIGINT  NOT NULL,
    idx   INTEGER NOT NULL,
    kind  TEXT    NOT NULL,
    scope TEXT    NOT NULL,
    key   TEXT    NOT NULL,
    op    TEXT    NOT NULL CHECK (op IN ('put', 'delete')),
    PRIMARY KEY (seq, idx)
);

-- The single row every write transaction updates first: it hands out sequence
-- numbers and, because the row stays locked until commit, writers serialize and
-- commit order equals sequence order (a reader that has seen seq N has seen
-- every batch up to N). `trimmed_through` is the highest sequence number whose
-- change rows may have been deleted.
CREATE TABLE change_log_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq        BIGINT  NOT NULL,
    trimmed_through BIGINT  NOT NULL
);

INSERT INTO change_log_state (id, last_seq, trimmed_through) VALUES (1, 0, 0);
