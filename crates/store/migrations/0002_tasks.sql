-- Asynchronous tasks (video now; music and images reuse it) and their webhook deliveries.

ALTER TABLE prices ADD COLUMN per_second BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN webhook_secret TEXT;

CREATE TABLE tasks (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    model         TEXT NOT NULL,
    -- The wire format of the endpoint that created it (chat, luma, runway, kling, openai,
    -- unified): reads and webhooks answer in that format.
    front         TEXT NOT NULL,
    channel_id    TEXT,
    provider      TEXT,
    upstream_id   TEXT,
    upstream_meta TEXT NOT NULL DEFAULT '{}',
    -- submitting, queued, running, succeeded, failed, cancelled
    state         TEXT NOT NULL,
    progress      BIGINT NOT NULL DEFAULT 0,
    request       TEXT NOT NULL,
    result        TEXT,
    raw           TEXT,
    error         TEXT,
    hold_id       TEXT,
    cost_held     BIGINT NOT NULL DEFAULT 0,
    cost_charged  BIGINT NOT NULL DEFAULT 0,
    notify_hook   TEXT,
    poll_failures BIGINT NOT NULL DEFAULT 0,
    next_poll_at  BIGINT NOT NULL,
    lease_owner   TEXT,
    lease_until   BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    finished_at   BIGINT
);
CREATE INDEX tasks_due ON tasks (state, next_poll_at);
CREATE INDEX tasks_user ON tasks (user_id, created_at);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    task_id         TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    url             TEXT NOT NULL,
    event           TEXT NOT NULL,
    body            TEXT NOT NULL,
    -- pending, delivered, failed
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_status     BIGINT,
    last_error      TEXT,
    next_attempt_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    -- Order of the task's notifications (created_at can tie within a millisecond).
    seq             BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhook_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_task ON webhook_deliveries (task_id);
