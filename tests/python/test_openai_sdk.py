"""Black-box tests: the official `openai` SDK against `switchyard serve --demo`.

The demo's upstream is the built-in simulator, which is deterministic: the same request
always gets the same text, so a streamed answer can be compared with a plain one.
"""

from __future__ import annotations

import base64
import json
import secrets

import httpx
import openai
import pytest

from conftest import Gateway

MINI = "gpt-4o-mini"
HELLO = [{"role": "user", "content": "Say hello to Switchyard"}]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
        },
    },
}


def assert_error_shape(body: dict) -> dict:
    """OpenAI's error JSON: `{"error": {"message", "type", "param", "code"}}`."""
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"message", "type", "param", "code"}, err
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["type"], str) and err["type"]
    return err


# --- models -------------------------------------------------------------------------------


def test_models_list(client):
    owners = {m.id: m.owned_by for m in client.models.list()}
    assert {"gpt-4o-mini", "gpt-4o", "text-embedding-3-small"} <= owners.keys()
    # owned_by names the provider kind that serves the model, as relays report it.
    assert owners["gpt-4o-mini"] == "openai"
    assert owners["claude-sonnet-4-5"] == "anthropic"
    assert owners["runway-video"] == "runway"
    assert client.models.retrieve("veo-3").owned_by == "veo"


def test_models_list_respects_key_restrictions(gateway: Gateway):
    ids = [m.id for m in gateway.client(gateway.limited_key).models.list()]
    assert ids == [MINI]


def test_model_retrieve(client):
    assert client.models.retrieve(MINI).id == MINI
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


# --- chat -----------------------------------------------------------------------------------


def test_chat_completion(client):
    r = client.chat.completions.create(model=MINI, messages=HELLO)
    assert r.object == "chat.completion"
    assert r.model == MINI
    text = r.choices[0].message.content
    assert text and text.strip()
    assert r.choices[0].finish_reason == "stop"
    assert r.usage is not None
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_chat_stream_matches_plain_answer(client):
    plain = client.chat.completions.create(model=MINI, messages=HELLO)
    chunks = list(client.chat.completions.create(model=MINI, messages=HELLO, stream=True))
    assert chunks, "no chunks"
    # Usage is always asked of the provider, but the caller did not ask for it:
    # the usage-only chunk (choices == []) must not reach them.
    assert all(c.choices for c in chunks), [c for c in chunks if not c.choices]
    assert all(c.usage is None for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == plain.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_chat_stream_include_usage(client):
    plain = client.chat.completions.create(model=MINI, messages=HELLO)
    chunks = list(
        client.chat.completions.create(
            model=MINI,
            messages=HELLO,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.prompt_tokens == plain.usage.prompt_tokens
    assert last.usage.completion_tokens == plain.usage.completion_tokens
    # Only the final chunk is usage-only.
    assert all(c.choices for c in chunks[:-1])
    text = "".join(c.choices[0].delta.content or "" for c in chunks[:-1])
    assert text == plain.choices[0].message.content


def test_chat_max_tokens_truncates(client):
    r = client.chat.completions.create(model=MINI, messages=HELLO, max_tokens=3)
    assert r.choices[0].finish_reason == "length"
    assert r.usage.completion_tokens == 3


def test_tool_call_round_trip(client):
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = client.chat.completions.create(model=MINI, messages=messages, tools=[WEATHER_TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert calls and len(calls) == 1
    call = calls[0]
    assert call.type == "function"
    assert call.function.name == "get_weather"
    args = json.loads(call.function.arguments)
    assert set(args) == {"city", "unit"}
    assert args["unit"] in ("celsius", "fahrenheit")

    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append(
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temp_c": 21})}
    )
    final = client.chat.completions.create(model=MINI, messages=messages, tools=[WEATHER_TOOL])
    assert final.choices[0].finish_reason == "stop"
    assert not final.choices[0].message.tool_calls
    assert final.choices[0].message.content


def test_streamed_tool_call(client):
    messages = [{"role": "user", "content": "Weather in Oslo?"}]
    plain = client.chat.completions.create(model=MINI, messages=messages, tools=[WEATHER_TOOL])
    stream = client.chat.completions.create(
        model=MINI, messages=messages, tools=[WEATHER_TOOL], stream=True
    )
    name, arguments = None, ""
    for chunk in stream:
        for tc in chunk.choices[0].delta.tool_calls or []:
            name = tc.function.name or name
            arguments += tc.function.arguments or ""
    expected = plain.choices[0].message.tool_calls[0].function
    assert name == expected.name
    assert json.loads(arguments) == json.loads(expected.arguments)


def test_legacy_completions(client):
    r = client.completions.create(model=MINI, prompt="Say hi")
    assert r.choices[0].text
    assert r.usage.completion_tokens > 0


# --- other endpoints ---------------------------------------------------------------------------


def test_embeddings_default_base64(client):
    # The SDK asks for base64 by default and decodes it back to floats.
    r = client.embeddings.create(model="text-embedding-3-small", input=["hello", "world"])
    assert [d.index for d in r.data] == [0, 1]
    for d in r.data:
        assert len(d.embedding) == 1536
        assert all(isinstance(x, float) for x in d.embedding[:8])
    assert r.data[0].embedding != r.data[1].embedding
    assert r.usage.prompt_tokens > 0


def test_embeddings_dimensions_and_float(client):
    r = client.embeddings.create(model="text-embedding-3-small", input="hello", dimensions=256)
    assert len(r.data[0].embedding) == 256
    f = client.embeddings.create(
        model="text-embedding-3-large", input="hello", encoding_format="float"
    )
    assert len(f.data[0].embedding) == 3072


def test_moderations(client):
    bad = client.moderations.create(model="omni-moderation-latest", input="I will kill it")
    assert bad.results[0].flagged is True
    assert bad.results[0].categories.violence is True
    # Without a model the gateway uses omni-moderation-latest.
    ok = client.moderations.create(input="What a lovely day")
    assert ok.results[0].flagged is False


def test_images_generate(client):
    r = client.images.generate(model="dall-e-2", prompt="a red bicycle", n=2)
    assert len(r.data) == 2
    assert all(d.url for d in r.data)
    b = client.images.generate(model="dall-e-3", prompt="a red bicycle", response_format="b64_json")
    assert base64.b64decode(b.data[0].b64_json).startswith(b"\x89PNG")


def test_audio_speech_and_transcription(client, tmp_path):
    speech = client.audio.speech.create(model="tts-1", voice="alloy", input="Hello world")
    audio = speech.content
    assert len(audio) > 0
    path = tmp_path / "hello.mp3"
    path.write_bytes(audio)
    with path.open("rb") as f:
        t = client.audio.transcriptions.create(model="whisper-1", file=f)
    assert t.text


# --- errors ----------------------------------------------------------------------------------


def test_bad_key_is_authentication_error(gateway: Gateway):
    bad = gateway.client("sk-not-a-real-key")
    with pytest.raises(openai.AuthenticationError) as ei:
        bad.chat.completions.create(model=MINI, messages=HELLO)
    assert ei.value.status_code == 401
    assert ei.value.code == "invalid_api_key"
    assert ei.value.request_id


def test_unknown_model_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as ei:
        client.chat.completions.create(model="gpt-does-not-exist", messages=HELLO)
    assert ei.value.status_code == 404
    assert ei.value.code == "model_not_found"
    assert ei.value.param == "model"


def test_broke_user_gets_insufficient_quota(gateway: Gateway):
    broke = gateway.client(gateway.broke_key)
    with pytest.raises(openai.RateLimitError) as ei:
        broke.chat.completions.create(model=MINI, messages=HELLO)
    assert ei.value.status_code == 429
    assert ei.value.code == "insufficient_quota"
    assert ei.value.type == "insufficient_quota"
    # Streams are refused the same way, before anything is sent.
    with pytest.raises(openai.RateLimitError):
        broke.chat.completions.create(model=MINI, messages=HELLO, stream=True)


def test_free_model_needs_no_balance(gateway: Gateway):
    # The demo prices omni-moderation-latest as free: nothing to hold, so it works at $0.
    r = gateway.client(gateway.broke_key).moderations.create(input="hello")
    assert r.results[0].flagged is False


def test_key_model_restriction(gateway: Gateway):
    limited = gateway.client(gateway.limited_key)
    with pytest.raises(openai.PermissionDeniedError) as ei:
        limited.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert ei.value.status_code == 403
    assert ei.value.code == "model_not_allowed"
    # The model it is allowed works, within its $1 balance.
    r = limited.chat.completions.create(model=MINI, messages=HELLO)
    assert r.choices[0].message.content


def test_raw_response_has_request_id(client):
    raw = client.chat.completions.with_raw_response.create(model=MINI, messages=HELLO)
    rid = raw.headers.get("x-request-id")
    assert rid and rid.startswith("req_")
    assert raw.request_id == rid
    assert raw.parse().choices[0].message.content
    other = client.models.with_raw_response.list()
    assert other.headers.get("x-request-id") not in (None, rid)


def test_bad_json_is_400_with_error_shape(gateway: Gateway):
    r = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={
            "Authorization": f"Bearer {gateway.root_key}",
            "Content-Type": "application/json",
        },
        content=b'{"model": "gpt-4o-mini", "messages": [',
        timeout=30,
    )
    assert r.status_code == 400
    assert r.headers.get("x-request-id")
    err = assert_error_shape(r.json())
    assert err["type"] == "invalid_request_error"
    assert err["code"] == "invalid_json"


def test_missing_field_is_400(gateway: Gateway):
    r = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {gateway.root_key}"},
        json={"messages": HELLO},
        timeout=30,
    )
    assert r.status_code == 400
    assert assert_error_shape(r.json())["param"] == "model"


def test_unknown_route_is_404_in_error_shape(gateway: Gateway):
    r = httpx.get(
        f"{gateway.url}/v1/no/such/thing",
        headers={"Authorization": f"Bearer {gateway.root_key}"},
        timeout=30,
    )
    assert r.status_code == 404
    assert assert_error_shape(r.json())["code"] == "unknown_url"


# --- authentication styles and legacy billing ------------------------------------------------


@pytest.mark.parametrize(
    "how", ["bearer", "x-api-key", "x-goog-api-key", "query"]
)
def test_key_in_any_supported_place(gateway: Gateway, how: str):
    key = gateway.root_key
    headers, params = {}, {}
    if how == "bearer":
        headers["Authorization"] = f"Bearer {key}"
    elif how == "query":
        params["key"] = key
    else:
        headers[how] = key
    r = httpx.get(f"{gateway.url}/v1/models/{MINI}", headers=headers, params=params, timeout=30)
    assert r.status_code == 200, r.text
    # The answer takes the shape of the SDK that sends its key that way (Google's for
    # x-goog-api-key and ?key=; x-api-key without anthropic-version stays OpenAI's).
    if how in ("x-goog-api-key", "query"):
        assert r.json()["name"] == f"models/{MINI}"
    else:
        assert r.json()["id"] == MINI


@pytest.mark.parametrize("prefix", ["", "/v1"])
def test_legacy_billing_endpoints(gateway: Gateway, client, prefix: str):
    auth = {"Authorization": f"Bearer {gateway.root_key}"}
    sub = httpx.get(f"{gateway.url}{prefix}/dashboard/billing/subscription", headers=auth)
    assert sub.status_code == 200, sub.text
    s = sub.json()
    assert s["object"] == "billing_subscription"
    # Remaining balance + spent: the root user started with the demo's $100.
    assert s["hard_limit_usd"] == pytest.approx(100.0, abs=1e-6)

    def used() -> float:
        r = httpx.get(f"{gateway.url}{prefix}/dashboard/billing/usage", headers=auth)
        assert r.status_code == 200, r.text
        assert r.json()["object"] == "list"
        return r.json()["total_usage"]

    before = used()
    # A non-streamed answer is settled before it is returned, so usage has grown at once.
    client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert used() > before


def test_legacy_billing_needs_a_key(gateway: Gateway):
    r = httpx.get(f"{gateway.url}/dashboard/billing/subscription")
    assert r.status_code == 401
    assert assert_error_shape(r.json())["code"] == "invalid_api_key"


# --- console sign-in set up from the command line --------------------------------------------


def test_cli_password_signs_in_to_the_console(gateway: Gateway):
    """An operator sets a password with `switchyard user passwd` beside the running gateway;
    the console's sign-in takes it, and a wrong one is refused."""
    from conftest import _binary, _clean_env, _cli

    password = "correct horse battery staple"
    env = dict(_clean_env(), SWITCHYARD_PASSWORD=password)
    _cli(_binary(), env, "user", "passwd", "--name", "broke", "--data-dir", str(gateway.data_dir))

    with httpx.Client(base_url=gateway.url, timeout=30) as http:
        bad = http.post("/api/auth/login", json={"username": "broke", "password": "nope-nope-nope"})
        assert bad.status_code == 401
        r = http.post("/api/auth/login", json={"username": "broke", "password": password})
        assert r.status_code == 200, r.text
        assert r.json()["user"]["name"] == "broke"
        assert "sy_session" in r.cookies
        me = http.get("/api/auth/session")
        assert me.status_code == 200 and me.json()["user"]["name"] == "broke"


def test_root_password_from_the_environment(tmp_path):
    """`SWITCHYARD_ROOT_PASSWORD` gives root a console password at start; a restart with the
    same password keeps root's sessions, and a restart with another one replaces it."""
    from conftest import _binary, _clean_env, start_gateway

    first, second = "first password for root", "second password for root"

    def run(password: str):
        log_path = tmp_path / f"gateway-{secrets.token_hex(4)}.log"
        log = open(log_path, "w")
        env = dict(_clean_env(), SWITCHYARD_ROOT_PASSWORD=password)
        proc, url = start_gateway(_binary(), env, tmp_path / "data", log, log_path)
        return proc, url, log

    def stop(proc, log):
        proc.terminate()
        proc.wait(timeout=10)
        log.close()

    def login(url: str, password: str) -> httpx.Response:
        return httpx.post(f"{url}/api/auth/login", json={"username": "root", "password": password},
                          timeout=30)

    proc, url, log = run(first)
    try:
        assert login(url, "not the password").status_code == 401
        r = login(url, first)
        assert r.status_code == 200, r.text
        assert r.json()["user"]["role"] == "root"
        cookie = r.cookies["sy_session"]
    finally:
        stop(proc, log)

    proc, url, log = run(first)
    try:
        me = httpx.get(f"{url}/api/auth/session", cookies={"sy_session": cookie}, timeout=30)
        assert me.status_code == 200, me.text
        assert me.json()["user"]["role"] == "root"
    finally:
        stop(proc, log)

    proc, url, log = run(second)
    try:
        assert login(url, first).status_code == 401
        assert login(url, second).status_code == 200
    finally:
        stop(proc, log)


def test_relay_goes_through_the_proxy_the_environment_names(tmp_path):
    """With `HTTP_PROXY` set, relayed requests reach the provider through that proxy (the
    gateway's own fast client is used only without one), and the caller sees no difference."""
    import http.client
    import http.server
    import threading
    from urllib.parse import urlsplit

    from conftest import _binary, _clean_env, start_gateway

    seen: list[str] = []

    class Forward(http.server.BaseHTTPRequestHandler):
        """A forward proxy for plain http: the request line carries the absolute URL."""

        def do_POST(self):
            self._forward()

        def do_GET(self):
            self._forward()

        def _forward(self):
            seen.append(f"{self.command} {self.path}")
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("proxy-connection", "connection", "host")}
            upstream = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
            upstream.request(self.command, url.path + (f"?{url.query}" if url.query else ""),
                             body or None, headers)
            answer = upstream.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for k, v in answer.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_):
            pass

    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    root_key = "sk-test-root-" + secrets.token_hex(16)
    env = dict(_clean_env(), SWITCHYARD_ROOT_KEY=root_key,
               HTTP_PROXY=f"http://127.0.0.1:{proxy.server_address[1]}")
    for k in ("NO_PROXY", "no_proxy"):
        env.pop(k, None)
    log_path = tmp_path / "gateway.log"
    log = open(log_path, "w")
    proc, url = start_gateway(_binary(), env, tmp_path / "data", log, log_path)
    try:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=root_key, max_retries=0)
        answer = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hello through a proxy"}])
        assert answer.choices[0].message.content
        assert answer.usage.prompt_tokens > 0
        assert any(s.startswith("POST http://127.0.0.1:") and s.endswith("/v1/chat/completions")
                   for s in seen), seen
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        proxy.shutdown()
