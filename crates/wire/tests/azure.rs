//! Azure OpenAI URL building, as Azure's REST reference spells its endpoints.

use switchyard_wire::azure::{url, DEFAULT_API_VERSION, KEY_HEADER};

#[test]
fn deployment_urls_carry_the_api_version() {
    assert_eq!(
        url("https://myresource.openai.azure.com", "gpt-4o", "/v1/chat/completions"),
        format!("https://myresource.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version={DEFAULT_API_VERSION}")
    );
    // A pinned version, a trailing slash and a base that already ends in /openai.
    assert_eq!(
        url("https://myresource.openai.azure.com/?api-version=2024-06-01", "emb", "/v1/embeddings"),
        "https://myresource.openai.azure.com/openai/deployments/emb/embeddings?api-version=2024-06-01"
    );
    assert_eq!(
        url("https://myresource.openai.azure.com/openai", "dalle3", "/v1/images/generations"),
        format!("https://myresource.openai.azure.com/openai/deployments/dalle3/images/generations?api-version={DEFAULT_API_VERSION}")
    );
    assert_eq!(
        url("https://x.openai.azure.com?foo=1&api-version=2025-04-01-preview", "whisper", "/v1/audio/transcriptions"),
        "https://x.openai.azure.com/openai/deployments/whisper/audio/transcriptions?api-version=2025-04-01-preview"
    );
}

#[test]
fn the_v1_api_takes_no_deployment() {
    assert_eq!(
        url(
            "https://myresource.openai.azure.com/openai/v1/",
            "gpt-4o",
            "/v1/chat/completions"
        ),
        "https://myresource.openai.azure.com/openai/v1/chat/completions"
    );
    assert_eq!(
        url(
            "https://myresource.openai.azure.com/openai/v1?api-version=preview",
            "gpt-4o",
            "/v1/responses"
        ),
        "https://myresource.openai.azure.com/openai/v1/responses?api-version=preview"
    );
}

#[test]
fn the_key_goes_in_api_key() {
    assert_eq!(KEY_HEADER, "api-key");
}
