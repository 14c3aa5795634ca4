//! Outbound requests to addresses callers chose (webhooks, images the gateway downloads) must
//! not reach the gateway's own network: loopback, private, link-local (cloud metadata), CGNAT
//! and the like are refused after DNS resolution and again after every redirect, unless the
//! operator allows a range. The connection is pinned to the address that was checked, so a
//! second DNS answer cannot sneak past.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;
use reqwest::Url;

use crate::catalog::parse_net;

#[derive(Debug, Clone, Default)]
pub struct NetGuard {
    allow: Vec<IpNet>,
}

const MAX_REDIRECTS: usize = 3;

impl NetGuard {
    pub fn new(allow: &[String]) -> NetGuard {
        NetGuard {
            allow: allow.iter().filter_map(|s| parse_net(s)).collect(),
        }
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allow.iter().any(|n| n.contains(&ip)) || is_public(ip)
    }

    /// Resolve `url`'s host and check every address it has.
    pub async fn check(&self, url: &Url) -> Result<SocketAddr, String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "only http(s) URLs are allowed, not {}",
                url.scheme()
            ));
        }
        let host = url.host_str().ok_or("the URL has no host")?;
        let port = url.port_or_known_default().unwrap_or(80);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect();
        let first = *addrs
            .first()
            .ok_or_else(|| format!("{host} has no address"))?;
        if let Some(bad) = addrs.iter().find(|a| !self.permits(a.ip())) {
            return Err(format!(
                "{host} resolves to {}, a private or reserved address",
                bad.ip()
            ));
        }
        Ok(first)
    }

    /// POST `body` to `url`, following redirects only to addresses that pass the check.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: String,
        timeout: Duration,
    ) -> Result<reqwest::StatusCode, String> {
        let mut url = Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
        for _ in 0..=MAX_REDIRECTS {
            let addr = self.check(&url).await?;
            let host = url.host_str().unwrap_or_default().to_string();
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .resolve(&host, addr)
                .timeout(timeout)
                .build()
                .map_err(|e| e.to_string())?;
            let mut req = client
                .post(url.clone())
                .header("content-type", "application/json")
                .body(body.clone());
            for (k, v) in headers {
                req = req.header(*k, v);
            }
            let resp = req
                .send()
                .await
                .map_err(|e| format!("delivery failed: {}", e.without_url()))?;
            if !resp.status().is_redirection() {
                return Ok(resp.status());
            }
            let location = resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .ok_or("a redirect without a Location")?;
            url = url
                .join(location)
                .map_err(|e| format!("bad redirect: {e}"))?;
        }
        Err("too many redirects".into())
    }
}

impl NetGuard {
    /// GET `url` (an image to inline for a provider that wants bytes), following redirects
    /// only to permitted addresses, and refusing bodies over `max_bytes`.
    pub async fn fetch(
        &self,
        url: &str,
        max_bytes: usize,
        timeout: Duration,
    ) -> Result<(Vec<u8>, String), String> {
        let mut url = Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
        for _ in 0..=MAX_REDIRECTS {
            let addr = self.check(&url).await?;
            let host = url.host_str().unwrap_or_default().to_string();
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .resolve(&host, addr)
                .timeout(timeout)
                .build()
                .map_err(|e| e.to_string())?;
            let mut resp = client
                .get(url.clone())
                .send()
                .await
                .map_err(|e| format!("fetching the image failed: {}", e.without_url()))?;
            if resp.status().is_redirection() {
                let location = resp
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .ok_or("a redirect without a Location")?;
                url = url
                    .join(location)
                    .map_err(|e| format!("bad redirect: {e}"))?;
                continue;
            }
            if !resp.status().is_success() {
                return Err(format!("fetching the image failed: {}", resp.status()));
            }
            let mime = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_string();
            let mut body = Vec::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| format!("reading the image failed: {}", e.without_url()))?
            {
                body.extend_from_slice(&chunk);
                if body.len() > max_bytes {
                    return Err(format!("the image is larger than {max_bytes} bytes"));
                }
            }
            return Ok((body, mime));
        }
        Err("too many redirects".into())
    }
}

/// Addresses on the public internet (not loopback, private, link-local, CGNAT, documentation,
/// multicast or unspecified), seeing through IPv4-mapped IPv6.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || s[0] == 0x2001 && s[1] == 0x0db8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges_are_refused() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(bad.parse().unwrap()), "{bad}");
        }
        for good in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(good.parse().unwrap()), "{good}");
        }
        let g = NetGuard::new(&["127.0.0.1/32".into()]);
        assert!(g.permits("127.0.0.1".parse().unwrap()));
        assert!(!g.permits("127.0.0.2".parse().unwrap()));
    }

    #[tokio::test]
    async fn check_resolves_then_refuses() {
        let g = NetGuard::default();
        let err = g
            .check(&Url::parse("http://localhost:9/x").unwrap())
            .await
            .unwrap_err();
        assert!(err.contains("private or reserved"), "{err}");
        assert!(g
            .check(&Url::parse("file:///etc/passwd").unwrap())
            .await
            .is_err());
    }
}
