-- Users, sessions, revocations, audit trail, settings.
-- Times are epoch milliseconds, except token expiries, which are epoch seconds
-- like the JWT `exp` they mirror.

CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  email         TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at    INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per live session; a token is accepted only while its row exists.
-- Keyed by the session id (the token's `sid` claim), which is not a token.
CREATE TABLE sessions (
  id         TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  jti        TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  ip         TEXT,
  user_agent TEXT
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions (user_id, created_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Every revoked token, kept until the token would have expired anyway.
-- Keyed by expiry first: a logout then writes one B-tree, not a jti tree
-- plus an expiry index, and the purge deletes a range from its start.
-- Enforcement never reads this table (a token needs its session row); a jti
-- always comes with the same `exp`, so the key is still one row per token.
CREATE TABLE revoked_tokens (
  expires_at INTEGER NOT NULL,
  jti        TEXT NOT NULL,
  user_id    TEXT NOT NULL,
  session_id TEXT NOT NULL,
  revoked_at INTEGER NOT NULL,
  reason     TEXT NOT NULL,
  PRIMARY KEY (expires_at, jti)
) WITHOUT ROWID;

CREATE TABLE audit_events (
  id         INTEGER PRIMARY KEY,
  at         INTEGER NOT NULL,
  type       TEXT NOT NULL,
  outcome    TEXT NOT NULL,
  user_id    TEXT,
  session_id TEXT,
  jti        TEXT,
  ip         TEXT,
  user_agent TEXT
);
CREATE INDEX audit_by_user ON audit_events (user_id, id);

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
