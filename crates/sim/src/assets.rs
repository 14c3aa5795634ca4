//! Tiny static files served under `/sim/files/`, so image and video URLs
//! returned by the simulator point at something a client can actually
//! download, decode and play.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// A valid 8x8 RGB PNG (solid colour). Embedded as bytes so the crate has no
/// binary files and no runtime file access.
pub const IMAGE_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, //
    0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x08, //
    0x08, 0x02, 0x00, 0x00, 0x00, 0x4b, 0x6d, 0x29, 0xdc, 0x00, 0x00, 0x00, //
    0x11, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x30, 0x9e, 0x79, 0x06, //
    0x2b, 0x62, 0x18, 0x5a, 0x12, 0x00, 0xb4, 0xd1, 0x66, 0x01, 0x2d, 0x79, //
    0x41, 0x78, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, //
    0x60, 0x82,
];

/// A 2 s, 320x180, 12 fps H.264 (constrained baseline) MP4 with `+faststart`,
/// so browsers can start playing before the whole file has arrived. Made with
/// ffmpeg's `testsrc`; see `assets/README.md`.
pub const VIDEO_MP4: &[u8] = include_bytes!("../assets/video.mp4");
/// The first frame of [`VIDEO_MP4`] as a JPEG.
pub const THUMBNAIL_JPG: &[u8] = include_bytes!("../assets/thumbnail.jpg");
/// The last frame of [`VIDEO_MP4`] as a JPEG.
pub const LAST_FRAME_JPG: &[u8] = include_bytes!("../assets/last_frame.jpg");
/// Frame size of [`VIDEO_MP4`] and both JPEGs, reported in task results.
pub const VIDEO_WIDTH: u32 = 320;
pub const VIDEO_HEIGHT: u32 = 180;

/// ID3v2.4 header with an empty tag; players skip it and look for frames.
const ID3_HEADER: [u8; 10] = [b'I', b'D', b'3', 4, 0, 0, 0, 0, 0, 0];

/// MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no CRC, no padding:
/// 144 * 128000 / 44100 = 417 bytes per frame.
const MP3_FRAME_HEADER: [u8; 4] = [0xff, 0xfb, 0x90, 0x64];
const MP3_FRAME_LEN: usize = 417;

/// Bytes that look like an MP3 (ID3 tag + silent frames). One frame per
/// started 16 characters of input keeps the size proportional to the text.
pub fn speech_mp3(input_chars: usize) -> Vec<u8> {
    let frames = 1 + input_chars / 16;
    let mut out = Vec::with_capacity(ID3_HEADER.len() + frames * MP3_FRAME_LEN);
    out.extend_from_slice(&ID3_HEADER);
    for _ in 0..frames {
        out.extend_from_slice(&MP3_FRAME_HEADER);
        out.resize(out.len() + MP3_FRAME_LEN - MP3_FRAME_HEADER.len(), 0);
    }
    out
}

/// `GET /sim/files/image.png`
pub async fn image_png(headers: HeaderMap) -> Response {
    serve(&headers, IMAGE_PNG, "image/png")
}

/// `GET /sim/files/video.mp4`
pub async fn video_mp4(headers: HeaderMap) -> Response {
    serve(&headers, VIDEO_MP4, "video/mp4")
}

/// `GET /sim/files/thumbnail.jpg`
pub async fn thumbnail_jpg(headers: HeaderMap) -> Response {
    serve(&headers, THUMBNAIL_JPG, "image/jpeg")
}

/// `GET /sim/files/last_frame.jpg`
pub async fn last_frame_jpg(headers: HeaderMap) -> Response {
    serve(&headers, LAST_FRAME_JPG, "image/jpeg")
}

/// The whole file, or the one byte range asked for: browsers' video players
/// probe with `Range: bytes=0-` and refuse to seek without a 206.
pub fn serve(headers: &HeaderMap, bytes: &'static [u8], content_type: &'static str) -> Response {
    let ranged = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let len = bytes.len();
    let (status, body, content_range) = match ranged.map(|r| byte_range(r, len)) {
        None | Some(Range::Ignored) => (StatusCode::OK, bytes, None),
        Some(Range::Unsatisfiable) => {
            let unsatisfiable = format!("bytes */{len}");
            (
                StatusCode::RANGE_NOT_SATISFIABLE,
                &[][..],
                Some(unsatisfiable),
            )
        }
        Some(Range::Bytes(start, end)) => (
            StatusCode::PARTIAL_CONTENT,
            &bytes[start..=end],
            Some(format!("bytes {start}-{end}/{len}")),
        ),
    };
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    if let Some(range) = content_range.and_then(|r| HeaderValue::from_str(&r).ok()) {
        h.insert(header::CONTENT_RANGE, range);
    }
    resp
}

#[derive(Debug, PartialEq, Eq)]
enum Range {
    /// Inclusive byte offsets, already clamped to the file.
    Bytes(usize, usize),
    Unsatisfiable,
    /// Malformed or multi-range: RFC 9110 lets a server answer 200 instead.
    Ignored,
}

/// Parse `bytes=a-b`, `bytes=a-` or `bytes=-n` against a file of `len` bytes.
fn byte_range(header: &str, len: usize) -> Range {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Range::Ignored;
    };
    if spec.contains(',') {
        return Range::Ignored;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Range::Ignored;
    };
    let (first, last) = (first.trim(), last.trim());
    let parse = |s: &str| s.parse::<usize>().ok();
    let (start, end) = match (first.is_empty(), last.is_empty()) {
        // Suffix form: the last n bytes.
        (true, false) => match parse(last) {
            Some(0) => return Range::Unsatisfiable,
            Some(n) => (len.saturating_sub(n), len.saturating_sub(1)),
            None => return Range::Ignored,
        },
        (false, _) => {
            // An open end means "to the end of the file".
            let end = if last.is_empty() {
                Some(usize::MAX)
            } else {
                parse(last)
            };
            match (parse(first), end) {
                (Some(start), Some(end)) if start <= end => (start, end.min(len.saturating_sub(1))),
                _ => return Range::Ignored,
            }
        }
        (true, true) => return Range::Ignored,
    };
    if start >= len {
        return Range::Unsatisfiable;
    }
    Range::Bytes(start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mp3_grows_with_input() {
        let short = speech_mp3(1);
        let long = speech_mp3(200);
        assert!(short.starts_with(b"ID3"));
        assert_eq!(&short[10..12], &[0xff, 0xfb]);
        assert!(long.len() > short.len());
    }

    #[test]
    fn media_files_have_their_magic() {
        assert_eq!(&VIDEO_MP4[4..8], b"ftyp");
        for jpg in [THUMBNAIL_JPG, LAST_FRAME_JPG] {
            assert!(jpg.starts_with(&[0xff, 0xd8]));
            assert!(jpg.ends_with(&[0xff, 0xd9]));
        }
    }

    #[test]
    fn parses_byte_ranges() {
        assert_eq!(byte_range("bytes=0-9", 100), Range::Bytes(0, 9));
        assert_eq!(byte_range("bytes=90-", 100), Range::Bytes(90, 99));
        assert_eq!(byte_range("bytes=90-500", 100), Range::Bytes(90, 99));
        assert_eq!(byte_range("bytes=-10", 100), Range::Bytes(90, 99));
        assert_eq!(byte_range("bytes=-500", 100), Range::Bytes(0, 99));
        assert_eq!(byte_range("bytes=100-", 100), Range::Unsatisfiable);
        assert_eq!(byte_range("bytes=-0", 100), Range::Unsatisfiable);
        assert_eq!(byte_range("bytes=5-2", 100), Range::Ignored);
        assert_eq!(byte_range("bytes=0-1,4-5", 100), Range::Ignored);
        assert_eq!(byte_range("items=0-1", 100), Range::Ignored);
        assert_eq!(byte_range("bytes=x-1", 100), Range::Ignored);
    }

    #[test]
    fn png_has_signature_and_trailer() {
        assert!(IMAGE_PNG.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(IMAGE_PNG.ends_with(&[0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]));
    }
}
