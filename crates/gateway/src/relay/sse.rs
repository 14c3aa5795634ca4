//! A provider's SSE stream passed to the caller chunk by chunk, metered as it goes.
//!
//! Bytes are forwarded as they arrive, split only at line ends so each `data:` payload can be
//! read once. The usage-only chunk we asked for is dropped when the caller did not ask for it.
//! However the stream ends — cleanly, broken by the provider, or dropped by a caller who hung
//! up — the settlement runs once, charging what was produced.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures::Stream;
use serde_json::Value;

use super::{Call, Settlement};
use crate::error::ApiError;
use crate::meter::{Seen, StreamMeter};

type Upstream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

pub struct MeteredStream {
    upstream: Upstream,
    buf: BytesMut,
    meter: StreamMeter,
    strip_usage_chunk: bool,
    /// Inside an event being dropped: skip lines until its blank terminator.
    dropping: bool,
    request: Value,
    settlement: Option<Settlement>,
    started: Instant,
    first_byte: Option<Duration>,
    ended: bool,
}

impl MeteredStream {
    pub fn new(resp: reqwest::Response, settlement: Settlement, call: Call) -> Self {
        MeteredStream {
            upstream: Box::pin(resp.bytes_stream()),
            buf: BytesMut::new(),
            meter: StreamMeter::default(),
            strip_usage_chunk: !call.wants_stream_usage,
            dropping: false,
            request: call.request_json().clone(),
            settlement: Some(settlement),
            started: call.started,
            first_byte: None,
            ended: false,
        }
    }

    /// Take every complete line out of the buffer, metering `data:` lines; returns what to send.
    fn drain_lines(&mut self) -> Bytes {
        let mut out: Option<BytesMut> = None;
        let mut pos = 0;
        let mut passthrough_to = 0;
        while let Some(nl) = self.buf[pos..].iter().position(|b| *b == b'\n') {
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

    fn keep_line(&mut self, start: usize, end: usize) -> bool {
        let line = trim_eol(&self.buf[start..end]);
        if line.is_empty() {
            let was = self.dropping;
            self.dropping = false;
            return !was;
        }
        if self.dropping {
            return false;
        }
        let Some(payload) = line.strip_prefix(b"data:") else {
            return true;
        };
        let payload = payload.strip_prefix(b" ").unwrap_or(payload);
        if self.meter.observe(payload) == Seen::UsageOnly && self.strip_usage_chunk {
            self.dropping = true;
            return false;
        }
        true
    }

    fn settle(&mut self, status: u16, error: Option<String>) {
        if let Some(s) = self.settlement.take() {
            let usage = self.meter.finish(&self.request);
            s.complete_later(usage, status, error, self.first_byte);
        }
    }

    /// The provider broke off: tell the caller plainly, in OpenAI's error shape; no fake ending.
    fn broken(&mut self, why: String) -> Bytes {
        self.ended = true;
        let e = ApiError::upstream(
            axum::http::StatusCode::BAD_GATEWAY,
            format!("The upstream stream broke off: {why}"),
        );
        let mut body = e.body();
        body["error"]["code"] = "upstream_stream_error".into();
        self.settle(502, Some(e.message.clone()));
        let mut out = BytesMut::new();
        if !self.buf.is_empty() && !self.buf.ends_with(b"\n") {
            out.extend_from_slice(b"\n");
        }
        out.extend_from_slice(format!("\ndata: {body}\n\n").as_bytes());
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
        loop {
            if self.ended {
                return Poll::Ready(None);
            }
            match self.upstream.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    if self.first_byte.is_none() {
                        self.first_byte = Some(self.started.elapsed());
                    }
                    self.buf.extend_from_slice(&chunk);
                    let out = self.drain_lines();
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(out)));
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    let msg = e.to_string();
                    let out = self.broken(msg);
                    return Poll::Ready(Some(Ok(out)));
                }
                Poll::Ready(None) => {
                    if !self.meter.saw_done && !self.meter.finished {
                        let out = self
                            .broken("the provider closed the stream before it was complete".into());
                        return Poll::Ready(Some(Ok(out)));
                    }
                    self.ended = true;
                    self.settle(200, None);
                    let rest = self.buf.split().freeze();
                    if !rest.is_empty() {
                        return Poll::Ready(Some(Ok(rest)));
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
