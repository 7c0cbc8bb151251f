DROP TABLE web_revoked_sessions;
