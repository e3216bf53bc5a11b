-- Refresh tokens and session lifetimes, as migrations/sqlite/003.
--
-- A session's `expires_at` is now its deadline: idle time after its last
-- login or refresh (`refreshed_at`, ms), capped by its maximum age. Its
-- current access token's claims are kept beside it (`token_iat`,
-- `token_exp`, with `jti`), so that a retried refresh signs the very same
-- token again. `refresh_gen` is the generation of its current refresh token.
--
-- `refresh_tokens` holds the SHA-256 of every refresh token issued, never a
-- token: a known hash of an older generation is a leaked token. Rows stay
-- until the session could no longer be alive anyway (`expires_at`: its
-- maximum age), then the purge takes them, from their expiry index.

ALTER TABLE sessions ADD COLUMN token_iat bigint NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN token_exp bigint NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN refresh_gen integer NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN refreshed_at bigint NOT NULL DEFAULT 0;
UPDATE sessions SET token_iat = created_at / 1000, token_exp = expires_at, refreshed_at = created_at;

CREATE TABLE refresh_tokens (
  hash       bytea PRIMARY KEY,
  user_id    text NOT NULL,
  session_id text NOT NULL,
  generation integer NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires_at);
