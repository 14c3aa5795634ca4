// Docs: the user documentation site, one sub-page per topic at #/docs/<slug>, with a side
// table of contents. Content is markdown per language (English and Chinese), rendered by the
// playground's small DOM renderer; {BASE} and {ORIGIN} become this very server's addresses,
// so every example can be pasted as it is.

import { h, mount, t, addStrings, lang, baseUrl } from '../lib.js';
import { renderMarkdown } from './playground.js';

addStrings({
  en: {
    'nav.docs': 'Docs', 'docs.toc': 'Contents', 'docs.prev': '← {title}', 'docs.next': '{title} →',
    'docs.base': 'Base URL of this server', 'docs.not_found': 'There is no such docs page.',
  },
  zh: {
    'nav.docs': '使用文档', 'docs.toc': '目录', 'docs.prev': '← {title}', 'docs.next': '{title} →',
    'docs.base': '本站 Base URL', 'docs.not_found': '没有这个文档页面。',
  },
});

// ---------- content ----------
// Each page: slug, title per language, markdown per language.

const PAGES = [
  {
    slug: 'intro',
    title: { en: 'Introduction', zh: '引言' },
    en: `
# Introduction

This server is an AI API relay: **one API key and one base URL** in front of many AI providers (OpenAI, Anthropic, Google Gemini, DeepSeek, Qwen and others, plus video providers). It speaks OpenAI's API, so any program, SDK or chat app that works with OpenAI works here by changing two settings:

| Setting | Value |
|---|---|
| Base URL | \`{BASE}\` |
| API key | a key from the **Keys** page, \`sk-…\` |

## Start in three steps

1. Create a key on the [Keys](#/keys) page and copy it (it is shown once).
2. Try a model in the [Playground](#/playground): it shows the exact request as curl, Python and Node.js code.
3. Use the key in your code:

\`\`\`sh
curl {BASE}/chat/completions \\
  -H "Authorization: Bearer sk-…" \\
  -H "Content-Type: application/json" \\
  -d '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello!"}]}'
\`\`\`

The models your key may use: \`GET {BASE}/models\`, or the model list in the Playground. Model names in these pages (\`gpt-4o-mini\`, \`dall-e-3\`, \`runway-video\`…) are examples; use the ones your list shows.

## What is in these docs

- [Online debugging](#/docs/playground): how to use the Playground.
- [Making requests](#/docs/requests): base URL, authentication, errors, request ids.
- [What a relay is](#/docs/relay): how requests are routed and billed.
- [Chat models](#/docs/chat), [Image models](#/docs/images), [Video models](#/docs/video), [GPTs](#/docs/gpts), [Suno music](#/docs/suno).
- [Python setup](#/docs/python), [Node.js setup](#/docs/nodejs), [Plugins and apps](#/docs/apps).
- [Help center](#/docs/help): common errors, balance, logs.
`,
    zh: `
# 引言

本站是一个 AI API 中转站：用**一个 API 密钥和一个 Base URL**，访问背后的多家 AI 服务商（OpenAI、Anthropic、Google Gemini、DeepSeek、通义千问等，以及多家视频生成服务商）。本站兼容 OpenAI 的接口格式，所以任何支持 OpenAI 的程序、SDK 或聊天软件，只需改两项设置即可使用：

| 设置 | 值 |
|---|---|
| Base URL（接口地址） | \`{BASE}\` |
| API 密钥 | 在**令牌**（密钥）页面创建的 \`sk-…\` |

## 三步上手

1. 在 [密钥](#/keys) 页面创建一个密钥并复制（只显示一次）。
2. 在 [在线调试](#/playground) 里试用模型：页面会把这次请求生成为 curl、Python 和 Node.js 代码。
3. 在你的代码里使用这个密钥：

\`\`\`sh
curl {BASE}/chat/completions \\
  -H "Authorization: Bearer sk-…" \\
  -H "Content-Type: application/json" \\
  -d '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "你好！"}]}'
\`\`\`

你的密钥可用哪些模型：请求 \`GET {BASE}/models\`，或查看在线调试里的模型列表。文档中出现的模型名（\`gpt-4o-mini\`、\`dall-e-3\`、\`runway-video\` 等）只是示例，请以你的模型列表为准。

## 文档目录

- [在线调试说明](#/docs/playground)：如何使用在线调试。
- [发出请求](#/docs/requests)：Base URL、鉴权、错误、请求 ID。
- [中转站基本介绍](#/docs/relay)：请求如何路由、如何计费。
- [Chat 模型](#/docs/chat)、[文生图模型](#/docs/images)、[文生视频模型](#/docs/video)、[GPTs 相关](#/docs/gpts)、[文生音乐 Suno](#/docs/suno)。
- [Python 配置方式](#/docs/python)、[Node.js 配置方式](#/docs/nodejs)、[各种插件/软件使用教程](#/docs/apps)。
- [帮助中心](#/docs/help)：常见错误、余额、日志。
`,
  },
  {
    slug: 'playground',
    title: { en: 'Online debugging', zh: '在线调试说明' },
    en: `
# Online debugging

The [Playground](#/playground) sends real requests to \`{BASE}\` with your API key, exactly as your own code would, and bills them the same way.

## Use it

1. **API key**: paste a key. A key you just created on the [Keys](#/keys) page is filled in for you. The key stays in this browser only.
2. **Model**: the list comes from \`GET {BASE}/models\` with that key, so it holds exactly the models the key may use. Chat models and video models are listed separately.
3. **Settings**: a system prompt, \`temperature\`, \`max_tokens\` and whether to stream. Empty fields are not sent.
4. Type a message and press **Send** (or Enter; Shift+Enter starts a new line). With streaming on, the answer appears token by token; **Stop** cancels it (you pay only for what was produced). The token usage and the request id show under the answer.

## Video models

Pick a video model (for example \`runway-video\` or \`sora-2\`) and describe the video. A link to an image at the start of the message makes it the first frame, a second link the last frame. The task id appears at once, then the progress, then the video, which plays in the page. Every video is also listed under [Tasks](#/tasks), where it keeps going if you leave the page.

## Take the request into your code

- **Raw request** and **Raw answer** show what was sent and received; for a stream, the raw server-sent events.
- **Code for this request** gives the same request as curl, Python (\`openai\` package) and Node.js (\`openai\` npm package), with this server's base URL. The key is shown as \`sk-…\` unless you tick *Show my key in the code*.

Errors are shown in the conversation with their status and message (see the [Help center](#/docs/help)).
`,
    zh: `
# 在线调试说明

[在线调试](#/playground) 会用你的 API 密钥向 \`{BASE}\` 发送真实请求，和你自己的代码发出的请求完全一样，也按同样的方式计费。

## 使用方法

1. **API 密钥**：粘贴一个密钥。刚在 [密钥](#/keys) 页面创建的密钥会自动填入。密钥只保存在当前浏览器中。
2. **模型**：列表来自用这个密钥请求的 \`GET {BASE}/models\`，即这个密钥可用的全部模型。对话模型和视频模型分组显示。
3. **参数**：系统提示词、\`temperature\`、\`max_tokens\`，以及是否流式输出。留空的参数不会发送。
4. 输入消息后点击**发送**（或按 Enter；Shift+Enter 换行）。开启流式时，回答会逐字显示；点击**停止**即可中断（只按已生成的部分计费）。回答下方显示 token 用量和请求 ID。

## 视频模型

选择一个视频模型（例如 \`runway-video\` 或 \`sora-2\`），然后描述你想要的视频。消息开头的图片链接会作为首帧，第二个链接作为尾帧。任务 ID 会立即显示，然后是生成进度，最后是可以直接在页面中播放的视频。每个视频也会出现在 [任务](#/tasks) 页面中；即使离开本页，任务也会继续进行。

## 把请求用到你的代码里

- **原始请求**和**原始响应**显示实际发送和收到的内容；流式请求显示原始的 SSE 事件流。
- **这次请求的代码**把同一个请求生成为 curl、Python（\`openai\` 包）和 Node.js（\`openai\` npm 包）代码，使用本站的 Base URL。除非勾选“在代码中显示我的密钥”，密钥显示为 \`sk-…\`。

出错时，对话中会显示状态码和错误信息（见 [帮助中心](#/docs/help)）。
`,
  },
  {
    slug: 'requests',
    title: { en: 'Making requests', zh: '发出请求' },
    en: `
# Making requests

## Base URL

\`\`\`text
{BASE}
\`\`\`

OpenAI SDKs take this as \`base_url\` / \`baseURL\`. Anthropic's and Google's SDKs take the server's address without \`/v1\`: \`{ORIGIN}\`.

## Authentication

Send your key in the \`Authorization\` header:

\`\`\`text
Authorization: Bearer sk-…
\`\`\`

\`x-api-key: sk-…\` (Anthropic SDKs), \`x-goog-api-key: sk-…\` (Gemini SDKs) and \`?key=sk-…\` work too. Keep keys secret: anyone with the key spends your balance. A key can be limited to some models, some IP addresses, a spending quota and an expiry date on the [Keys](#/keys) page.

## A request

\`\`\`sh
curl {BASE}/chat/completions \\
  -H "Authorization: Bearer sk-…" \\
  -H "Content-Type: application/json" \\
  -d '{
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "Say hello in French."}]
  }'
\`\`\`

The body is JSON (32 MiB at most). Fields the gateway does not read are passed to the provider untouched, so provider-specific options keep working.

## Endpoints

| Method | Path | |
|---|---|---|
| GET | \`/v1/models\` | the models your key may use |
| POST | \`/v1/chat/completions\` | chat; also video models ([Video models](#/docs/video)) |
| POST | \`/v1/completions\` | legacy completions |
| POST | \`/v1/embeddings\` | embeddings |
| POST | \`/v1/images/generations\` | images |
| POST | \`/v1/audio/speech\`, \`/v1/audio/transcriptions\` | text to speech, speech to text |
| POST | \`/v1/messages\` | Anthropic's Messages API |
| POST | \`/v1beta/models/{model}:generateContent\` | Google's Gemini API |
| POST | \`/v1/video/generations\`, \`/v1/videos\` | video tasks |

## Errors

Errors have OpenAI's shape, so SDKs raise their usual exceptions:

\`\`\`json
{"error": {"message": "The model \`gpt-5\` does not exist or you do not have access to it.",
           "type": "invalid_request_error", "param": "model", "code": "model_not_found"}}
\`\`\`

What each status means, and what to do: [Help center](#/docs/help).

## Request ids

Every answer, errors and streams included, carries an \`x-request-id: req_…\` header. The same id names the request's row in the [Logs](#/logs) (tokens, cost, latency, status, error). Quote it when you ask for help. The OpenAI SDKs expose it as \`response.request_id\` (Python: \`client.chat.completions.with_raw_response.create(…)\` gives the headers).

\`\`\`sh
curl -si {BASE}/models -H "Authorization: Bearer sk-…" | grep -i x-request-id
\`\`\`

## Streaming

With \`"stream": true\` the answer is server-sent events, passed on as the provider produces them and ending with \`data: [DONE]\`. Add \`"stream_options": {"include_usage": true}\` to get a last chunk with the token usage. If you disconnect, you pay only for what was produced.
`,
    zh: `
# 发出请求

## Base URL

\`\`\`text
{BASE}
\`\`\`

OpenAI 的 SDK 把它填在 \`base_url\` / \`baseURL\`。Anthropic 和 Google 的 SDK 使用不带 \`/v1\` 的服务器地址：\`{ORIGIN}\`。

## 鉴权

在 \`Authorization\` 请求头中携带密钥：

\`\`\`text
Authorization: Bearer sk-…
\`\`\`

也支持 \`x-api-key: sk-…\`（Anthropic SDK）、\`x-goog-api-key: sk-…\`（Gemini SDK）和 \`?key=sk-…\`。请妥善保管密钥：拿到密钥的人可以消耗你的余额。在 [密钥](#/keys) 页面可以为密钥限制可用模型、IP 地址、额度和过期时间。

## 请求示例

\`\`\`sh
curl {BASE}/chat/completions \\
  -H "Authorization: Bearer sk-…" \\
  -H "Content-Type: application/json" \\
  -d '{
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "用法语说你好。"}]
  }'
\`\`\`

请求体为 JSON（最大 32 MiB）。网关不认识的字段会原样转发给服务商，所以各家特有的参数依然可用。

## 接口列表

| 方法 | 路径 | 说明 |
|---|---|---|
| GET | \`/v1/models\` | 你的密钥可用的模型 |
| POST | \`/v1/chat/completions\` | 对话；视频模型也走这里（见 [文生视频模型](#/docs/video)） |
| POST | \`/v1/completions\` | 旧版补全接口 |
| POST | \`/v1/embeddings\` | 向量（Embeddings） |
| POST | \`/v1/images/generations\` | 图片生成 |
| POST | \`/v1/audio/speech\`、\`/v1/audio/transcriptions\` | 语音合成、语音识别 |
| POST | \`/v1/messages\` | Anthropic Messages 接口 |
| POST | \`/v1beta/models/{model}:generateContent\` | Google Gemini 接口 |
| POST | \`/v1/video/generations\`、\`/v1/videos\` | 视频任务 |

## 错误

错误采用 OpenAI 的格式，SDK 会抛出对应的异常：

\`\`\`json
{"error": {"message": "The model \`gpt-5\` does not exist or you do not have access to it.",
           "type": "invalid_request_error", "param": "model", "code": "model_not_found"}}
\`\`\`

各状态码的含义和处理办法见 [帮助中心](#/docs/help)。

## 请求 ID

每个响应（包括错误和流式响应）都带有 \`x-request-id: req_…\` 请求头。同一个 ID 也是这次请求在 [日志](#/logs) 中的记录（token、费用、耗时、状态、错误）。寻求帮助时请附上它。OpenAI SDK 中可通过 \`response.request_id\` 读取。

\`\`\`sh
curl -si {BASE}/models -H "Authorization: Bearer sk-…" | grep -i x-request-id
\`\`\`

## 流式输出

设置 \`"stream": true\` 后，响应是 SSE 事件流，服务商生成多少就转发多少，以 \`data: [DONE]\` 结束。加上 \`"stream_options": {"include_usage": true}\` 可以在最后收到一个包含 token 用量的数据块。中途断开连接时，只按已生成的部分计费。
`,
  },
  {
    slug: 'relay',
    title: { en: 'What a relay is', zh: '中转站基本介绍' },
    en: `
# What a relay is

A relay (API gateway) sits between your programs and the AI providers. You hold one key for the relay; the relay holds the providers' keys.

\`\`\`text
your app ──(one key, {BASE})──▶ relay ──▶ OpenAI / Anthropic / Gemini / DeepSeek / video providers…
\`\`\`

## What it does for you

- **One key, many providers**: every model the operator has connected is reachable with the same key and the same API shape. Claude and Gemini answer in OpenAI's format, and OpenAI's models answer Anthropic's and Google's SDKs.
- **Failover**: each model is served by one or more *channels* (an upstream account). When one fails before answering (timeout, 429, 5xx), the relay tries another. You see one answer.
- **Spending control**: your keys can carry a quota, an expiry, a model list and an IP allow-list.
- **Exact billing in dollars**: each model has a price in USD (per 1M input and output tokens, or per call, image or second of video), shown on the [Prices](#/prices) page. A request first reserves its worst-case cost from your balance, then is charged exactly what it used; the rest goes back at once. A failed request costs nothing.
- **A record of every request**: the [Logs](#/logs) page lists each request with its model, tokens, cost, latency and status.

## What to know

- The operator of the relay passes your requests on to the providers, as any relay must. This gateway's usage log keeps the metadata above, not the text of prompts or answers.
- Model names are the operator's: the list your key sees (\`GET {BASE}/models\`) is what you can call.
`,
    zh: `
# 中转站基本介绍

中转站（API 网关）位于你的程序和 AI 服务商之间。你只需持有中转站的一个密钥，服务商的密钥由中转站保管。

\`\`\`text
你的应用 ──(一个密钥, {BASE})──▶ 中转站 ──▶ OpenAI / Anthropic / Gemini / DeepSeek / 视频服务商…
\`\`\`

## 它能为你做什么

- **一个密钥，多家服务商**：站长接入的所有模型，都可以用同一个密钥、同一种接口格式调用。Claude 和 Gemini 可以按 OpenAI 格式回答，OpenAI 的模型也能通过 Anthropic 和 Google 的 SDK 调用。
- **故障切换**：每个模型由一个或多个**渠道**（上游账号）提供。某个渠道在返回结果前失败（超时、429、5xx）时，中转站会自动换另一个渠道重试，你只会收到一个回答。
- **消费控制**：可以为密钥设置额度、过期时间、可用模型和 IP 白名单。
- **按美元精确计费**：每个模型都有美元价格（每百万输入/输出 token，或按次、按张、按视频秒数），见 [价格](#/prices) 页面。请求先按最坏情况预扣费用，完成后按实际用量结算，多余部分立即退回。失败的请求不收费。
- **每个请求都有记录**：[日志](#/logs) 页面列出每个请求的模型、token、费用、耗时和状态。

## 需要了解的

- 和所有中转站一样，站长会把你的请求转发给服务商。本网关的使用日志只记录上述元数据，不保存提示词和回答的内容。
- 模型名称由站长设定：以你的密钥看到的列表（\`GET {BASE}/models\`）为准。
`,
  },
  {
    slug: 'chat',
    title: { en: 'Chat models', zh: 'Chat模型' },
    en: `
# Chat models

Every chat model, whichever provider serves it, is called through OpenAI's chat completions API.

## OpenAI SDK (Python)

\`\`\`python
from openai import OpenAI

client = OpenAI(base_url="{BASE}", api_key="sk-…")

reply = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Hello!"},
    ],
)
print(reply.choices[0].message.content)
print(reply.usage)
\`\`\`

## Streaming

\`\`\`python
stream = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Tell me a story"}],
    stream=True,
    stream_options={"include_usage": True},  # a last chunk with the usage
)
for chunk in stream:
    if chunk.choices:
        print(chunk.choices[0].delta.content or "", end="", flush=True)
    elif chunk.usage:
        print("\\n", chunk.usage)
\`\`\`

With curl, \`-N\` shows the events as they arrive:

\`\`\`sh
curl -N {BASE}/chat/completions \\
  -H "Authorization: Bearer sk-…" -H "Content-Type: application/json" \\
  -d '{"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "Hi"}]}'
\`\`\`

Tools (function calling), JSON mode and images in messages are passed through to the provider.

## Anthropic SDK: \`/v1/messages\`

Programs written for Anthropic's Messages API work too, with any chat model. Note the base URL has no \`/v1\`:

\`\`\`python
import anthropic

client = anthropic.Anthropic(base_url="{ORIGIN}", api_key="sk-…")
msg = client.messages.create(
    model="claude-sonnet-4-5",
    max_tokens=200,
    messages=[{"role": "user", "content": "Hello"}],
)
print(msg.content[0].text)
\`\`\`

## Google Gen AI SDK: the Gemini door

\`\`\`python
from google import genai
from google.genai import types

client = genai.Client(api_key="sk-…", http_options=types.HttpOptions(base_url="{ORIGIN}"))
print(client.models.generate_content(model="gemini-2.5-flash", contents="Hello").text)
\`\`\`

\`\`\`sh
curl "{ORIGIN}/v1beta/models/gemini-2.5-flash:generateContent" \\
  -H "x-goog-api-key: sk-…" -H "Content-Type: application/json" \\
  -d '{"contents": [{"parts": [{"text": "Hello"}]}]}'
\`\`\`

Each door answers, streams and reports errors in its own format, whatever provider is behind the model.
`,
    zh: `
# Chat 模型

所有对话模型，无论由哪家服务商提供，都通过 OpenAI 的 Chat Completions 接口调用。

## OpenAI SDK（Python）

\`\`\`python
from openai import OpenAI

client = OpenAI(base_url="{BASE}", api_key="sk-…")

reply = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[
        {"role": "system", "content": "你是一个乐于助人的助手。"},
        {"role": "user", "content": "你好！"},
    ],
)
print(reply.choices[0].message.content)
print(reply.usage)
\`\`\`

## 流式输出

\`\`\`python
stream = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "讲一个故事"}],
    stream=True,
    stream_options={"include_usage": True},  # 最后一个数据块带上用量
)
for chunk in stream:
    if chunk.choices:
        print(chunk.choices[0].delta.content or "", end="", flush=True)
    elif chunk.usage:
        print("\\n", chunk.usage)
\`\`\`

用 curl 时加上 \`-N\`，事件到达即显示：

\`\`\`sh
curl -N {BASE}/chat/completions \\
  -H "Authorization: Bearer sk-…" -H "Content-Type: application/json" \\
  -d '{"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "你好"}]}'
\`\`\`

工具调用（Function Calling）、JSON 模式以及消息中的图片都会原样转发给服务商。

## Anthropic SDK：\`/v1/messages\`

为 Anthropic Messages 接口编写的程序也可以直接使用，并且可以调用任意对话模型。注意这里的 Base URL 不带 \`/v1\`：

\`\`\`python
import anthropic

client = anthropic.Anthropic(base_url="{ORIGIN}", api_key="sk-…")
msg = client.messages.create(
    model="claude-sonnet-4-5",
    max_tokens=200,
    messages=[{"role": "user", "content": "你好"}],
)
print(msg.content[0].text)
\`\`\`

## Google Gen AI SDK：Gemini 接口

\`\`\`python
from google import genai
from google.genai import types

client = genai.Client(api_key="sk-…", http_options=types.HttpOptions(base_url="{ORIGIN}"))
print(client.models.generate_content(model="gemini-2.5-flash", contents="你好").text)
\`\`\`

\`\`\`sh
curl "{ORIGIN}/v1beta/models/gemini-2.5-flash:generateContent" \\
  -H "x-goog-api-key: sk-…" -H "Content-Type: application/json" \\
  -d '{"contents": [{"parts": [{"text": "你好"}]}]}'
\`\`\`

无论模型背后是哪家服务商，每种接口都按自己的格式返回结果、流式数据和错误。
`,
  },
  {
    slug: 'images',
    title: { en: 'Image models', zh: '文生图模型' },
    en: `
# Image models

\`POST {BASE}/images/generations\`, as OpenAI's Images API. Required: \`prompt\`; \`model\` defaults to \`dall-e-2\`. \`n\` (1–10), \`size\`, \`quality\` and \`response_format\` (\`url\` or \`b64_json\`) are passed to the provider. Images are billed per image (\`n\` × the model's price per call).

\`\`\`sh
curl {BASE}/images/generations \\
  -H "Authorization: Bearer sk-…" -H "Content-Type: application/json" \\
  -d '{"model": "dall-e-3", "prompt": "a watercolor fox in the snow", "n": 1, "size": "1024x1024"}'
\`\`\`

\`\`\`python
from openai import OpenAI

client = OpenAI(base_url="{BASE}", api_key="sk-…")
img = client.images.generate(model="dall-e-3", prompt="a watercolor fox in the snow", size="1024x1024")
print(img.data[0].url)
\`\`\`

\`\`\`js
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: '{BASE}', apiKey: 'sk-…' });
const img = await client.images.generate({ model: 'dall-e-3', prompt: 'a watercolor fox in the snow' });
console.log(img.data[0].url);
\`\`\`

Image URLs from providers usually expire after a while: download what you want to keep, or ask for \`"response_format": "b64_json"\`.
`,
    zh: `
# 文生图模型

\`POST {BASE}/images/generations\`，与 OpenAI 的 Images 接口一致。必填 \`prompt\`；\`model\` 默认为 \`dall-e-2\`。\`n\`（1–10）、\`size\`、\`quality\` 和 \`response_format\`（\`url\` 或 \`b64_json\`）会转发给服务商。图片按张计费（\`n\` × 模型的单次价格）。

\`\`\`sh
curl {BASE}/images/generations \\
  -H "Authorization: Bearer sk-…" -H "Content-Type: application/json" \\
  -d '{"model": "dall-e-3", "prompt": "雪地里的水彩狐狸", "n": 1, "size": "1024x1024"}'
\`\`\`

\`\`\`python
from openai import OpenAI

client = OpenAI(base_url="{BASE}", api_key="sk-…")
img = client.images.generate(model="dall-e-3", prompt="雪地里的水彩狐狸", size="1024x1024")
print(img.data[0].url)
\`\`\`

\`\`\`js
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: '{BASE}', apiKey: 'sk-…' });
const img = await client.images.generate({ model: 'dall-e-3', prompt: '雪地里的水彩狐狸' });
console.log(img.data[0].url);
\`\`\`

服务商返回的图片链接通常会在一段时间后失效：需要保存的图片请及时下载，或使用 \`"response_format": "b64_json"\`。
`,
  },
  {
    slug: 'video',
    title: { en: 'Video models', zh: '文生视频模型' },
    en: `
# Video models

A video takes from seconds to minutes, so every video is a **task**: it is recorded, charged only when the video is made, and refunded if it fails, times out or is cancelled. You can follow it in three ways; all of them end up in the [Tasks](#/tasks) gallery, where the video plays.

## 1. Chat format: \`POST {BASE}/chat/completions\`

Any chat app can make videos: call a video model (\`runway-video\`, \`luma-video\`, \`kling-video\`, \`sora-2\`, \`veo-3\`… whatever your model list has) like a chat model. The **last user message** is the request: URLs in it are reference images (the first is the start frame, the second the end frame), the rest of the text is the prompt.

\`\`\`sh
curl -N {BASE}/chat/completions \\
  -H "Authorization: Bearer sk-…" -H "Content-Type: application/json" \\
  -d '{
  "model": "runway-video",
  "stream": true,
  "messages": [{"role": "user", "content": [{"type": "text",
    "text": "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg 两只狗骑摩托"}]}]
}'
\`\`\`

Streamed, the answer is a chat completion whose text arrives in steps:

\`\`\`text
> Task submitted ✅ task_id: \`task_…\`
> Generating… 40%
![preview](…)
[▶️ Watch the video](…/video.mp4) · [⬇️ Download](…/video.mp4)
- Duration: 5 s
- Task: \`task_…\`
\`\`\`

Not streamed, one answer comes when the video is ready (after at most 10 minutes it says where to look the task up instead). A failure is said in the chat (\`❌ Generation failed: …\`) and nothing is charged. If you disconnect, the task goes on.

Optional top-level fields: \`duration\` (seconds), \`aspect_ratio\` (\`16:9\`, \`9:16\`, \`1:1\`), \`resolution\`, \`loop\`, \`negative_prompt\`, \`seed\`, \`notify_hook\` (a URL that gets the task on every change). A parameter the model's provider cannot honour is refused with a \`400\` that names it, before anything is charged.

\`\`\`python
from openai import OpenAI

client = OpenAI(base_url="{BASE}", api_key="sk-…")
stream = client.chat.completions.create(
    model="runway-video",
    messages=[{"role": "user", "content": "a paper boat in the rain"}],
    stream=True,
)
for chunk in stream:
    if chunk.choices:
        print(chunk.choices[0].delta.content or "", end="", flush=True)
\`\`\`

## 2. Unified: \`/v1/video/generations\`

\`\`\`sh
curl {BASE}/video/generations \\
  -H "Authorization: Bearer sk-…" -H "Content-Type: application/json" \\
  -d '{"model": "kling-video", "prompt": "a paper boat in the rain", "duration": 5, "aspect_ratio": "16:9"}'
# {"code": "success", "data": {"task_id": "task_…", "status": "queued", …}}

curl {BASE}/video/generations/task_… -H "Authorization: Bearer sk-…"
# … "status": "succeeded", "progress": 100, "url": "…/video.mp4" …
\`\`\`

Fields: \`model\`, \`prompt\`, \`image\` (start frame URL), \`image_end\`, \`duration\`, \`aspect_ratio\`, \`resolution\`, \`loop\`, \`negative_prompt\`, \`seed\`, \`notify_hook\`. States: \`queued\`, \`running\`, \`succeeded\`, \`failed\`, \`cancelled\`.

## 3. OpenAI Videos: \`/v1/videos\`

\`\`\`sh
curl {BASE}/videos -H "Authorization: Bearer sk-…" -H "Content-Type: application/json" \\
  -d '{"model": "sora-2", "prompt": "a paper boat in the rain", "seconds": "4", "size": "1280x720"}'
curl {BASE}/videos/video_id_here -H "Authorization: Bearer sk-…"
curl -L {BASE}/videos/video_id_here/content -H "Authorization: Bearer sk-…" -o video.mp4
\`\`\`

Create, get, list, \`DELETE\` (cancels and refunds) and \`/content?variant=video|thumbnail\`, as OpenAI's Videos API; \`seconds\` is \`"4"\`, \`"8"\` or \`"12"\`. Any video model works here, not only Sora.

## Links and webhooks

The video links the gateway hands out carry a signed token, so they play in a browser without a key. Luma's, Runway's and Kling's own API formats are served too (\`/luma/generations\`, \`/runwayml/v1/…\`, \`/kling/v1/…\`), for clients written for them. With \`notify_hook\` the task is POSTed to your URL on every change of state, signed with \`X-Switchyard-Signature\` (your secret: \`GET {ORIGIN}/api/me/webhook-secret\`).
`,
    zh: `
# 文生视频模型

生成一个视频需要几秒到几分钟，因此每个视频都是一个**任务**：任务会被记录下来，视频生成成功才扣费，失败、超时或取消则全额退还。有三种调用方式，生成的视频都会出现在 [任务](#/tasks) 页面中，可直接播放。

## 1. Chat 格式：\`POST {BASE}/chat/completions\`

任何聊天软件都可以生成视频：像调用对话模型一样调用视频模型（\`runway-video\`、\`luma-video\`、\`kling-video\`、\`sora-2\`、\`veo-3\` 等，以你的模型列表为准）。**最后一条用户消息**就是请求内容：其中的链接是参考图片（第一个为首帧，第二个为尾帧），其余文字为提示词。

\`\`\`sh
curl -N {BASE}/chat/completions \\
  -H "Authorization: Bearer sk-…" -H "Content-Type: application/json" \\
  -d '{
  "model": "runway-video",
  "stream": true,
  "messages": [{"role": "user", "content": [{"type": "text",
    "text": "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg 两只狗骑摩托"}]}]
}'
\`\`\`

流式请求时，返回的是一个 chat completion，文字分几步到达：

\`\`\`text
> Task submitted ✅ task_id: \`task_…\`
> Generating… 40%
![preview](…)
[▶️ Watch the video](…/video.mp4) · [⬇️ Download](…/video.mp4)
- Duration: 5 s
- Task: \`task_…\`
\`\`\`

非流式请求时，视频生成完成后一次性返回（最长等待 10 分钟，超时则返回任务 ID 和查询方式）。失败时会在回答中说明（\`❌ Generation failed: …\`），不扣费。中途断开连接，任务也会继续进行。

可选的顶层字段：\`duration\`（秒）、\`aspect_ratio\`（\`16:9\`、\`9:16\`、\`1:1\`）、\`resolution\`、\`loop\`、\`negative_prompt\`、\`seed\`、\`notify_hook\`（任务每次状态变化时回调的 URL）。如果模型的服务商不支持某个参数，请求会在扣费前被拒绝，返回 \`400\` 并指明是哪个参数。

\`\`\`python
from openai import OpenAI

client = OpenAI(base_url="{BASE}", api_key="sk-…")
stream = client.chat.completions.create(
    model="runway-video",
    messages=[{"role": "user", "content": "雨中的纸船"}],
    stream=True,
)
for chunk in stream:
    if chunk.choices:
        print(chunk.choices[0].delta.content or "", end="", flush=True)
\`\`\`

## 2. 统一格式：\`/v1/video/generations\`

\`\`\`sh
curl {BASE}/video/generations \\
  -H "Authorization: Bearer sk-…" -H "Content-Type: application/json" \\
  -d '{"model": "kling-video", "prompt": "雨中的纸船", "duration": 5, "aspect_ratio": "16:9"}'
# {"code": "success", "data": {"task_id": "task_…", "status": "queued", …}}

curl {BASE}/video/generations/task_… -H "Authorization: Bearer sk-…"
# … "status": "succeeded", "progress": 100, "url": "…/video.mp4" …
\`\`\`

字段：\`model\`、\`prompt\`、\`image\`（首帧图片 URL）、\`image_end\`、\`duration\`、\`aspect_ratio\`、\`resolution\`、\`loop\`、\`negative_prompt\`、\`seed\`、\`notify_hook\`。状态：\`queued\`、\`running\`、\`succeeded\`、\`failed\`、\`cancelled\`。

## 3. OpenAI Videos：\`/v1/videos\`

\`\`\`sh
curl {BASE}/videos -H "Authorization: Bearer sk-…" -H "Content-Type: application/json" \\
  -d '{"model": "sora-2", "prompt": "雨中的纸船", "seconds": "4", "size": "1280x720"}'
curl {BASE}/videos/video_id_here -H "Authorization: Bearer sk-…"
curl -L {BASE}/videos/video_id_here/content -H "Authorization: Bearer sk-…" -o video.mp4
\`\`\`

与 OpenAI 的 Videos 接口一致：创建、查询、列表、\`DELETE\`（取消并退款）以及 \`/content?variant=video|thumbnail\`；\`seconds\` 取 \`"4"\`、\`"8"\` 或 \`"12"\`。这里可以使用任意视频模型，不限于 Sora。

## 视频链接与回调

网关返回的视频链接带有签名 token，无需密钥即可在浏览器中播放。网关也支持 Luma、Runway 和 Kling 各自的原生接口格式（\`/luma/generations\`、\`/runwayml/v1/…\`、\`/kling/v1/…\`），方便为它们编写的客户端直接使用。设置 \`notify_hook\` 后，任务每次状态变化都会 POST 到你的 URL，并带有 \`X-Switchyard-Signature\` 签名（签名密钥：\`GET {ORIGIN}/api/me/webhook-secret\`）。
`,
  },
  {
    slug: 'gpts',
    title: { en: 'GPTs', zh: 'GPTs 相关' },
    en: `
# GPTs

OpenAI's custom GPTs (the ones made in ChatGPT) are not part of OpenAI's API, so this gateway has no special support for them.

What does work: some upstream providers offer GPTs under model names (often \`gpt-4-gizmo-g-…\`). If the operator connects such a provider as a channel, serves those names (or a pattern such as \`gpt-4-gizmo-*\`) and sets a price, they are routed like any other model: call them through \`/v1/chat/completions\` with the model name.

\`\`\`sh
curl {BASE}/models -H "Authorization: Bearer sk-…"   # is there a GPT model in your list?
\`\`\`

Patterns are served but not listed, so a GPT name may work although \`/v1/models\` does not show it; if it is not served you get \`404 model_not_found\`. Ask the operator which names are available.
`,
    zh: `
# GPTs 相关

OpenAI 的自定义 GPTs（在 ChatGPT 中创建的 GPTs）不属于 OpenAI 的 API，本网关对它们没有专门的支持。

可以使用的情况：有些上游服务商以模型名的形式提供 GPTs（通常是 \`gpt-4-gizmo-g-…\`）。如果站长把这样的服务商接入为渠道、开放这些模型名（或 \`gpt-4-gizmo-*\` 这样的通配）并设置了价格，它们就像其他模型一样被路由：用这个模型名调用 \`/v1/chat/completions\` 即可。

\`\`\`sh
curl {BASE}/models -H "Authorization: Bearer sk-…"   # 你的模型列表里有 GPTs 吗？
\`\`\`

通配符匹配的模型可以调用，但不会出现在列表中，所以某个 GPT 模型名即使不在 \`/v1/models\` 里也可能可用；如果不可用，会返回 \`404 model_not_found\`。具体有哪些模型名，请咨询站长。
`,
  },
  {
    slug: 'suno',
    title: { en: 'Suno music', zh: '文生音乐 Suno' },
    en: `
# Suno music

**Not supported yet.** This gateway does not relay Suno or other music generation today: a request for a music model gets \`404 model_not_found\` unless the operator serves it through an OpenAI-compatible chat channel.

What will come: music will run as tasks, like [videos](#/docs/video) already do: held and charged only when the song is made, refunded on failure, followed through the chat format (progress, then a link that plays) and a native Suno-style API, and listed in the [Tasks](#/tasks) gallery with a player. The task engine is built for this; the Suno provider and its front door are not written yet.

Until then, [text to speech](#/docs/requests) (\`POST {BASE}/audio/speech\`) is available for spoken audio where the operator offers it.
`,
    zh: `
# 文生音乐 Suno

**暂不支持。** 本网关目前不中转 Suno 或其他音乐生成服务：请求音乐模型会返回 \`404 model_not_found\`，除非站长通过兼容 OpenAI 的对话渠道提供它。

后续计划：音乐将和 [视频](#/docs/video) 一样以任务方式运行：先预扣，生成成功才扣费，失败退款；可以通过 Chat 格式调用（先显示进度，再给出可播放的链接），也会提供 Suno 风格的原生接口，并在 [任务](#/tasks) 页面中带播放器展示。任务引擎已为此设计，Suno 的接入和接口尚未实现。

在此之前，如站长已开放，可使用 [语音合成](#/docs/requests)（\`POST {BASE}/audio/speech\`）生成语音。
`,
  },
  {
    slug: 'python',
    title: { en: 'Python setup', zh: 'Python配置方式' },
    en: `
# Python setup

Install OpenAI's official package:

\`\`\`sh
pip install openai
\`\`\`

## In code

\`\`\`python
from openai import OpenAI

client = OpenAI(base_url="{BASE}", api_key="sk-…")
reply = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Hello!"}],
)
print(reply.choices[0].message.content)
\`\`\`

## With environment variables

The SDK reads \`OPENAI_BASE_URL\` and \`OPENAI_API_KEY\`, so code written for OpenAI runs here unchanged:

\`\`\`sh
export OPENAI_BASE_URL="{BASE}"
export OPENAI_API_KEY="sk-…"
\`\`\`

\`\`\`python
from openai import OpenAI

client = OpenAI()  # takes both from the environment
\`\`\`

On Windows (PowerShell): \`$env:OPENAI_BASE_URL="{BASE}"\` and \`$env:OPENAI_API_KEY="sk-…"\`.

## Async, and libraries built on the SDK

\`AsyncOpenAI(base_url=…, api_key=…)\` works the same. Libraries such as LangChain (\`ChatOpenAI(base_url="{BASE}", api_key="sk-…", model="gpt-4o-mini")\`) and LlamaIndex take the same two settings.

Errors raise the SDK's usual exceptions (\`openai.AuthenticationError\`, \`openai.RateLimitError\`…); see the [Help center](#/docs/help).
`,
    zh: `
# Python 配置方式

安装 OpenAI 官方库：

\`\`\`sh
pip install openai
\`\`\`

## 在代码中配置

\`\`\`python
from openai import OpenAI

client = OpenAI(base_url="{BASE}", api_key="sk-…")
reply = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "你好！"}],
)
print(reply.choices[0].message.content)
\`\`\`

## 使用环境变量

SDK 会读取 \`OPENAI_BASE_URL\` 和 \`OPENAI_API_KEY\`，为 OpenAI 编写的代码无需修改即可运行：

\`\`\`sh
export OPENAI_BASE_URL="{BASE}"
export OPENAI_API_KEY="sk-…"
\`\`\`

\`\`\`python
from openai import OpenAI

client = OpenAI()  # 两项设置都从环境变量读取
\`\`\`

Windows（PowerShell）：\`$env:OPENAI_BASE_URL="{BASE}"\` 和 \`$env:OPENAI_API_KEY="sk-…"\`。

## 异步调用，以及基于 SDK 的框架

\`AsyncOpenAI(base_url=…, api_key=…)\` 用法相同。LangChain（\`ChatOpenAI(base_url="{BASE}", api_key="sk-…", model="gpt-4o-mini")\`）、LlamaIndex 等框架也只需配置这两项。

出错时 SDK 会抛出常见的异常（\`openai.AuthenticationError\`、\`openai.RateLimitError\` 等），见 [帮助中心](#/docs/help)。
`,
  },
  {
    slug: 'nodejs',
    title: { en: 'Node.js setup', zh: 'nodejs 配置方式' },
    en: `
# Node.js setup

Install OpenAI's official package:

\`\`\`sh
npm i openai
\`\`\`

## In code

\`\`\`js
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: '{BASE}', apiKey: 'sk-…' });

const reply = await client.chat.completions.create({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hello!' }],
});
console.log(reply.choices[0].message.content);
\`\`\`

## Streaming

\`\`\`js
const stream = await client.chat.completions.create({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Tell me a story' }],
  stream: true,
  stream_options: { include_usage: true },
});
for await (const chunk of stream) {
  if (chunk.choices.length) process.stdout.write(chunk.choices[0].delta?.content || '');
  else if (chunk.usage) console.log('\\n', chunk.usage);
}
\`\`\`

## With environment variables

\`new OpenAI()\` reads \`OPENAI_BASE_URL\` and \`OPENAI_API_KEY\`:

\`\`\`sh
export OPENAI_BASE_URL="{BASE}"
export OPENAI_API_KEY="sk-…"
node app.mjs
\`\`\`

Keep the key on the server: a key in a web page's JavaScript can be read by anyone who opens the page.
`,
    zh: `
# Node.js 配置方式

安装 OpenAI 官方库：

\`\`\`sh
npm i openai
\`\`\`

## 在代码中配置

\`\`\`js
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: '{BASE}', apiKey: 'sk-…' });

const reply = await client.chat.completions.create({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: '你好！' }],
});
console.log(reply.choices[0].message.content);
\`\`\`

## 流式输出

\`\`\`js
const stream = await client.chat.completions.create({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: '讲一个故事' }],
  stream: true,
  stream_options: { include_usage: true },
});
for await (const chunk of stream) {
  if (chunk.choices.length) process.stdout.write(chunk.choices[0].delta?.content || '');
  else if (chunk.usage) console.log('\\n', chunk.usage);
}
\`\`\`

## 使用环境变量

\`new OpenAI()\` 会读取 \`OPENAI_BASE_URL\` 和 \`OPENAI_API_KEY\`：

\`\`\`sh
export OPENAI_BASE_URL="{BASE}"
export OPENAI_API_KEY="sk-…"
node app.mjs
\`\`\`

请把密钥放在服务端：写在网页 JavaScript 里的密钥，任何打开页面的人都能看到。
`,
  },
  {
    slug: 'apps',
    title: { en: 'Plugins and apps', zh: '各种插件/软件使用教程' },
    en: `
# Plugins and apps

Any app that lets you set an OpenAI **API key** and a custom **base URL** (also called API host, endpoint, proxy address) works with this server. Three things to fill in:

| | |
|---|---|
| Base URL | \`{BASE}\`, or \`{ORIGIN}\` for apps that add \`/v1\` themselves |
| API key | your \`sk-…\` key |
| Model | a name from your model list (\`GET {BASE}/models\`); add it by hand if the app does not fetch the list |

**Tip:** apps differ on whether the address includes \`/v1\`. If you get a \`404\`, try the other form. The app's request then shows up in the [Logs](#/logs) page when it reached the server.

## ChatGPT-Next-Web / NextChat

Settings → tick *Custom endpoint* → *Endpoint*: \`{ORIGIN}\` (NextChat adds \`/v1/…\` itself) → *API Key*: \`sk-…\` → *Custom models*: add your model names, comma separated.

## LobeChat

Settings → *Language model* (AI service provider) → *OpenAI* → *API Key*: \`sk-…\`, *API proxy address*: \`{BASE}\` → check the connection, then fetch or add the models.

## Cherry Studio

Settings → *Model provider* → add a provider of type *OpenAI* → *API key*: \`sk-…\`, *API address*: \`{ORIGIN}\` (Cherry Studio adds \`/v1\`) → *Manage* to pick models from the list.

## Open WebUI

Admin panel → Settings → *Connections* → *OpenAI API*: URL \`{BASE}\`, key \`sk-…\` → save; the models appear in the model picker.

## Cursor, VS Code extensions

- **Cursor**: Settings → *Models* → *OpenAI API Key*: \`sk-…\`, enable *Override OpenAI Base URL*: \`{BASE}\`, then add the model name. Cursor sends requests from its own servers, so this server must be reachable from the internet.
- **Continue** (VS Code / JetBrains): add a model with provider \`openai\`, \`apiBase\` \`{BASE}\`, \`apiKey\` \`sk-…\` and \`model\` the model name.
- Other extensions (Cline, Roo Code…): choose the *OpenAI Compatible* provider and fill in the same three values.

## Apps that speak Anthropic's or Google's API

Tools built on Anthropic's SDK take \`ANTHROPIC_BASE_URL={ORIGIN}\` and the key as their API key; Google's Gen AI SDK takes \`{ORIGIN}\` as its base URL. See [Chat models](#/docs/chat).
`,
    zh: `
# 各种插件/软件使用教程

任何可以填写 OpenAI **API 密钥**和自定义 **Base URL**（也叫接口地址、API Host、代理地址）的软件都可以使用本站。需要填写三项：

| | |
|---|---|
| Base URL | \`{BASE}\`；会自动补上 \`/v1\` 的软件填 \`{ORIGIN}\` |
| API 密钥 | 你的 \`sk-…\` 密钥 |
| 模型 | 你的模型列表中的名称（\`GET {BASE}/models\`）；软件不自动获取列表时手动添加 |

**提示：**不同软件对地址是否带 \`/v1\` 的要求不同。如果返回 \`404\`，换另一种写法试试。请求到达本站后，可以在 [日志](#/logs) 页面看到。

## ChatGPT-Next-Web / NextChat

设置 → 勾选“自定义接口” → “接口地址”：\`{ORIGIN}\`（NextChat 会自动补上 \`/v1/…\`）→ “API Key”：\`sk-…\` → “自定义模型名”：填入你的模型名，用英文逗号分隔。

## LobeChat

设置 → “语言模型”（AI 服务商）→ “OpenAI” → “API Key”：\`sk-…\`，“API 代理地址”：\`{BASE}\` → 检查连通性，然后获取或添加模型。

## Cherry Studio

设置 → “模型服务” → 添加一个类型为 “OpenAI” 的服务商 → “API 密钥”：\`sk-…\`，“API 地址”：\`{ORIGIN}\`（Cherry Studio 会自动补上 \`/v1\`）→ 点击“管理”从列表中选择模型。

## Open WebUI

管理员面板 → 设置 → “外部连接” → “OpenAI API”：URL 填 \`{BASE}\`，密钥填 \`sk-…\` → 保存；模型会出现在模型选择器中。

## Cursor、VS Code 插件

- **Cursor**：Settings → “Models” → “OpenAI API Key”：\`sk-…\`，开启 “Override OpenAI Base URL”：\`{BASE}\`，然后添加模型名。Cursor 从它自己的服务器发出请求，因此本站需要能从公网访问。
- **Continue**（VS Code / JetBrains）：添加一个模型，provider 为 \`openai\`，\`apiBase\` 为 \`{BASE}\`，\`apiKey\` 为 \`sk-…\`，\`model\` 为模型名。
- 其他插件（Cline、Roo Code 等）：选择 “OpenAI Compatible” 服务商，填入同样的三项。

## 使用 Anthropic 或 Google 接口的软件

基于 Anthropic SDK 的工具：设置 \`ANTHROPIC_BASE_URL={ORIGIN}\`，API 密钥填你的密钥；Google Gen AI SDK 的 base URL 填 \`{ORIGIN}\`。见 [Chat 模型](#/docs/chat)。
`,
  },
  {
    slug: 'help',
    title: { en: 'Help center', zh: '帮助中心' },
    en: `
# Help center

## What an error status means

| Status | Code | Meaning | What to do |
|---|---|---|---|
| 400 | \`invalid_json\`, or \`param\` set | the request is malformed: the message says what, \`param\` names the field | fix the request |
| 401 | \`invalid_api_key\` | no key, an unknown key, a disabled or expired key, or a disabled account | check the key on the [Keys](#/keys) page; create a new one if needed |
| 403 | \`model_not_allowed\` | the key's model list excludes this model | use another model, or change the key's models |
| 403 | \`permission_denied\` | the key is used from an address outside its IP allow-list, or the model has no price on this server | check the key's IP list; ask the operator to price the model |
| 404 | \`model_not_found\` | no channel serves this model | check the name against \`GET {BASE}/models\` |
| 429 | \`insufficient_quota\` | your balance, or the key's quota, does not cover the request's worst-case cost; nothing was sent upstream | top up, raise the key's quota, or set a lower \`max_tokens\` (the hold is based on it). Retrying will not help |
| 429 | \`rate_limit_exceeded\` | every provider channel tried was rate-limited | retry after a moment (\`retry-after\` says when) |
| 502 | \`upstream_error\` | every channel tried failed | retry; tell the operator if it persists |
| 503 | \`no_available_channel\` | no channel can serve this model right now (none for your group, or all paused after failures) | retry in a minute; tell the operator if it persists |

Every answer carries an \`x-request-id\`: quote it when you report a problem.

## Balance

Your balance is on the [Dashboard](#/dashboard). With a key: \`GET {ORIGIN}/api/me\` answers your user, with \`balance_nano\` in billionths of a dollar (\`1000000000\` = $1). Old clients that show a key's balance read \`GET {BASE}/dashboard/billing/subscription\`.

\`\`\`sh
curl {ORIGIN}/api/me -H "Authorization: Bearer sk-…"
\`\`\`

A request holds its worst-case cost while it runs, so a balance close to zero can refuse a large \`max_tokens\` even if the answer would be short. Top-ups are made by the operator.

## Logs

The [Logs](#/logs) page lists every request: time, model, tokens, cost, latency, status and error. Filter by key, model or status to find a failed request; the request id matches the \`x-request-id\` header. Video tasks are listed under [Tasks](#/tasks) and in the logs once they end.

## Common questions

- **The answer is cut off.** Raise \`max_tokens\`, or leave it out.
- **A stream stops with an error event.** The provider broke off mid-answer; you are billed only for what was produced. Retry.
- **My video failed.** The reason is shown in the chat and on the [Tasks](#/tasks) page; failed videos are refunded in full.
- **Can I use the key in a browser app?** It works (CORS is open), but anyone who opens the page can read the key: use a key with a small quota and a model list.
`,
    zh: `
# 帮助中心

## 错误状态码的含义

| 状态码 | 错误码 | 含义 | 处理办法 |
|---|---|---|---|
| 400 | \`invalid_json\` 或带 \`param\` | 请求格式有误：message 说明原因，\`param\` 指出字段 | 修正请求 |
| 401 | \`invalid_api_key\` | 没有密钥、密钥不存在、已禁用或已过期，或账户已禁用 | 在 [密钥](#/keys) 页面检查密钥，必要时新建一个 |
| 403 | \`model_not_allowed\` | 这个密钥的可用模型不包含该模型 | 换一个模型，或修改密钥的可用模型 |
| 403 | \`permission_denied\` | 从 IP 白名单以外的地址使用密钥，或该模型在本站没有设置价格 | 检查密钥的 IP 白名单；请站长为模型设置价格 |
| 404 | \`model_not_found\` | 没有渠道提供这个模型 | 对照 \`GET {BASE}/models\` 检查模型名 |
| 429 | \`insufficient_quota\` | 余额或密钥额度不足以预扣这次请求的最高费用，请求没有发往上游 | 充值、提高密钥额度，或调小 \`max_tokens\`（预扣按它计算）。重试无效 |
| 429 | \`rate_limit_exceeded\` | 尝试过的所有上游渠道都被限流 | 稍后重试（\`retry-after\` 头给出等待时间） |
| 502 | \`upstream_error\` | 尝试过的所有渠道都失败了 | 重试；持续出现请联系站长 |
| 503 | \`no_available_channel\` | 当前没有渠道能提供这个模型（你的分组没有渠道，或渠道都因故障暂停） | 一分钟后重试；持续出现请联系站长 |

每个响应都带有 \`x-request-id\`，反馈问题时请附上它。

## 余额

余额显示在 [仪表盘](#/dashboard) 上。用密钥查询：\`GET {ORIGIN}/api/me\` 返回你的用户信息，其中 \`balance_nano\` 以十亿分之一美元为单位（\`1000000000\` = 1 美元）。显示密钥余额的旧客户端读取 \`GET {BASE}/dashboard/billing/subscription\`。

\`\`\`sh
curl {ORIGIN}/api/me -H "Authorization: Bearer sk-…"
\`\`\`

请求进行中会预扣最高可能的费用，所以余额接近零时，设置了很大 \`max_tokens\` 的请求可能被拒绝，即使实际回答很短。充值由站长操作。

## 日志

[日志](#/logs) 页面列出每个请求：时间、模型、token、费用、耗时、状态和错误。按密钥、模型或状态筛选即可找到失败的请求；请求 ID 与 \`x-request-id\` 响应头一致。视频任务显示在 [任务](#/tasks) 页面，结束后也会记入日志。

## 常见问题

- **回答被截断了。** 调大 \`max_tokens\`，或者不设置它。
- **流式输出中途出现错误事件。** 服务商在回答过程中中断了；只按已生成的部分计费。请重试。
- **视频生成失败了。** 原因显示在对话中和 [任务](#/tasks) 页面上；失败的视频全额退款。
- **可以在浏览器应用里直接使用密钥吗？** 可以（已开放 CORS），但打开页面的人都能看到密钥：请使用额度较小、限定模型的密钥。
`,
  },
];

// ---------- the page ----------

function fill(md) {
  return md.replaceAll('{BASE}', baseUrl()).replaceAll('{ORIGIN}', location.origin);
}

function toc(current, l) {
  // Open on wide screens; on a phone the list folds away above the page.
  const wide = !window.matchMedia || !window.matchMedia('(max-width: 760px)').matches;
  return h('nav', { class: 'docs-toc', 'aria-label': t('docs.toc') },
    h('details', { open: wide },
      h('summary', {}, t('docs.toc')),
      h('ol', {}, PAGES.map((p) => h('li', {},
        h('a', { href: '#/docs/' + p.slug, 'aria-current': p.slug === current ? 'page' : undefined }, p.title[l]))))));
}

export default {
  path: 'docs', title: 'nav.docs', admin: false, icon: '¶',
  render(main, ctx) {
    const l = lang() === 'zh' ? 'zh' : 'en';
    const slug = ctx.params[0] || 'intro';
    const idx = PAGES.findIndex((p) => p.slug === slug);
    const page = PAGES[idx];
    const body = page
      ? h('article', { class: 'docs-body', 'aria-labelledby': 'docs-h1' },
        h('p', { class: 'docs-base' }, h('span', { class: 'muted' }, t('docs.base') + ': '), h('code', {}, baseUrl())),
        renderMarkdown(fill(page[l]), { copy: true }),
        h('nav', { class: 'docs-pager', 'aria-label': t('docs.toc') },
          idx > 0 ? h('a', { href: '#/docs/' + PAGES[idx - 1].slug, rel: 'prev' }, t('docs.prev', { title: PAGES[idx - 1].title[l] })) : h('span'),
          idx < PAGES.length - 1 ? h('a', { href: '#/docs/' + PAGES[idx + 1].slug, rel: 'next' }, t('docs.next', { title: PAGES[idx + 1].title[l] })) : h('span')))
      : h('p', { class: 'empty' }, t('docs.not_found'));
    const h1 = body.querySelector('h1');
    if (h1) h1.id = 'docs-h1';
    mount(main, h('div', { class: 'docs-layout' }, toc(page ? slug : null, l), body));
    if (page) document.title = `${page.title[l]} · ${t('app.name')}`;
    window.scrollTo(0, 0);
  },
};
