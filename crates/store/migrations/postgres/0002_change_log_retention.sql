-- When each change was committed (seconds since the epoch; 0 for rows written
-- before this column existed), so the log can be trimmed by age.
ALTER TABLE changes ADD COLUMN at BIGINT NOT NULL DEFAULT 0;

-- Every node that follows the change feed: the newest batch it has applied and
-- when it last said so. Rows every live node has applied can be trimmed.
CREATE TABLE nodes (
    id          TEXT   PRIMARY KEY,
    applied_seq BIGINT NOT NULL,
    seen_at     BIGINT NOT NULL
);
