-- The entities that belong to a user (access keys): found by the `user`
-- member of their body, case-insensitively, without reading the scope whole.
CREATE INDEX entities_by_user ON entities (kind, scope, lower(json_extract(body, '$.user')));
