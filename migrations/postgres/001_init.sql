-- Users, sessions, revocations, audit trail, settings: the tables of
-- migrations/sqlite/001 and 002 as they stand, in PostgreSQL's types.
-- Times are epoch milliseconds, except token expiries, which are epoch
-- seconds like the JWT `exp` they mirror (bigint: the domain's numbers,
-- compared with the same arithmetic on either store).

CREATE TABLE users (
  id            text PRIMARY KEY,
  email         text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  created_at    bigint NOT NULL
);

-- One row per live session; a token is accepted only while its row exists.
-- Keyed by (user_id, id): every lookup has both (a token's `sub` and `sid`),
-- and a user's sessions are one range of the key (list, logout of other or
-- all devices). Later columns (a refresh token's hash, deadlines) are added
-- by later migrations; nothing reads `SELECT *`.
CREATE TABLE sessions (
  user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  id         text NOT NULL,
  jti        text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  ip         text,
  user_agent text,
  PRIMARY KEY (user_id, id)
);
-- The purge deletes expired rows straight from this index, a batch at a
-- time, instead of sweeping the whole table (lib/store/postgres/writes.ts).
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Every revoked token, kept until the token would have expired anyway, in
-- the order written (the shared revocation list is filled in that order).
CREATE TABLE revoked_tokens (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  jti        text NOT NULL,
  user_id    text NOT NULL,
  session_id text NOT NULL,
  expires_at bigint NOT NULL,
  revoked_at bigint NOT NULL,
  reason     text NOT NULL
);
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);

CREATE TABLE audit_events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at         bigint NOT NULL,
  type       text NOT NULL,
  outcome    text NOT NULL,
  user_id    text,
  session_id text,
  jti        text,
  ip         text,
  user_agent text
);
CREATE INDEX audit_by_user ON audit_events (user_id, id);

CREATE TABLE settings (
  key   text PRIMARY KEY,
  value text NOT NULL
);
