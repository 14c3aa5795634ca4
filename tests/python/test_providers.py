"""Black-box tests: the official `openai`, `anthropic` and `google-genai` SDKs against
`switchyard serve --demo`, across providers.

The demo serves `claude-sonnet-4-5` from an `anthropic` channel and `gemini-2.5-flash` from a
`gemini` channel, both on the built-in simulator, beside the OpenAI models. The simulator
acknowledges images in its reply ("[1 image]"), so a reply proves the image arrived in the
provider's own shape.
"""

from __future__ import annotations

import base64
import json

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from conftest import Gateway

# The issue names this model; the Anthropic SDK warns that it is being retired upstream.
pytestmark = pytest.mark.filterwarnings(
    "ignore:The model 'claude-sonnet-4-5' is deprecated:DeprecationWarning"
)

CLAUDE = "claude-sonnet-4-5"
GEMINI = "gemini-2.5-flash"
MINI = "gpt-4o-mini"

# A 1×1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PNG_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()

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

ANTHROPIC_WEATHER = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": WEATHER_TOOL["function"]["parameters"],
}


@pytest.fixture(scope="module")
def claude_sdk(gateway: Gateway) -> anthropic.Anthropic:
    """The official Anthropic SDK, pointed at the gateway (it sends `x-api-key`)."""
    return anthropic.Anthropic(base_url=gateway.url, api_key=gateway.root_key, max_retries=0)


def gemini_sdk(gateway: Gateway, key: str | None = None) -> genai.Client:
    """The official Google Gen AI SDK, pointed at the gateway (it sends `x-goog-api-key`)."""
    return genai.Client(
        api_key=key or gateway.root_key,
        http_options=types.HttpOptions(base_url=gateway.url, timeout=30_000),
    )


# --- openai SDK → Claude and Gemini ---------------------------------------------------------


@pytest.mark.parametrize("model", [CLAUDE, GEMINI])
def test_openai_chat(client, model):
    r = client.chat.completions.create(
        model=model,
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Say hello to Switchyard"},
        ],
    )
    assert r.object == "chat.completion"
    assert r.model == model
    assert r.choices[0].message.content.startswith("Simulated reply to: Say hello to Switchyard")
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


@pytest.mark.parametrize("model", [CLAUDE, GEMINI])
def test_openai_stream_with_usage(client, model):
    messages = [{"role": "user", "content": "Tell me a story"}]
    plain = client.chat.completions.create(model=model, messages=messages)
    chunks = list(
        client.chat.completions.create(
            model=model, messages=messages, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    last = chunks[-1]
    assert last.choices == []
    assert last.usage.prompt_tokens == plain.usage.prompt_tokens
    assert last.usage.completion_tokens == plain.usage.completion_tokens
    # Without include_usage, no usage-only chunk reaches the caller.
    bare = list(client.chat.completions.create(model=model, messages=messages, stream=True))
    assert all(c.choices for c in bare)


@pytest.mark.parametrize("model", [CLAUDE, GEMINI])
def test_openai_tool_call_round_trip(client, model):
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls
    assert call.id and call.type == "function"
    assert call.function.name == "get_weather"
    args = json.loads(call.function.arguments)
    assert args["unit"] in ("celsius", "fahrenheit") and args["city"]

    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temp_c": 21})})
    final = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.content

    # The same call, streamed: the arguments arrive in pieces that join to the same JSON.
    chunks = list(
        client.chat.completions.create(model=model, messages=messages[:1], tools=[WEATHER_TOOL], stream=True)
    )
    deltas = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert deltas[0].function.name == "get_weather" and deltas[0].id
    assert json.loads("".join(d.function.arguments or "" for d in deltas)) == args
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("model", [CLAUDE, GEMINI])
def test_openai_image_part(client, model):
    r = client.chat.completions.create(
        model=model,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this picture?"},
                    {"type": "image_url", "image_url": {"url": PNG_URI}},
                ],
            }
        ],
    )
    assert r.choices[0].message.content.startswith("Simulated reply to: [1 image] What is in")


# --- anthropic SDK → /v1/messages -----------------------------------------------------------


@pytest.mark.parametrize("model", [MINI, CLAUDE])
def test_anthropic_message(claude_sdk, model):
    m = claude_sdk.messages.create(
        model=model,
        max_tokens=200,
        system="You are terse.",
        messages=[{"role": "user", "content": "Say hello to Switchyard"}],
    )
    assert m.type == "message" and m.role == "assistant"
    assert m.model == model
    [block] = m.content
    assert block.type == "text"
    assert block.text.startswith("Simulated reply to: Say hello to Switchyard")
    assert m.stop_reason == "end_turn"
    assert m.usage.input_tokens > 0 and m.usage.output_tokens > 0


@pytest.mark.parametrize("model", [MINI, CLAUDE])
def test_anthropic_stream(claude_sdk, model):
    messages = [{"role": "user", "content": "Tell me a story"}]
    plain = claude_sdk.messages.create(model=model, max_tokens=200, messages=messages)
    with claude_sdk.messages.stream(model=model, max_tokens=200, messages=messages) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == plain.content[0].text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == plain.usage.output_tokens
    assert final.usage.input_tokens == plain.usage.input_tokens
    # The raw events come in Anthropic's order.
    events = [
        e.type
        for e in claude_sdk.messages.create(model=model, max_tokens=5, messages=messages, stream=True)
    ]
    assert events[0] == "message_start"
    assert events[-2:] == ["message_delta", "message_stop"]
    assert "content_block_start" in events and "content_block_delta" in events


@pytest.mark.parametrize("model", [MINI, CLAUDE])
@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_tool_round_trip(claude_sdk, model, stream):
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    if stream:
        with claude_sdk.messages.stream(
            model=model, max_tokens=300, tools=[ANTHROPIC_WEATHER], messages=messages
        ) as s:
            first = s.get_final_message()
    else:
        first = claude_sdk.messages.create(
            model=model, max_tokens=300, tools=[ANTHROPIC_WEATHER], messages=messages
        )
    assert first.stop_reason == "tool_use"
    [use] = [b for b in first.content if b.type == "tool_use"]
    assert use.name == "get_weather" and use.id
    assert use.input["unit"] in ("celsius", "fahrenheit") and use.input["city"]

    messages.append({"role": "assistant", "content": [b.model_dump() for b in first.content]})
    messages.append(
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "21 degrees"}]}
    )
    final = claude_sdk.messages.create(
        model=model, max_tokens=300, tools=[ANTHROPIC_WEATHER], messages=messages
    )
    assert final.stop_reason == "end_turn"
    assert final.content[0].type == "text" and final.content[0].text


def test_anthropic_models_list(claude_sdk):
    ids = {m.id for m in claude_sdk.models.list()}
    assert {CLAUDE, GEMINI, MINI} <= ids


def test_anthropic_errors_in_anthropic_shape(gateway: Gateway, claude_sdk):
    bad = anthropic.Anthropic(base_url=gateway.url, api_key="sk-nope", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as ei:
        bad.messages.create(model=CLAUDE, max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert ei.value.status_code == 401
    assert ei.value.body["type"] == "error"
    assert ei.value.body["error"]["type"] == "authentication_error"
    with pytest.raises(anthropic.NotFoundError) as ei:
        claude_sdk.messages.create(model="no-such-model", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert ei.value.body["error"]["type"] == "not_found_error"
    broke = anthropic.Anthropic(base_url=gateway.url, api_key=gateway.broke_key, max_retries=0)
    with pytest.raises(anthropic.RateLimitError) as ei:
        broke.messages.create(model=CLAUDE, max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert "quota" in ei.value.message


# --- google-genai SDK → the Gemini front door ---------------------------------------------


@pytest.mark.parametrize("model", [GEMINI, MINI, CLAUDE])
def test_genai_generate_and_stream(gateway: Gateway, model):
    g = gemini_sdk(gateway)
    r = g.models.generate_content(
        model=model,
        contents="Say hello to Switchyard",
        config=types.GenerateContentConfig(system_instruction="You are terse."),
    )
    assert r.text.startswith("Simulated reply to: Say hello to Switchyard")
    assert r.candidates[0].finish_reason == types.FinishReason.STOP
    assert r.usage_metadata.prompt_token_count > 0
    assert r.usage_metadata.candidates_token_count > 0

    chunks = list(g.models.generate_content_stream(model=model, contents="Say hello to Switchyard"))
    assert "".join(c.text or "" for c in chunks) == r.text
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert chunks[-1].usage_metadata.candidates_token_count == r.usage_metadata.candidates_token_count


@pytest.mark.parametrize("model", [GEMINI, MINI])
def test_genai_function_call_round_trip(gateway: Gateway, model):
    g = gemini_sdk(gateway)
    weather = types.FunctionDeclaration(
        name="get_weather",
        description="Current weather in a city",
        parameters_json_schema=WEATHER_TOOL["function"]["parameters"],
    )
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[weather])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    ask = types.Content(role="user", parts=[types.Part.from_text(text="What is the weather in Paris?")])
    r = g.models.generate_content(model=model, contents=[ask], config=config)
    [call] = r.function_calls
    assert call.name == "get_weather"
    assert call.args["unit"] in ("celsius", "fahrenheit") and call.args["city"]
    answer = types.Part.from_function_response(name="get_weather", response={"temp_c": 21})
    final = g.models.generate_content(
        model=model,
        contents=[ask, r.candidates[0].content, types.Content(role="user", parts=[answer])],
        config=config,
    )
    assert final.text and not final.function_calls


def test_genai_image_part(gateway: Gateway):
    g = gemini_sdk(gateway)
    for model in (GEMINI, CLAUDE):
        r = g.models.generate_content(
            model=model,
            contents=[types.Part.from_bytes(data=PNG, mime_type="image/png"), "What is in this picture?"],
        )
        assert r.text.startswith("Simulated reply to: [1 image] What is in"), model


def test_genai_models_and_errors(gateway: Gateway):
    g = gemini_sdk(gateway)
    names = {m.name for m in g.models.list()}
    assert {f"models/{GEMINI}", f"models/{CLAUDE}"} <= names
    bad = gemini_sdk(gateway, "sk-nope")
    with pytest.raises(genai_errors.ClientError) as ei:
        bad.models.generate_content(model=GEMINI, contents="hi")
    assert ei.value.code == 401
    assert ei.value.status == "UNAUTHENTICATED"
    with pytest.raises(genai_errors.ClientError) as ei:
        g.models.generate_content(model="no-such-model", contents="hi")
    assert ei.value.code == 404
    assert ei.value.status == "NOT_FOUND"


def test_models_list_shape_follows_the_auth_header(gateway: Gateway):
    key = gateway.root_key
    google = httpx.get(f"{gateway.url}/v1/models", headers={"x-goog-api-key": key}, timeout=30).json()
    assert f"models/{GEMINI}" in {m["name"] for m in google["models"]}
    claude = httpx.get(
        f"{gateway.url}/v1/models",
        headers={"x-api-key": key, "anthropic-version": "2023-06-01"},
        timeout=30,
    ).json()
    assert claude["data"][0]["type"] == "model" and "has_more" in claude
    plain = httpx.get(f"{gateway.url}/v1/models", headers={"Authorization": f"Bearer {key}"}, timeout=30).json()
    assert plain["object"] == "list"
