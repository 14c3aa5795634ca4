//! Azure OpenAI: OpenAI's bodies, sent to a deployment with an `api-version` and an
//! `api-key` header.
//!
//! A channel's base URL is the resource endpoint, `https://NAME.openai.azure.com`, optionally
//! with `?api-version=…` to pin a version; the deployment is the model's upstream name (a
//! channel's `model_map` maps model names to deployment names). A base URL ending in
//! `/openai/v1` uses Azure's v1 API instead: no deployment in the path, no `api-version`.

/// The header carrying the key.
pub const KEY_HEADER: &str = "api-key";

/// The GA version used when the base URL pins none.
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

/// The URL of an OpenAI `path` (e.g. `/v1/chat/completions`) on `deployment`.
pub fn url(base_url: &str, deployment: &str, path: &str) -> String {
    let (base, query) = match base_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (base_url, None),
    };
    let base = base.trim_end_matches('/');
    let op = path.strip_prefix("/v1").unwrap_or(path);
    if base.ends_with("/openai/v1") {
        return match query {
            Some(q) => format!("{base}{op}?{q}"),
            None => format!("{base}{op}"),
        };
    }
    let base = base.strip_suffix("/openai").unwrap_or(base);
    let version = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|kv| kv.strip_prefix("api-version="))
        .unwrap_or(DEFAULT_API_VERSION);
    format!("{base}/openai/deployments/{deployment}{op}?api-version={version}")
}
