//! `GET /api/openapi.json`: an OpenAPI 3.1 description of every route the gateway serves,
//! the admin API and the OpenAI-compatible relay alike. Admin request bodies are described
//! from the same field lists the handlers validate against, so the two cannot drift; the
//! integration tests check that every registered route is listed here and vice versa.

use axum::Json;
use serde_json::{json, Map, Value};

use super::{channels, keys, logs, prices, tasks, users, Field, Need, Ty};

pub(crate) async fn document() -> Json<Value> {
    Json(build())
}

fn t(ty: &str) -> Value {
    json!({"type": ty})
}

/// A type that may also be null.
fn nt(ty: &str) -> Value {
    json!({"type": [ty, "null"]})
}

fn arr(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// An object whose listed properties are always present.
fn obj(props: &[(&str, Value)]) -> Value {
    let mut p = Map::new();
    for (k, v) in props {
        p.insert((*k).to_string(), v.clone());
    }
    let required: Vec<&str> = props.iter().map(|(k, _)| *k).collect();
    json!({"type": "object", "properties": p, "required": required})
}

/// `{user, csrf_token}`: who is signed in, and the token every console write sends back.
fn session_schema() -> Value {
    obj(&[("user", t("object")), ("csrf_token", t("string"))])
}

/// `{"data": [item]}`, the shape of every admin list.
fn list_of(item: &str) -> Value {
    obj(&[("data", arr(r(item)))])
}

/// A request body schema from a handler's field list.
fn body_schema(spec: &[Field]) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for Field(name, ty, need, doc) in spec {
        let base = match ty {
            Ty::Str => "string",
            Ty::Int => "integer",
            Ty::Bool => "boolean",
            Ty::Strs => "array",
            Ty::StrMap => "object",
        };
        let mut s = if *need == Need::Nullable {
            nt(base)
        } else {
            t(base)
        };
        match ty {
            Ty::Strs => s["items"] = t("string"),
            Ty::StrMap => s["additionalProperties"] = t("string"),
            _ => {}
        }
        s["description"] = json!(doc);
        props.insert((*name).to_string(), s);
        if *need == Need::Required {
            required.push(*name);
        }
    }
    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
}

/// One operation, built up step by step.
struct Op(Value);

impl Op {
    fn new(tag: &str, summary: &str) -> Op {
        Op(json!({
            "tags": [tag],
            "summary": summary,
            "responses": {
                "401": {"description": "Missing, unknown, disabled or expired API key.", "content": {"application/json": {"schema": r("Error")}}}
            }
        }))
    }

    /// The console's session cookie (or a key) authenticates it.
    fn session(mut self) -> Op {
        self.0["security"] = json!([{"session": []}, {"bearer": []}]);
        self
    }

    /// No API key needed.
    fn public(mut self) -> Op {
        self.0["security"] = json!([]);
        if let Some(r) = self.0["responses"].as_object_mut() {
            r.remove("401");
        }
        self
    }

    fn describe(mut self, d: &str) -> Op {
        self.0["description"] = json!(d);
        self
    }

    fn param(mut self, name: &str, at: &str, ty: &str, d: &str) -> Op {
        let p = json!({"name": name, "in": at, "required": at == "path", "description": d, "schema": t(ty)});
        match self.0["parameters"].as_array_mut() {
            Some(a) => a.push(p),
            None => self.0["parameters"] = json!([p]),
        }
        self
    }

    fn path(self, name: &str, d: &str) -> Op {
        self.param(name, "path", "string", d)
    }

    fn log_filters(mut self) -> Op {
        for (name, ty, d) in logs::PARAMS {
            self = self.param(name, "query", ty, d);
        }
        self
    }

    fn body(mut self, schema: Value) -> Op {
        self.0["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": schema}}});
        self
    }

    fn optional_body(mut self, schema: Value) -> Op {
        self.0["requestBody"] =
            json!({"required": false, "content": {"application/json": {"schema": schema}}});
        self
    }

    fn ok(self, d: &str, schema: Value) -> Op {
        self.answer(200, d, "application/json", schema)
    }

    fn created(self, d: &str, schema: Value) -> Op {
        self.answer(201, d, "application/json", schema)
    }

    fn answer(mut self, code: u16, d: &str, media: &str, schema: Value) -> Op {
        self.0["responses"][code.to_string()] =
            json!({"description": d, "content": {media: {"schema": schema}}});
        self
    }

    /// The 200 may also be server-sent events (`stream: true`).
    fn streams(mut self) -> Op {
        self.0["responses"]["200"]["content"]["text/event-stream"] = json!({"schema": {"type": "string", "description": "data: {chunk}\\n\\n … data: [DONE]"}});
        self
    }

    fn errors(mut self, codes: &[u16]) -> Op {
        for code in codes {
            let d = match code {
                400 => "Invalid input; the message names the problem and `param` the field.",
                403 => "The key may not do this (admin-only route, model or address not allowed).",
                404 => "No such object (or model).",
                409 => "The name is already taken.",
                413 => "The body is larger than the gateway accepts.",
                429 => "Insufficient balance or key quota, or the provider rate-limits.",
                502 => "The upstream provider failed.",
                503 => "No channel can serve the model right now.",
                _ => "Error.",
            };
            self.0["responses"][code.to_string()] =
                json!({"description": d, "content": {"application/json": {"schema": r("Error")}}});
        }
        self
    }
}

impl Op {
    /// Errors in a native front door's own shape (Luma's, Runway's, Kling's), the 401 too.
    fn errors_as(mut self, codes: &[u16], schema: &Value) -> Op {
        self = self.errors(codes);
        if let Some(r) = self.0["responses"].as_object_mut() {
            for (code, resp) in r.iter_mut() {
                if code.starts_with('4') || code.starts_with('5') {
                    resp["content"]["application/json"]["schema"] = schema.clone();
                }
            }
        }
        self
    }
}

/// Add an operation under `path` for `method`.
fn add(paths: &mut Map<String, Value>, method: &str, path: &str, op: Op) {
    let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
    entry[method] = op.0;
}

fn schemas() -> Value {
    let nano = |d: &str| json!({"type": "integer", "description": d});
    let ms = |d: &str| json!({"type": "integer", "description": format!("{d} (milliseconds since the epoch)")});
    let user = obj(&[
        ("id", t("string")),
        ("name", t("string")),
        (
            "role",
            json!({"type": "string", "enum": ["root", "admin", "user"]}),
        ),
        ("group", t("string")),
        ("balance_nano", nano("Spendable balance, nano-dollars.")),
        ("used_nano", nano("Total ever charged, nano-dollars.")),
        ("request_count", t("integer")),
        ("enabled", t("boolean")),
        ("created_at", ms("Creation time")),
    ]);
    let mut me = user.clone();
    me["properties"]["held_nano"] = nano("Reserved for requests in flight, nano-dollars.");
    me["properties"]["key"] = r("ApiKey");
    me["required"]
        .as_array_mut()
        .expect("required list")
        .push(json!("held_nano"));
    let key = obj(&[
        ("id", t("string")),
        ("user_id", t("string")),
        ("name", t("string")),
        (
            "key_hint",
            json!({"type": "string", "description": "sk-abcd…wxyz: enough to recognise the key, never the secret."}),
        ),
        ("quota_limited", t("boolean")),
        (
            "quota_remaining_nano",
            nano("Remaining quota when quota_limited, nano-dollars."),
        ),
        ("used_nano", nano("Charged through this key, nano-dollars.")),
        ("expires_at", nt("integer")),
        ("models", arr(t("string"))),
        ("ip_allow", arr(t("string"))),
        ("enabled", t("boolean")),
        ("created_at", ms("Creation time")),
    ]);
    let mut created_key = key.clone();
    created_key["properties"]["key"] =
        json!({"type": "string", "description": "The secret (sk-…). Shown this once only."});
    created_key["required"]
        .as_array_mut()
        .expect("required list")
        .push(json!("key"));
    let price = obj(&[
        (
            "model",
            json!({"type": "string", "description": "Exact name, or a prefix pattern ending in *."}),
        ),
        ("input_nano_per_mtok", nano("Per 1M input tokens.")),
        ("output_nano_per_mtok", nano("Per 1M output tokens.")),
        ("cached_nano_per_mtok", nt("integer")),
        ("per_call_nano", nano("Per call.")),
        ("free", t("boolean")),
        ("updated_at", ms("Last change")),
        (
            "usd",
            obj(&[
                ("input_per_mtok", t("number")),
                ("output_per_mtok", t("number")),
                ("cached_per_mtok", nt("number")),
                ("per_call", t("number")),
            ]),
        ),
    ]);
    let log = obj(&[
        (
            "id",
            json!({"type": "string", "description": "The request id, as sent in x-request-id."}),
        ),
        ("ts", ms("When")),
        ("user_id", t("string")),
        ("key_id", t("string")),
        ("endpoint", t("string")),
        ("model", t("string")),
        ("channel_id", nt("string")),
        ("stream", t("boolean")),
        ("tokens_in", t("integer")),
        ("tokens_out", t("integer")),
        ("tokens_cached", t("integer")),
        ("cost_nano", nano("Charged, nano-dollars.")),
        ("latency_ms", t("integer")),
        ("ttft_ms", nt("integer")),
        (
            "status",
            json!({"type": "integer", "description": "HTTP status the caller got (499: stream cut short)."}),
        ),
        ("error", nt("string")),
    ]);
    let channel = obj(&[
        ("id", t("string")),
        ("name", t("string")),
        ("kind", t("string")),
        ("base_url", t("string")),
        (
            "keys",
            json!({"type": "array", "items": t("string"), "description": "Hints only (***abcd); the keys themselves are never shown."}),
        ),
        ("models", arr(t("string"))),
        (
            "model_map",
            json!({"type": "object", "additionalProperties": t("string")}),
        ),
        ("groups", arr(t("string"))),
        ("priority", t("integer")),
        ("weight", t("integer")),
        ("enabled", t("boolean")),
        (
            "status",
            json!({"type": "string", "enum": ["enabled", "disabled", "auto_disabled"]}),
        ),
        ("status_reason", nt("string")),
        ("test_model", nt("string")),
        ("created_at", ms("Creation time")),
        ("updated_at", ms("Last change")),
        (
            "health",
            obj(&[
                ("recent_failures", t("integer")),
                ("recent_requests", t("integer")),
                ("benched_for_secs", nt("integer")),
            ]),
        ),
        (
            "last_test",
            json!({"oneOf": [r("ChannelTestResult"), {"type": "null"}], "description": "The last test's outcome (null: never tested)."}),
        ),
        (
            "balance_usd",
            json!({"type": ["number", "null"], "description": "The provider's balance when last asked (null: never asked)."}),
        ),
        (
            "balance_nano",
            json!({"type": ["integer", "null"], "description": "The same, in nano-dollars."}),
        ),
        (
            "balance_at",
            json!({"type": ["integer", "null"], "description": "When it was asked, ms since the epoch."}),
        ),
    ]);
    let test_result = obj(&[
        ("channel_id", t("string")),
        ("name", t("string")),
        ("model", nt("string")),
        ("ok", t("boolean")),
        (
            "status",
            json!({"type": ["integer", "null"], "description": "The provider's HTTP status (null: no answer)."}),
        ),
        ("latency_ms", t("integer")),
        ("error", nt("string")),
        ("at", ms("When the test ran")),
    ]);
    let ledger = obj(&[
        ("id", t("string")),
        ("user_id", t("string")),
        (
            "amount_nano",
            nano("Added (negative: deducted), nano-dollars."),
        ),
        ("reason", t("string")),
        (
            "actor",
            json!({"type": ["string", "null"], "description": "The user id of the admin who made the change."}),
        ),
        (
            "actor_name",
            json!({"type": ["string", "null"], "description": "That admin's name (null: none, or the user is gone)."}),
        ),
        ("created_at", ms("When")),
    ]);
    let error = obj(&[(
        "error",
        obj(&[
            ("message", t("string")),
            ("type", t("string")),
            ("param", nt("string")),
            ("code", nt("string")),
        ]),
    )]);
    let pass_through = |props: &[(&str, Value)], required: &[&str]| {
        let mut s = obj(props);
        s["required"] = json!(required);
        s["additionalProperties"] = json!(true);
        s
    };
    let usage = obj(&[
        ("prompt_tokens", t("integer")),
        ("completion_tokens", t("integer")),
        ("total_tokens", t("integer")),
    ]);
    let model = obj(&[
        ("id", t("string")),
        ("object", t("string")),
        ("created", t("integer")),
        ("owned_by", t("string")),
    ]);
    let mut all = Map::new();
    let part = json!({
        "Error": error,
        "User": user,
        "Me": me,
        "NewUser": body_schema(users::NEW_USER),
        "UserPatch": body_schema(users::USER_PATCH),
    });
    all.extend(part.as_object().cloned().unwrap_or_default());
    let part = json!({
        "BalanceAdjust": body_schema(users::BALANCE),
        "LedgerEntry": ledger,
        "ApiKey": key,
        "CreatedApiKey": created_key,
        "NewKey": body_schema(keys::NEW_KEY),
    });
    all.extend(part.as_object().cloned().unwrap_or_default());
    let part = json!({
        "KeyPatch": body_schema(keys::KEY_PATCH),
        "Channel": channel,
        "ChannelCreate": body_schema(channels::CHANNEL_CREATE),
        "ChannelPatch": body_schema(channels::CHANNEL_PATCH),
        "ChannelTest": body_schema(channels::CHANNEL_TEST),
    });
    all.extend(part.as_object().cloned().unwrap_or_default());
    let part = json!({
        "ChannelTestResult": test_result,
        "Price": price,
        "PriceWrite": body_schema(prices::PRICE_WRITE),
        "UsageLog": log,
        "LogPage": obj(&[("data", arr(r("UsageLog"))), ("total", t("integer")), ("limit", t("integer")), ("offset", t("integer"))]),
    });
    all.extend(part.as_object().cloned().unwrap_or_default());
    let part = json!({
        "UsageSummary": obj(&[("requests", t("integer")), ("tokens_in", t("integer")), ("tokens_out", t("integer")), ("cost_nano", nano("Total charged, nano-dollars."))]),
        "Deleted": obj(&[("deleted", t("boolean"))]),
        "Model": model,
        "ModelList": obj(&[("object", t("string")), ("data", arr(r("Model")))]),
        "ChatCompletionRequest": pass_through(&[
            ("model", t("string")),
            ("messages", arr(obj(&[("role", t("string")), ("content", json!({"type": ["string", "array", "null"]}))]))),
            ("stream", t("boolean")),
            ("max_tokens", t("integer")),
            ("max_completion_tokens", t("integer")),
            ("n", t("integer")),
            ("stream_options", obj(&[("include_usage", t("boolean"))])),
        ], &["model", "messages"]),
    });
    all.extend(part.as_object().cloned().unwrap_or_default());
    let part = json!({
        "ChatCompletion": pass_through(&[
            ("id", t("string")),
            ("object", t("string")),
            ("created", t("integer")),
            ("model", t("string")),
            ("choices", arr(obj(&[("index", t("integer")), ("message", obj(&[("role", t("string")), ("content", nt("string"))])), ("finish_reason", nt("string"))]))),
            ("usage", usage.clone()),
        ], &["id", "choices"]),
        "CompletionRequest": pass_through(&[
            ("model", t("string")),
            ("prompt", json!({"type": ["string", "array"]})),
            ("stream", t("boolean")),
            ("max_tokens", t("integer")),
            ("n", t("integer")),
        ], &["model", "prompt"]),
        "Completion": pass_through(&[
            ("id", t("string")),
            ("object", t("string")),
            ("model", t("string")),
            ("choices", arr(obj(&[("index", t("integer")), ("text", t("string")), ("finish_reason", nt("string"))]))),
            ("usage", usage.clone()),
        ], &["id", "choices"]),
        "EmbeddingRequest": pass_through(&[
            ("model", t("string")),
            ("input", json!({"type": ["string", "array"]})),
        ], &["model", "input"]),
        "EmbeddingList": pass_through(&[
            ("object", t("string")),
            ("data", arr(obj(&[("index", t("integer")), ("embedding", json!({"type": ["array", "string"]}))]))),
            ("model", t("string")),
            ("usage", obj(&[("prompt_tokens", t("integer")), ("total_tokens", t("integer"))])),
        ], &["data"]),
    });
    all.extend(part.as_object().cloned().unwrap_or_default());
    let part = json!({
        "ModerationRequest": pass_through(&[
            ("model", json!({"type": "string", "description": "Default omni-moderation-latest."})),
            ("input", json!({"type": ["string", "array"]})),
        ], &["input"]),
        "Moderation": pass_through(&[
            ("id", t("string")),
            ("model", t("string")),
            ("results", arr(json!({"type": "object"}))),
        ], &["results"]),
        "ImageRequest": pass_through(&[
            ("model", json!({"type": "string", "description": "Default dall-e-2."})),
            ("prompt", t("string")),
            ("n", json!({"type": "integer", "minimum": 1, "maximum": 10})),
            ("size", t("string")),
            ("response_format", json!({"type": "string", "enum": ["url", "b64_json"]})),
        ], &["prompt"]),
        "ImagesResponse": pass_through(&[
            ("created", t("integer")),
            ("data", arr(obj(&[("url", t("string")), ("b64_json", t("string"))]))),
        ], &["data"]),
        "SpeechRequest": pass_through(&[
            ("model", t("string")),
            ("input", t("string")),
            ("voice", t("string")),
            ("response_format", t("string")),
        ], &["model", "input"]),
    });
    all.extend(part.as_object().cloned().unwrap_or_default());
    let part = json!({
        "TranscriptionRequest": pass_through(&[
            ("file", json!({"type": "string", "contentMediaType": "application/octet-stream"})),
            ("model", t("string")),
            ("response_format", t("string")),
        ], &["file", "model"]),
        "Transcription": pass_through(&[("text", t("string"))], &["text"]),
        "BillingSubscription": obj(&[
            ("object", t("string")),
            ("has_payment_method", t("boolean")),
            ("soft_limit_usd", t("number")),
            ("hard_limit_usd", t("number")),
            ("system_hard_limit_usd", t("number")),
            ("access_until", t("integer")),
        ]),
        "BillingUsage": obj(&[("object", t("string")), ("total_usage", json!({"type": "number", "description": "US cents."}))]),
    });
    all.extend(part.as_object().cloned().unwrap_or_default());
    Value::Object(all)
}

fn admin_paths(p: &mut Map<String, Value>) {
    let id = |what: &str| format!("The {what}'s id.");
    add(
        p,
        "get",
        "/api/openapi.json",
        Op::new("meta", "This document")
            .public()
            .ok("OpenAPI 3.1 document.", json!({"type": "object"})),
    );
    add(p, "get", "/api/me", Op::new("users", "The caller's account")
        .describe("The user owning the key, what is held for requests in flight, and the key itself. Any key.")
        .ok("The caller.", r("Me")));

    // Users
    add(
        p,
        "get",
        "/api/users",
        Op::new("users", "List users (admin)")
            .param("limit", "query", "integer", "1–1000, default 100.")
            .param("offset", "query", "integer", "Default 0.")
            .ok(
                "A page of users.",
                obj(&[
                    ("data", arr(r("User"))),
                    ("limit", t("integer")),
                    ("offset", t("integer")),
                ]),
            )
            .errors(&[400, 403]),
    );
    add(
        p,
        "post",
        "/api/users",
        Op::new("users", "Create a user (admin)")
            .describe("Only root may create admins or roots.")
            .body(r("NewUser"))
            .created("The new user.", r("User"))
            .errors(&[400, 403, 409]),
    );
    add(
        p,
        "get",
        "/api/users/{id}",
        Op::new("users", "Get a user (admin)")
            .path("id", &id("user"))
            .ok("The user.", r("User"))
            .errors(&[403, 404]),
    );
    add(p, "patch", "/api/users/{id}", Op::new("users", "Change a user (admin)")
        .describe("Only root may promote to admin or root, or change the role or enabled flag of an admin or root. The last enabled root can be neither disabled nor demoted.")
        .path("id", &id("user"))
        .body(r("UserPatch"))
        .ok("The user as changed.", r("User"))
        .errors(&[400, 403, 404, 409]));
    add(p, "post", "/api/users/{id}/balance", Op::new("users", "Top up or deduct (admin)")
        .describe("Adds amount_nano (negative deducts, refused beyond the balance) and records it with the reason in the ledger.")
        .path("id", &id("user"))
        .body(r("BalanceAdjust"))
        .ok("The user with the new balance.", r("User"))
        .errors(&[400, 403, 404]));
    add(
        p,
        "get",
        "/api/users/{id}/ledger",
        Op::new("users", "Balance changes (admin)")
            .path("id", &id("user"))
            .param("limit", "query", "integer", "1–1000, default 100.")
            .ok("Newest first.", list_of("LedgerEntry"))
            .errors(&[400, 403, 404]),
    );

    // Keys
    add(
        p,
        "get",
        "/api/keys",
        Op::new("keys", "List keys")
            .describe("Admins: every key, or one user's with user_id. Others: their own keys only.")
            .param(
                "user_id",
                "query",
                "string",
                "Only this user's keys (admins).",
            )
            .ok("Keys, without secrets.", list_of("ApiKey"))
            .errors(&[400]),
    );
    add(p, "post", "/api/keys", Op::new("keys", "Create a key")
        .describe("The secret is in the answer's `key` field, and nowhere ever again. Non-admins may only create keys for themselves; only root may create keys for another admin or root.")
        .body(r("NewKey"))
        .created("The key, with its secret.", r("CreatedApiKey"))
        .errors(&[400, 403, 404]));
    add(
        p,
        "get",
        "/api/keys/{id}",
        Op::new("keys", "Get a key (owner or admin)")
            .path("id", &id("key"))
            .ok("The key, without its secret.", r("ApiKey"))
            .errors(&[404]),
    );
    add(
        p,
        "patch",
        "/api/keys/{id}",
        Op::new("keys", "Change a key (owner or admin)")
            .path("id", &id("key"))
            .body(r("KeyPatch"))
            .ok("The key as changed.", r("ApiKey"))
            .errors(&[400, 403, 404]),
    );
    add(p, "delete", "/api/keys/{id}", Op::new("keys", "Disable a key (owner or admin)")
        .describe("The key stops working at once; it stays listed (enabled: false) so the usage log keeps its name.")
        .path("id", &id("key"))
        .ok("The disabled key.", r("ApiKey"))
        .errors(&[403, 404]));

    // Channels
    add(
        p,
        "get",
        "/api/channels",
        Op::new("channels", "List channels (admin)")
            .ok("Channels, with key hints only.", list_of("Channel"))
            .errors(&[403]),
    );
    add(p, "post", "/api/channels", Op::new("channels", "Create a channel (admin)")
        .describe("Upstream keys are encrypted with the master key before storage and never shown again.")
        .body(r("ChannelCreate"))
        .created("The channel.", r("Channel"))
        .errors(&[400, 403, 409]));
    add(
        p,
        "get",
        "/api/channels/{id}",
        Op::new("channels", "Get a channel (admin)")
            .path("id", &id("channel"))
            .ok("The channel.", r("Channel"))
            .errors(&[403, 404]),
    );
    add(p, "patch", "/api/channels/{id}", Op::new("channels", "Change a channel (admin)")
        .describe("Only the fields given change; `keys` replaces all keys. `enabled: true` brings back an automatically disabled channel and clears the reason.")
        .path("id", &id("channel"))
        .body(r("ChannelPatch"))
        .ok("The channel as changed.", r("Channel"))
        .errors(&[400, 403, 404, 409]));
    add(
        p,
        "delete",
        "/api/channels/{id}",
        Op::new("channels", "Delete a channel (admin)")
            .path("id", &id("channel"))
            .ok("Deleted.", r("Deleted"))
            .errors(&[403, 404]),
    );
    add(p, "post", "/api/channels/{id}/test", Op::new("channels", "Test a channel (admin)")
        .describe("Sends a one-token, non-streamed chat to the provider with each of the channel's keys, disabled channels included. A refused key disables the channel automatically (status auto_disabled, with the reason).")
        .path("id", &id("channel"))
        .optional_body(r("ChannelTest"))
        .ok("The outcome (a failed test is still a 200).", r("ChannelTestResult"))
        .errors(&[400, 403, 404]));
    add(p, "post", "/api/channels/{id}/balance", Op::new("channels", "Refresh a channel's balance (admin)")
        .describe("Asks an OpenAI-compatible provider (typically another relay) for its legacy billing view, `/v1/dashboard/billing/subscription` and `/usage`, and keeps credit less usage as the channel's balance. 400 for kinds that have no such view; 502 when the provider does not answer it.")
        .path("id", &id("channel"))
        .ok("The balance now.", obj(&[("channel_id", t("string")), ("balance_usd", t("number")), ("balance_nano", t("integer")), ("balance_at", t("integer"))]))
        .errors(&[400, 403, 404, 502]));
    add(
        p,
        "post",
        "/api/channels/test",
        Op::new("channels", "Test every channel (admin)")
            .ok("One outcome per channel.", list_of("ChannelTestResult"))
            .errors(&[403]),
    );

    add(
        p,
        "get",
        "/api/channels/kinds",
        Op::new("channels", "Channel kinds and presets (admin)")
            .describe("Every `kind` a channel may have: its wire format (`openai`, `anthropic`, `gemini`, `video`), and for the OpenAI-compatible presets the base URL filled in when a channel leaves it out, whether a key is needed, and the provider's quirks the gateway handles.")
            .ok("The kinds.", obj(&[("data", arr(obj(&[("kind", t("string")), ("name", t("string")), ("wire", t("string")), ("base_url", nt("string")), ("key_required", t("boolean")), ("notes", nt("string"))])))]))
            .errors(&[403]),
    );

    // Prices
    add(p, "get", "/api/prices", Op::new("prices", "List prices")
        .describe("Any key. Integer nano-dollars, plus the same numbers in USD under `usd` for people.")
        .ok("Every price.", list_of("Price")));
    let model = "The model name or prefix pattern (may contain / and end in *).";
    add(
        p,
        "get",
        "/api/prices/{model}",
        Op::new("prices", "Get a price")
            .path("model", model)
            .ok("The price.", r("Price"))
            .errors(&[404]),
    );
    add(
        p,
        "put",
        "/api/prices/{model}",
        Op::new("prices", "Set a price (admin)")
            .describe("Replaces the model's price; amounts left out are zero.")
            .path("model", model)
            .body(r("PriceWrite"))
            .ok("The price.", r("Price"))
            .errors(&[400, 403]),
    );
    add(
        p,
        "delete",
        "/api/prices/{model}",
        Op::new("prices", "Delete a price (admin)")
            .describe(
                "A model without a price is refused by the relay (unless a pattern prices it).",
            )
            .path("model", model)
            .ok("Deleted.", r("Deleted"))
            .errors(&[403, 404]),
    );

    // Logs
    add(p, "get", "/api/logs", Op::new("logs", "The usage log")
        .describe("Newest first. Non-admins only see their own requests. Rows are written in batches, so a request appears within about a second.")
        .log_filters()
        .ok("A page of log rows.", r("LogPage"))
        .errors(&[400]));
    add(
        p,
        "get",
        "/api/logs/summary",
        Op::new("logs", "Usage totals")
            .describe("Totals over the rows the same filters select.")
            .log_filters()
            .ok("Totals.", r("UsageSummary"))
            .errors(&[400]),
    );
    add(
        p,
        "get",
        "/api/logs/stats",
        Op::new("logs", "Dashboard figures")
            .describe("Over the same filters (default: the last 24 hours): totals, a time series in `bucket_secs` buckets, and the top 10 models, keys, and for admins channels and users, by spend. Each group is `{key, name?, requests, errors, tokens_in, tokens_out, cost_nano, latency_ms}`.")
            .log_filters()
            .ok(
                "The figures.",
                obj(&[
                    ("since", t("integer")),
                    ("until", t("integer")),
                    ("bucket_secs", t("integer")),
                    ("totals", t("object")),
                    ("series", arr(t("object"))),
                    ("by_model", arr(t("object"))),
                    ("by_key", arr(t("object"))),
                ]),
            )
            .errors(&[400]),
    );
    add(
        p,
        "post",
        "/api/me/password",
        Op::new("users", "Change your console password")
            .describe(
                "Needs the current password when one is set. Ends every session of the account.",
            )
            .body(body_schema(users::OWN_PASSWORD))
            .answer(204, "Changed.", "application/json", json!({}))
            .errors(&[400, 403]),
    );
    add(
        p,
        "post",
        "/api/auth/login",
        Op::new("auth", "Sign in to the console")
            .describe("A name and password, or an API key. Sets the `sy_session` cookie (HttpOnly, SameSite=Strict, a week from last use) and answers the CSRF token to send as X-CSRF-Token with every write. Five failures per name and address in ten minutes lock further attempts for a while (429).")
            .public()
            .body(body_schema(crate::session::LOGIN))
            .ok("`{user{id, name, role, group}, csrf_token}`", session_schema())
            .errors(&[400, 429]),
    );
    add(
        p,
        "get",
        "/api/auth/session",
        Op::new("auth", "The signed-in user")
            .describe(
                "Who the session cookie belongs to, and its CSRF token. 401 when not signed in.",
            )
            .session()
            .ok("`{user, csrf_token}`", session_schema()),
    );
    add(
        p,
        "post",
        "/api/auth/logout",
        Op::new("auth", "Sign out")
            .describe("Ends the session (needs X-CSRF-Token) and clears the cookie.")
            .session()
            .answer(204, "Signed out.", "application/json", json!({}))
            .errors(&[403]),
    );
}

fn relay_paths(p: &mut Map<String, Value>) {
    let relay = [400, 403, 404, 413, 429, 502, 503];
    let json_call = |summary: &str, req: &str, resp: &str| {
        Op::new("relay", summary)
            .body(r(req))
            .ok("The provider's answer.", r(resp))
            .errors(&relay)
    };
    add(
        p,
        "get",
        "/healthz",
        Op::new("meta", "Liveness")
            .public()
            .answer(200, "The database answers.", "text/plain", t("string"))
            .answer(
                503,
                "The database is unavailable.",
                "text/plain",
                t("string"),
            ),
    );
    add(
        p,
        "get",
        "/v1/models",
        Op::new("relay", "Models this key may use")
            .describe("In OpenAI's shape; in Anthropic's when called with `x-api-key` and `anthropic-version`, in Gemini's with `x-goog-api-key` or `?key=`.")
            .ok("OpenAI's model list.", r("ModelList")),
    );
    add(
        p,
        "get",
        "/v1/models/{model}",
        Op::new("relay", "One model")
            .path("model", "Model name.")
            .ok("The model.", r("Model"))
            .errors(&[404]),
    );
    add(p, "post", "/v1/chat/completions", json_call("Chat completion", "ChatCompletionRequest", "ChatCompletion")
        .describe("OpenAI's chat API. With `stream: true` the answer is text/event-stream; usage is always metered.")
        .streams());
    add(
        p,
        "post",
        "/v1/completions",
        json_call("Legacy completion", "CompletionRequest", "Completion").streams(),
    );
    add(
        p,
        "post",
        "/v1/embeddings",
        json_call("Embeddings", "EmbeddingRequest", "EmbeddingList"),
    );
    add(
        p,
        "post",
        "/v1/moderations",
        json_call("Moderation", "ModerationRequest", "Moderation"),
    );
    add(
        p,
        "post",
        "/v1/images/generations",
        json_call("Image generation", "ImageRequest", "ImagesResponse"),
    );
    add(
        p,
        "post",
        "/v1/audio/speech",
        Op::new("relay", "Text to speech")
            .body(r("SpeechRequest"))
            .answer(
                200,
                "The audio.",
                "application/octet-stream",
                json!({"type": "string", "contentMediaType": "application/octet-stream"}),
            )
            .errors(&relay),
    );
    for (path, summary) in [
        ("/v1/audio/transcriptions", "Speech to text"),
        ("/v1/audio/translations", "Speech to English text"),
    ] {
        let mut op = Op::new("relay", summary)
            .ok("The text.", r("Transcription"))
            .errors(&relay);
        op.0["requestBody"] = json!({"required": true, "content": {"multipart/form-data": {"schema": r("TranscriptionRequest")}}});
        add(p, "post", path, op);
    }
    for prefix in ["/v1", ""] {
        add(
            p,
            "get",
            &format!("{prefix}/dashboard/billing/subscription"),
            Op::new("billing", "Legacy balance view")
                .describe("The key's quota when it has one, else the owner's balance, in USD.")
                .ok(
                    "OpenAI's legacy subscription object.",
                    r("BillingSubscription"),
                ),
        );
        add(
            p,
            "get",
            &format!("{prefix}/dashboard/billing/usage"),
            Op::new("billing", "Legacy usage view").ok("Total usage in cents.", r("BillingUsage")),
        );
    }
}

/// Video tasks: the front doors and the task API.
fn task_paths(p: &mut Map<String, Value>) {
    let any = |d: &str| json!({"type": "object", "description": d});
    let submit = [400, 403, 404, 429, 502, 503];
    add(p, "get", "/api/tasks", {
        let mut op = Op::new("tasks", "Tasks").describe("Newest first; non-admins see only their own. Each carries `answer`, the task as its front door renders it.");
        for (name, ty, d) in tasks::PARAMS {
            op = op.param(name, "query", ty, d);
        }
        op.ok(
            "`{data: [task], total}`: a page, and how many match in all.",
            any("A page of tasks."),
        )
        .errors(&[400])
    });
    add(
        p,
        "get",
        "/api/tasks/{id}",
        Op::new("tasks", "One task, with its webhook deliveries")
            .path("id", "Task id.")
            .ok("The task.", any("A task and `deliveries`."))
            .errors(&[404]),
    );
    add(
        p,
        "post",
        "/api/tasks/{id}/cancel",
        Op::new("tasks", "Cancel a task (refunds its hold)")
            .path("id", "Task id.")
            .ok("The task.", any("The cancelled task."))
            .errors(&[404]),
    );
    add(
        p,
        "get",
        "/api/me/webhook-secret",
        Op::new("tasks", "Your webhook signing secret").ok(
            "The secret and the signature scheme.",
            any("`{secret, header, scheme}`"),
        ),
    );
    add(p, "post", "/v1/video/generations", Op::new("video", "Submit a video (any video model)")
        .body(any("`{model, prompt, image?, image_end?, duration?, aspect_ratio?, resolution?, loop?, negative_prompt?, seed?, notify_hook?}`"))
        .ok("`{code, message, data{task_id, status, progress, url…}}`", any("The task.")).errors(&submit));
    add(
        p,
        "get",
        "/v1/video/generations/{id}",
        Op::new("video", "A video task")
            .path("id", "Task id.")
            .ok("The task.", any("`{code, data}`"))
            .errors(&[404]),
    );
    add(
        p,
        "get",
        "/v1/videos",
        Op::new("video", "Your videos (OpenAI Videos API)")
            .param("after", "query", "string", "Cursor: a video id.")
            .param("limit", "query", "integer", "1–100.")
            .ok(
                "A list of video objects.",
                any("`{object: list, data, has_more}`"),
            ),
    );
    add(
        p,
        "post",
        "/v1/videos",
        Op::new("video", "Create a video (OpenAI Videos API)")
            .body(any("`{model, prompt, seconds, size}`"))
            .ok("The video object.", any("OpenAI's video object."))
            .errors(&submit),
    );
    add(
        p,
        "get",
        "/v1/videos/{id}",
        Op::new("video", "A video (OpenAI Videos API)")
            .path("id", "Task id.")
            .ok("The video object.", any("OpenAI's video object."))
            .errors(&[404]),
    );
    add(
        p,
        "delete",
        "/v1/videos/{id}",
        Op::new("video", "Delete (cancel) a video")
            .path("id", "Task id.")
            .ok("Deleted.", any("`{id, object: video.deleted, deleted}`"))
            .errors(&[404]),
    );
    add(
        p,
        "get",
        "/v1/videos/{id}/content",
        Op::new("video", "The finished video's bytes")
            .describe(
                "Authenticated by key, or by the signed `token` in links the gateway hands out.",
            )
            .path("id", "Task id.")
            .param(
                "variant",
                "query",
                "string",
                "video (default) or thumbnail.",
            )
            .param("token", "query", "string", "Signature from a gateway link.")
            .answer(
                200,
                "The media.",
                "video/mp4",
                json!({"type": "string", "contentMediaType": "video/mp4"}),
            )
            .errors(&[404, 409]),
    );
}

/// The native front doors: each provider's own request, answer and error shapes.
fn native_paths(p: &mut Map<String, Value>) {
    let any = |d: &str| json!({"type": "object", "description": d});
    let submit = [400, 403, 404, 429, 502, 503];
    let luma_error = any("Luma's error: `{detail}`.");
    let runway_error = any("Runway's error: `{error}`.");
    let kling_error = any("Kling's error: `{code (non-zero), message, request_id}`.");
    let luma_generation = any("A generation in the legacy relay format: `{id, prompt, state (pending/processing/completed/failed), queue_state, created_at, batch_id, video{url,width,height,thumbnail,download_url}, video_raw, liked, estimate_wait_seconds, thumbnail, last_frame}`.");
    add(p, "post", "/luma/generations", Op::new("video", "Create a generation (Luma legacy relay format)")
        .body(any("`{user_prompt, aspect_ratio?, expand_prompt?, loop?, image_url?, image_end_url?, notify_hook?, model_name?, resolution?, duration?, model? (any video model; default luma-video)}`"))
        .ok("The generation.", luma_generation.clone()).errors_as(&submit, &luma_error));
    add(
        p,
        "get",
        "/luma/generations/{id}",
        Op::new("video", "A generation (Luma legacy relay format)")
            .path("id", "Task id.")
            .ok("The generation.", luma_generation)
            .errors_as(&[404], &luma_error),
    );
    let runway_body = "`{model?, promptText, ratio? (1280:720…), duration?, seed?, notifyHook?}`";
    for (path, summary, body) in [
        (
            "/runwayml/v1/image_to_video",
            "Image to video (Runway)",
            format!("{runway_body} plus `promptImage`: a URL or `[{{uri, position: first|last}}]`"),
        ),
        (
            "/runwayml/v1/text_to_video",
            "Text to video (Runway)",
            format!("{runway_body} plus `negativePrompt?`"),
        ),
    ] {
        add(
            p,
            "post",
            path,
            Op::new("video", summary)
                .body(any(&body))
                .ok("`{id}`", any("The task id."))
                .errors_as(&submit, &runway_error),
        );
    }
    add(p, "get", "/runwayml/v1/tasks/{id}", Op::new("video", "A task (Runway)").path("id", "Task id.")
        .ok("Runway's task object.", any("`{id, createdAt, status (PENDING/RUNNING/SUCCEEDED/FAILED/CANCELLED), progress?, output?, failure?, failureCode?}`"))
        .errors_as(&[404], &runway_error));
    add(
        p,
        "delete",
        "/runwayml/v1/tasks/{id}",
        Op::new("video", "Cancel a task (Runway); refunds its hold")
            .path("id", "Task id.")
            .answer(
                204,
                "Cancelled (or already ended).",
                "application/json",
                any("No body."),
            )
            .errors_as(&[404], &runway_error),
    );
    let kling_task = any("`{code: 0, message: SUCCEED, request_id, data{task_id, task_status (submitted/processing/succeed/failed), task_status_msg, created_at, updated_at, task_result{videos[{id, url, duration}]}}}`");
    let kling_body = "`{model_name?, prompt, negative_prompt?, aspect_ratio?, duration? (\"5\"|\"10\"), mode? (std|pro), callback_url?}`";
    for (path, summary, body) in [
        (
            "/kling/v1/videos/text2video",
            "Text to video (Kling)",
            kling_body.to_string(),
        ),
        (
            "/kling/v1/videos/image2video",
            "Image to video (Kling)",
            format!("{kling_body} plus `image`, `image_tail?`"),
        ),
    ] {
        add(
            p,
            "post",
            path,
            Op::new("video", summary)
                .body(any(&body))
                .ok("The task.", kling_task.clone())
                .errors_as(&submit, &kling_error),
        );
    }
    add(
        p,
        "get",
        "/kling/v1/videos/{family}/{task_id}",
        Op::new("video", "A task (Kling)")
            .path("family", "text2video or image2video.")
            .path("task_id", "Task id.")
            .ok("The task.", kling_task)
            .errors_as(&[404], &kling_error),
    );
}

/// The Anthropic and Gemini front doors: their SDKs' requests, answers and errors, relayed
/// to any channel.
fn provider_paths(p: &mut Map<String, Value>) {
    let any = |d: &str| json!({"type": "object", "description": d});
    let codes = [400, 403, 404, 413, 429, 502, 503];
    let anthropic_error = any("Anthropic's error: `{type: \"error\", error: {type, message}}`.");
    let gemini_error = any("Google's error: `{error: {code, message, status}}`.");
    let anthropic = |summary: &str| {
        Op::new("relay", summary)
            .describe("Key as `x-api-key` or Bearer; `anthropic-version` and `anthropic-beta` are passed on to Anthropic channels.")
            .param("anthropic-version", "header", "string", "Anthropic API version, e.g. 2023-06-01.")
    };
    add(p, "post", "/v1/messages", anthropic("Create a message (Anthropic Messages API, any model)")
        .body(any("Anthropic's Messages request: `{model, max_tokens, messages, system?, tools?, tool_choice?, stop_sequences?, temperature?, top_p?, thinking?, metadata?, stream?}`."))
        .ok("A Message: `{id, type, role, model, content[], stop_reason, stop_sequence, usage}`.", any("Anthropic's Message."))
        .answer(200, "A Message, or with `stream: true` Anthropic's events (message_start … message_stop).", "text/event-stream", json!({"type": "string"}))
        .errors_as(&codes, &anthropic_error));
    add(
        p,
        "post",
        "/v1/messages/count_tokens",
        anthropic("Count a message's input tokens (the gateway's estimate)")
            .body(any("A Messages request."))
            .ok("`{input_tokens}`.", obj(&[("input_tokens", t("integer"))]))
            .errors_as(&[400], &anthropic_error),
    );
    let generate = |summary: &str, param: &str| {
        Op::new("relay", summary)
            .describe("Key as `x-goog-api-key`, `?key=` or Bearer. The last path segment is `MODEL:generateContent`, `MODEL:streamGenerateContent` (`?alt=sse` for server-sent events, else one JSON array) or `MODEL:countTokens`.")
            .path(param, "`MODEL:ACTION`.")
            .body(any("A GenerateContentRequest: `{contents, systemInstruction?, tools?, toolConfig?, generationConfig?, safetySettings?}`."))
            .ok("A GenerateContentResponse: `{candidates, usageMetadata, modelVersion, responseId}`.", any("Gemini's response."))
            .errors_as(&codes, &gemini_error)
    };
    add(
        p,
        "post",
        "/v1beta/models/{target}",
        generate("Generate content (Gemini API, any model)", "target"),
    );
    add(
        p,
        "post",
        "/v1/models/{model}",
        generate("Generate content (Gemini API v1 paths, any model)", "model"),
    );
    add(
        p,
        "get",
        "/v1beta/models",
        Op::new("relay", "Models this key may use, in Gemini's shape")
            .ok(
                "`{models: [{name: \"models/…\", displayName, supportedGenerationMethods}]}`.",
                any("Gemini's model list."),
            )
            .errors_as(&[], &gemini_error),
    );
    add(
        p,
        "get",
        "/v1beta/models/{target}",
        Op::new("relay", "One model, in Gemini's shape")
            .path("target", "Model name.")
            .ok("The model.", any("Gemini's model."))
            .errors_as(&[404], &gemini_error),
    );
}

pub(crate) fn build() -> Value {
    let mut paths = Map::new();
    admin_paths(&mut paths);
    relay_paths(&mut paths);
    task_paths(&mut paths);
    native_paths(&mut paths);
    provider_paths(&mut paths);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Switchyard",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "An OpenAI-compatible relay gateway (/v1) and its admin API (/api). Authenticate with an API key: `Authorization: Bearer sk-…`. Money is integer nano-dollars (1e-9 USD) in fields ending _nano. Errors are OpenAI's error JSON.",
        },
        "security": [{"bearer": []}],
        "tags": [
            {"name": "users"}, {"name": "keys"}, {"name": "channels"}, {"name": "prices"},
            {"name": "logs"}, {"name": "tasks"}, {"name": "auth"}, {"name": "relay"}, {"name": "video"},
            {"name": "billing"}, {"name": "meta"},
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A Switchyard API key (sk-…). Every /api route also takes the console's session cookie; writes made with the cookie must carry the session's token in X-CSRF-Token."},
                "session": {"type": "apiKey", "in": "cookie", "name": "sy_session", "description": "The console's session, from POST /api/auth/login."}
            },
            "schemas": schemas(),
        },
    })
}
