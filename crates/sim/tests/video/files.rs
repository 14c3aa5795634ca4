//! `/sim/files/*`: real media with the right types, and byte ranges.

use reqwest::header;

use crate::common::start;

#[tokio::test]
async fn media_files_have_types_and_magic() {
    let s = start().await;
    let cases = [
        ("/sim/files/video.mp4", "video/mp4"),
        ("/sim/files/thumbnail.jpg", "image/jpeg"),
        ("/sim/files/last_frame.jpg", "image/jpeg"),
    ];
    for (path, kind) in cases {
        let resp = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()[header::CONTENT_TYPE], kind, "{path}");
        assert_eq!(resp.headers()[header::ACCEPT_RANGES], "bytes", "{path}");
        let len: usize = resp.headers()[header::CONTENT_LENGTH]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let body = resp.bytes().await.unwrap();
        assert_eq!(body.len(), len, "{path}");
        if kind == "video/mp4" {
            assert_eq!(&body[4..8], b"ftyp");
            assert!((2_000..=50_000).contains(&len), "mp4 is {len} bytes");
        } else {
            assert_eq!(&body[..2], &[0xff, 0xd8], "{path}");
        }
    }
}

#[tokio::test]
async fn range_requests_get_206() {
    let s = start().await;
    let url = s.url("/sim/files/video.mp4");
    let full = s.client.get(&url).send().await.unwrap();
    let full = full.bytes().await.unwrap();
    let total = full.len();

    let resp = s.client.get(&url).header(header::RANGE, "bytes=0-7");
    let resp = resp.send().await.unwrap();
    assert_eq!(resp.status(), 206);
    let range = format!("bytes 0-7/{total}");
    assert_eq!(resp.headers()[header::CONTENT_RANGE], range.as_str());
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "video/mp4");
    assert_eq!(resp.headers()[header::CONTENT_LENGTH], "8");
    let head = resp.bytes().await.unwrap();
    assert_eq!(&head[..], &full[..8]);
    assert_eq!(&head[4..8], b"ftyp");

    let resp = s.client.get(&url).header(header::RANGE, "bytes=100-");
    let resp = resp.send().await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(&resp.bytes().await.unwrap()[..], &full[100..]);

    let past_end = format!("bytes={total}-");
    let resp = s.client.get(&url).header(header::RANGE, past_end);
    let resp = resp.send().await.unwrap();
    assert_eq!(resp.status(), 416);
    let unsatisfiable = format!("bytes */{total}");
    assert_eq!(
        resp.headers()[header::CONTENT_RANGE],
        unsatisfiable.as_str()
    );
}

#[tokio::test]
async fn head_reports_length_without_body() {
    let s = start().await;
    let resp = s.client.head(s.url("/sim/files/thumbnail.jpg"));
    let resp = resp.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "image/jpeg");
    assert_ne!(resp.headers()[header::CONTENT_LENGTH], "0");
}
