-- Dashboard (web) sessions and login-form tokens ended before their expiry:
-- a logout, or a login form already used. Kept in the database so that a
-- restart of `web` does not bring them back; rows past `expires_at` mean
-- nothing (the signed cookie or token has expired by then) and are pruned.
CREATE TABLE web_revoked_sessions (
    nonce       TEXT         PRIMARY KEY CHECK (length(nonce) BETWEEN 1 AND 100),
    expires_at  TIMESTAMPTZ  NOT NULL
);

CREATE INDEX idx_web_revoked_sessions_expires ON web_revoked_sessions (expires_at);
