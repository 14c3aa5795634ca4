//! Tiny static files served under `/sim/files/`, so image URLs returned by the
//! simulator point at something a client can actually download and decode.

use axum::http::header;
use axum::response::IntoResponse;

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
pub async fn image_png() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/png")], IMAGE_PNG)
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
    fn png_has_signature_and_trailer() {
        assert!(IMAGE_PNG.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(IMAGE_PNG.ends_with(&[0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]));
    }
}
