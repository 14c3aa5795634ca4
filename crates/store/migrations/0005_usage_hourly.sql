-- The usage log summed per hour and (user, key, model, channel), written in the same
-- transaction as the log rows. Dashboards over days read this instead of scanning every
-- request (a month of 100,000 rows took 0.5 s on SQLite). `latency_ms` is a sum, so a mean
-- over any set of rows is sum / requests; `channel_id` is '' when no channel was reached.
CREATE TABLE usage_hourly (
    hour        BIGINT NOT NULL,
    user_id     TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    model       TEXT NOT NULL,
    channel_id  TEXT NOT NULL,
    requests    BIGINT NOT NULL,
    errors      BIGINT NOT NULL,
    tokens_in   BIGINT NOT NULL,
    tokens_out  BIGINT NOT NULL,
    cost        BIGINT NOT NULL,
    latency_ms  BIGINT NOT NULL,
    PRIMARY KEY (hour, user_id, key_id, model, channel_id)
);
CREATE INDEX usage_hourly_user ON usage_hourly (user_id, hour);

INSERT INTO usage_hourly
SELECT (ts / 3600000) * 3600000, user_id, key_id, model, COALESCE(channel_id, ''),
       COUNT(*),
       SUM(CASE WHEN status >= 200 AND status < 300 THEN 0 ELSE 1 END),
       SUM(tokens_in), SUM(tokens_out), SUM(cost), SUM(latency_ms)
FROM usage_logs
GROUP BY (ts / 3600000) * 3600000, user_id, key_id, model, COALESCE(channel_id, '');
