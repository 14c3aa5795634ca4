//! A provider's SSE stream passed to the caller chunk by chunk, metered as it goes.
//!
//! Bytes are forwarded as they arrive, split only at line ends so each `data:` payload can be
//! read once. When caller and channel speak the same format the lines pass as they came
//! (an OpenAI stream loses only the usage chunk the caller did not ask for); otherwise each
//! event is decoded into OpenAI chunks and encoded again for the caller. Either way the
//! meter sees OpenAI chunks. However the stream ends — cleanly, broken by the provider, or
//! dropped by a caller who hung up — the settlement runs once, charging what was produced.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures::Stream;
use serde_json::Value;
use switchyard_wire::{anthropic, gemini, sse as wire_sse, Format};

use super::{adapter, Call, Settlement};
use crate::error::ApiError;
use crate::meter::{Seen, StreamMeter};
use crate::upstream::{Reply, ReplyBody};

type Upstream = http_body_util::BodyDataStream<ReplyBody>;

/// A channel's events as OpenAI chunks.
enum Decoder {
    OpenAi,
    Anthropic(anthropic::StreamDecoder),
    Gemini(gemini::StreamDecoder),
}

impl Decoder {
    fn new(from: Format, model: &str) -> Decoder {
        let created = adapter::now_secs();
        match from {
            Format::OpenAi => Decoder::OpenAi,
            Format::Anthropic => Decoder::Anthropic(anthropic::StreamDecoder::new(created)),
            Format::Gemini => Decoder::Gemini(gemini::StreamDecoder::new(model, created)),
        }
    }

    /// One `data:` payload (OpenAI's `[DONE]` is not passed here).
    fn event(&mut self, payload: &[u8]) -> Vec<Value> {
        let Ok(v) = serde_json::from_slice::<Value>(payload) else {
            return Vec::new();
        };
        match self {
            Decoder::OpenAi => vec![v],
            Decoder::Anthropic(d) => d.event(&v),
            Decoder::Gemini(d) => d.event(&v),
        }
    }

    fn finish(&mut self) -> Vec<Value> {
        match self {
            Decoder::OpenAi => Vec::new(),
            Decoder::Anthropic(d) => d.finish(),
            Decoder::Gemini(d) => d.finish(),
        }
    }
}

/// OpenAI chunks in the caller's format.
enum Encoder {
    OpenAi { with_usage: bool },
    Anthropic(anthropic::StreamEncoder),
    Gemini(gemini::StreamEncoder),
}

impl Encoder {
    fn new(to: Format, call: &Call) -> Encoder {
        match to {
            Format::OpenAi => Encoder::OpenAi {
                with_usage: call.wants_stream_usage,
            },
            Format::Anthropic => Encoder::Anthropic(anthropic::StreamEncoder::new(&call.model)),
            Format::Gemini => Encoder::Gemini(gemini::StreamEncoder::new(&call.model)),
        }
    }

    fn chunk(&mut self, c: &Value, seen: &Seen, out: &mut BytesMut) {
        match self {
            Encoder::OpenAi { with_usage } => {
                if *seen != Seen::UsageOnly || *with_usage {
                    out.extend_from_slice(wire_sse::data(c).as_bytes());
                }
            }
            Encoder::Anthropic(e) => anthropic_events(e.chunk(c), out),
            Encoder::Gemini(e) => gemini_events(e.chunk(c), out),
        }
    }

    fn finish(&mut self, out: &mut BytesMut) {
        match self {
            Encoder::OpenAi { .. } => out.extend_from_slice(wire_sse::DONE.as_bytes()),
            Encoder::Anthropic(e) => anthropic_events(e.finish(), out),
            Encoder::Gemini(e) => gemini_events(e.finish(), out),
        }
    }
}

fn anthropic_events(events: Vec<anthropic::Event>, out: &mut BytesMut) {
    for (name, data) in events {
        out.extend_from_slice(wire_sse::event(name, &data).as_bytes());
    }
}

fn gemini_events(events: Vec<Value>, out: &mut BytesMut) {
    for e in events {
        out.extend_from_slice(wire_sse::data(&e).as_bytes());
    }
}

enum Mode {
    /// Caller and channel speak the same format: lines pass as they came. A non-OpenAI
    /// stream is still decoded, for the meter only.
    Pass {
        decoder: Decoder,
        strip_usage_chunk: bool,
        /// Inside an event being dropped: skip lines until its blank terminator.
        dropping: bool,
    },
    /// The formats differ: events decoded, metered, and encoded for the caller.
    Translate { decoder: Decoder, encoder: Encoder },
}

pub struct MeteredStream {
    upstream: Upstream,
    buf: BytesMut,
    meter: StreamMeter,
    mode: Mode,
    caller: Format,
    request: Value,
    settlement: Option<Settlement>,
    started: Instant,
    first_byte: Option<Duration>,
    /// The first chunk was just handed over: pause once so it is written at once. The
    /// upstream connection is driven from this stream's poll, so the chunks that one read
    /// brought are otherwise all handed over, and written together, before the first
    /// reaches the caller.
    flush_first: bool,
    sent_any: bool,
    ended: bool,
}

impl MeteredStream {
    pub fn new(resp: Reply, settlement: Settlement, call: Call, from: Format) -> Self {
        let decoder = Decoder::new(from, &call.model);
        let mode = if from == call.caller {
            Mode::Pass {
                decoder,
                strip_usage_chunk: from == Format::OpenAi && !call.wants_stream_usage,
                dropping: false,
            }
        } else {
            Mode::Translate {
                decoder,
                encoder: Encoder::new(call.caller, &call),
            }
        };
        MeteredStream {
            upstream: http_body_util::BodyDataStream::new(resp.into_body()),
            buf: BytesMut::new(),
            meter: StreamMeter::default(),
            mode,
            caller: call.caller,
            // Kept only for the tokenizer fallback: taken from the call, not copied.
            request: call.payload.into_json(),
            settlement: Some(settlement),
            started: call.started,
            first_byte: None,
            flush_first: false,
            sent_any: false,
            ended: false,
        }
    }

    /// Take every complete line out of the buffer; returns what to send.
    fn drain_lines(&mut self) -> Bytes {
        if matches!(self.mode, Mode::Translate { .. }) {
            let mut out = BytesMut::new();
            while let Some(nl) = memchr::memchr(b'\n', &self.buf) {
                let line = self.buf.split_to(nl + 1);
                self.translate_line(&line, &mut out);
            }
            return out.freeze();
        }
        let mut out: Option<BytesMut> = None;
        let mut pos = 0;
        let mut passthrough_to = 0;
        while let Some(nl) = memchr::memchr(b'\n', &self.buf[pos..]) {
            let line_end = pos + nl + 1;
            let keep = self.keep_line(pos, line_end);
            if !keep && out.is_none() {
                out = Some(BytesMut::from(&self.buf[..pos]));
            }
            if let Some(o) = out.as_mut() {
                if keep {
                    o.extend_from_slice(&self.buf[pos..line_end]);
                }
            }
            pos = line_end;
            passthrough_to = line_end;
        }
        let complete = self.buf.split_to(passthrough_to).freeze();
        match out {
            None => complete,
            Some(o) => o.freeze(),
        }
    }

    /// Pass mode: meter the line and say whether it goes to the caller.
    fn keep_line(&mut self, start: usize, end: usize) -> bool {
        let Mode::Pass {
            decoder,
            strip_usage_chunk,
            dropping,
        } = &mut self.mode
        else {
            return true;
        };
        let line = trim_eol(&self.buf[start..end]);
        if line.is_empty() {
            let was = *dropping;
            *dropping = false;
            return !was;
        }
        if *dropping {
            return false;
        }
        let Some(payload) = wire_sse::data_payload(line) else {
            return true;
        };
        if let Decoder::OpenAi = decoder {
            if self.meter.observe(payload) == Seen::UsageOnly && *strip_usage_chunk {
                *dropping = true;
                return false;
            }
            return true;
        }
        for chunk in decoder.event(payload) {
            self.meter.observe_value(&chunk);
        }
        true
    }

    /// Translate mode: one line of the provider's stream into the caller's bytes.
    fn translate_line(&mut self, line: &[u8], out: &mut BytesMut) {
        let Mode::Translate { decoder, encoder } = &mut self.mode else {
            return;
        };
        let Some(payload) = wire_sse::data_payload(line) else {
            return;
        };
        if payload == b"[DONE]" {
            self.meter.observe(payload);
            return;
        }
        for chunk in decoder.event(payload) {
            let seen = self.meter.observe_value(&chunk);
            encoder.chunk(&chunk, &seen, out);
        }
    }

    /// The provider closed the stream: its last line, even without a line end.
    fn flush_rest(&mut self) -> Bytes {
        if !self.buf.is_empty() && !self.buf.ends_with(b"\n") {
            self.buf.extend_from_slice(b"\n");
        }
        self.drain_lines()
    }

    /// The provider finished cleanly: what the caller is still owed (the decoder's last
    /// chunks, the encoder's ending).
    fn finish(&mut self) -> Bytes {
        let mut out = BytesMut::new();
        match &mut self.mode {
            Mode::Pass { decoder, .. } => {
                for chunk in decoder.finish() {
                    self.meter.observe_value(&chunk);
                }
            }
            Mode::Translate { decoder, encoder } => {
                for chunk in decoder.finish() {
                    let seen = self.meter.observe_value(&chunk);
                    encoder.chunk(&chunk, &seen, &mut out);
                }
                encoder.finish(&mut out);
            }
        }
        out.freeze()
    }

    fn settle(&mut self, status: u16, error: Option<String>) {
        if let Some(s) = self.settlement.take() {
            let usage = self.meter.finish(&self.request);
            s.complete_later(usage, status, error, self.first_byte);
        }
    }

    /// The provider broke off: tell the caller plainly, in their error shape; no fake ending.
    fn broken(&mut self, why: String) -> Bytes {
        self.ended = true;
        let e = ApiError::upstream(
            axum::http::StatusCode::BAD_GATEWAY,
            format!("The upstream stream broke off: {why}"),
        );
        self.settle(502, Some(e.message.clone()));
        let mut out = BytesMut::new();
        if matches!(self.mode, Mode::Pass { .. })
            && !self.buf.is_empty()
            && !self.buf.ends_with(b"\n")
        {
            out.extend_from_slice(b"\n");
        }
        let event = match self.caller {
            Format::OpenAi => {
                let mut body = e.body();
                body["error"]["code"] = "upstream_stream_error".into();
                wire_sse::data(&body)
            }
            Format::Anthropic => {
                let (name, data) = anthropic::error_event("api_error", &e.message);
                wire_sse::event(name, &data)
            }
            Format::Gemini => wire_sse::data(&e.body_in(Format::Gemini)),
        };
        out.extend_from_slice(b"\n");
        out.extend_from_slice(event.as_bytes());
        out.freeze()
    }
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

impl Stream for MeteredStream {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if std::mem::take(&mut self.flush_first) {
            // Pending makes the server write what it holds; the wake polls again at once.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        loop {
            if self.ended {
                return Poll::Ready(None);
            }
            match Pin::new(&mut self.upstream).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    if self.first_byte.is_none() {
                        self.first_byte = Some(self.started.elapsed());
                    }
                    self.buf.extend_from_slice(&chunk);
                    let out = self.drain_lines();
                    if !out.is_empty() {
                        if !self.sent_any {
                            self.sent_any = true;
                            self.flush_first = true;
                        }
                        return Poll::Ready(Some(Ok(out)));
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    let msg = e.to_string();
                    let out = self.broken(msg);
                    return Poll::Ready(Some(Ok(out)));
                }
                Poll::Ready(None) => {
                    let mut out = BytesMut::from(&self.flush_rest()[..]);
                    if !self.meter.saw_done && !self.meter.finished {
                        out.extend_from_slice(&self.broken(
                            "the provider closed the stream before it was complete".into(),
                        ));
                        return Poll::Ready(Some(Ok(out.freeze())));
                    }
                    out.extend_from_slice(&self.finish());
                    self.ended = true;
                    self.settle(200, None);
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(out.freeze())));
                    }
                    return Poll::Ready(None);
                }
            }
        }
    }
}

impl Drop for MeteredStream {
    fn drop(&mut self) {
        // Still unsettled here means the caller went away mid-stream (499, as nginx says it):
        // dropping `upstream` cancels the provider call; bill what was produced so far.
        self.settle(499, Some("the caller closed the connection".into()));
    }
}
