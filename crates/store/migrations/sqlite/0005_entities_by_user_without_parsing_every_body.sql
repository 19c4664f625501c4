-- The user index's expression used to parse every body written, whatever
-- its kind, to find a `user` member that only access keys have: on a
-- large first start that was about half of SQLite's work. A body without
-- the text "user" (in quotes) has no such member — bodies are written by
-- serde_json, which never escapes ASCII letters — so it is not parsed.
DROP INDEX entities_by_user;
CREATE INDEX entities_by_user ON entities (
    kind,
    scope,
    (CASE WHEN instr(body, '"user"') > 0 THEN lower(json_extract(body, '$.user')) END)
);
