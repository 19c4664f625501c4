-- Requests each API key made under each usage plan, per day, summed over
-- every node: nodes count locally and add their counts here in batches,
-- reading back the total (docs/api-keys.md). Not state: no change log.
CREATE TABLE usage_counts (
    usage_plan TEXT COLLATE "C" NOT NULL,
    api_key    TEXT COLLATE "C" NOT NULL,
    day        BIGINT NOT NULL,
    used       BIGINT NOT NULL,
    PRIMARY KEY (usage_plan, api_key, day)
);
