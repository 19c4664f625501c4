-- Where each serving node can be asked for what only it holds (its
-- decision records), and when it last said so. Not state: no change log.
CREATE TABLE peers (
    id       TEXT   PRIMARY KEY,
    address  TEXT   NOT NULL,
    seen_at  BIGINT NOT NULL
);
