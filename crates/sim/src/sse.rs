//! Server-sent-event bodies with the stream faults applied: delays between
//! chunks and an abrupt cut that surfaces as a body error on the client.

use std::io;
use std::time::Duration;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;

use crate::fault::Faults;

/// One SSE event; `content` marks events that count towards `cut_after`.
pub struct Frame {
    data: Bytes,
    content: bool,
}

impl Frame {
    pub fn json(value: &Value, content: bool) -> Frame {
        Frame {
            data: Bytes::from(format!("data: {value}\n\n")),
            content,
        }
    }

    /// A named event (`event: name`), as Anthropic streams them.
    pub fn event(name: &str, value: &Value, content: bool) -> Frame {
        Frame::raw(format!("event: {name}\ndata: {value}\n\n"), content)
    }

    /// An event written out in full (for formats with their own line ends).
    pub fn raw(event: String, content: bool) -> Frame {
        Frame {
            data: Bytes::from(event),
            content,
        }
    }

    pub fn done() -> Frame {
        Frame {
            data: Bytes::from_static(b"data: [DONE]\n\n"),
            content: false,
        }
    }
}

pub fn response(frames: Vec<Frame>, faults: &Faults) -> Response {
    let cut = faults
        .cut_after
        .and_then(|n| cut_index(frames.iter().map(|f| f.content), n));
    let chunks = frames.into_iter().map(|f| f.data).collect();
    let body = Body::from_stream(stream(chunks, cut, faults.chunk_delay()));
    let headers = [
        (header::CONTENT_TYPE, "text/event-stream"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    (headers, body).into_response()
}

/// Index of the first frame not sent when cutting after `n` content frames:
/// the (n+1)-th content frame, or the frame after the n-th if it was the last.
/// `None` when the stream has fewer than `n` content frames.
fn cut_index(content: impl Iterator<Item = bool>, n: usize) -> Option<usize> {
    let mut seen = 0;
    let mut after_last = None;
    for (i, is_content) in content.enumerate() {
        if !is_content {
            continue;
        }
        if seen == n {
            return Some(i);
        }
        seen += 1;
        after_last = Some(i + 1);
    }
    if seen == n {
        after_last.or(Some(0))
    } else {
        None
    }
}

struct State {
    chunks: std::vec::IntoIter<Bytes>,
    sent: usize,
    cut: Option<usize>,
    delay: Duration,
}

fn stream(
    chunks: Vec<Bytes>,
    cut: Option<usize>,
    delay: Duration,
) -> impl futures::Stream<Item = io::Result<Bytes>> + Send + 'static {
    let state = State {
        chunks: chunks.into_iter(),
        sent: 0,
        cut,
        delay,
    };
    futures::stream::unfold(Some(state), |state| async move {
        let mut st = state?;
        if st.sent > 0 && !st.delay.is_zero() {
            tokio::time::sleep(st.delay).await;
        }
        if st.cut == Some(st.sent) {
            // Returning Pending once lets hyper flush what was already
            // written; then the error makes it drop the connection mid-body.
            tokio::task::yield_now().await;
            return Some((Err(io::Error::other("sim: cut_after fault")), None));
        }
        let chunk = st.chunks.next()?;
        st.sent += 1;
        Some((Ok(chunk), Some(st)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(flags: &[bool], n: usize) -> Option<usize> {
        cut_index(flags.iter().copied(), n)
    }

    #[test]
    fn cut_positions() {
        // role, 3 words, finish, done
        let f = [false, true, true, true, false, false];
        assert_eq!(idx(&f, 0), Some(1));
        assert_eq!(idx(&f, 2), Some(3));
        assert_eq!(idx(&f, 3), Some(4));
        assert_eq!(idx(&f, 4), None);
        assert_eq!(idx(&[false, false], 0), Some(0));
    }
}
