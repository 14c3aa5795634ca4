-- What the console shows per channel beside its settings: the last test (JSON: ok, status,
-- model, latency_ms, error, at) and the provider's balance when it was last asked for it.
ALTER TABLE channels ADD COLUMN last_test TEXT;
ALTER TABLE channels ADD COLUMN balance_nano BIGINT;
ALTER TABLE channels ADD COLUMN balance_at BIGINT;
