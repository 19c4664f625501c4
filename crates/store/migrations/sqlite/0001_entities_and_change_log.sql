-- Entities are JSON documents addressed by (kind, scope, key). `version` is the
-- sequence number of the batch that last wrote the row, so it grows on every
-- write and never repeats after a delete and re-create.
CREATE TABLE entities (
    kind    TEXT    NOT NULL,
    scope   TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    version INTEGER NOT NULL,
    body    TEXT    NOT NULL,
    PRIMARY KEY (kind, scope, key)
) WITHOUT ROWID;

-- One row per entity touched by an applied batch; `idx` keeps the batch order.
CREATE TABLE changes (
    seq   INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    kind  TEXT    NOT NULL,
    scope TEXT    NOT NULL,
    key   TEXT    NOT NULL,
    op    TEXT    NOT NULL CHECK (op IN ('put', 'delete')),
    PRIMARY KEY (seq, idx)
) WITHOUT ROWID;

-- The single row every write transaction updates first: it hands out sequence
-- numbers and, by being locked until commit, makes commit order equal sequence
-- order. `trimmed_through` is the highest sequence number whose change rows may
-- have been deleted.
CREATE TABLE change_log_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq        INTEGER NOT NULL,
    trimmed_through INTEGER NOT NULL
);

INSERT INTO change_log_state (id, last_seq, trimmed_through) VALUES (1, 0, 0);
