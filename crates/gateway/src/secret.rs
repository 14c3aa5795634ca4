//! Secrets at rest and in memory: upstream keys are encrypted with AES-256-GCM under a
//! master key (from `SWITCHYARD_MASTER_KEY` or `<data-dir>/master.key`), and wrapped in
//! `Redacted` in memory so no `Debug` print or log line can show them.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(Clone)]
pub struct MasterKey(Key<Aes256Gcm>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    /// Any passphrase works: it is stretched to 256 bits with SHA-256.
    pub fn from_passphrase(p: &str) -> MasterKey {
        MasterKey(*Key::<Aes256Gcm>::from_slice(&Sha256::digest(p.as_bytes())))
    }

    /// The env value if given, else the data dir's key file, created (mode 0600) on first start.
    pub fn load(env: Option<&str>, data_dir: &Path) -> std::io::Result<MasterKey> {
        if let Some(p) = env.filter(|p| !p.is_empty()) {
            return Ok(Self::from_passphrase(p));
        }
        let path = data_dir.join("master.key");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            return Ok(Self::from_passphrase(existing.trim()));
        }
        let mut raw = [0u8; 32];
        OsRng.fill_bytes(&mut raw);
        let text = hex::encode(raw);
        std::fs::create_dir_all(data_dir)?;
        write_private(&path, &text)?;
        Ok(Self::from_passphrase(&text))
    }

    pub fn encrypt(&self, plain: &str) -> String {
        let cipher = Aes256Gcm::new(&self.0);
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ct = cipher
            .encrypt(&nonce, plain.as_bytes())
            .expect("AES-GCM encryption cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("v1:{}", B64.encode(out))
    }

    /// A short keyed signature of `data` (links the gateway hands out, e.g. video content).
    pub fn sign(&self, data: &str) -> String {
        use hmac::Mac;
        let mut mac = <hmac::Hmac<Sha256> as Mac>::new_from_slice(self.0.as_slice())
            .expect("HMAC takes any key length");
        mac.update(data.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    pub fn verify(&self, data: &str, signature: &str) -> bool {
        // Equal length hex strings compared without an early exit.
        let want = self.sign(data);
        want.len() == signature.len()
            && want
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    pub fn decrypt(&self, stored: &str) -> Result<String, &'static str> {
        let raw = stored.strip_prefix("v1:").ok_or("unknown key format")?;
        let bytes = B64.decode(raw).map_err(|_| "corrupt key")?;
        if bytes.len() < 13 {
            return Err("corrupt key");
        }
        let (nonce, ct) = bytes.split_at(12);
        let plain = Aes256Gcm::new(&self.0)
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| "key cannot be decrypted with this master key")?;
        String::from_utf8(plain).map_err(|_| "corrupt key")
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)?.write_all(text.as_bytes())
}

/// A secret string that prints as `***` (its last four characters shown for recognition).
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted(String);

impl Redacted {
    pub fn new(s: String) -> Self {
        Redacted(s)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn hint(&self) -> String {
        let n = self.0.chars().count();
        if n <= 8 {
            return "***".into();
        }
        let tail: String = self.0.chars().skip(n - 4).collect();
        format!("***{tail}")
    }
}

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_redaction() {
        let m = MasterKey::from_passphrase("test");
        let enc = m.encrypt("sk-upstream-secret-123456");
        assert!(!enc.contains("secret"));
        assert_eq!(m.decrypt(&enc).unwrap(), "sk-upstream-secret-123456");
        assert!(MasterKey::from_passphrase("other").decrypt(&enc).is_err());
        let r = Redacted::new("sk-upstream-secret-123456".into());
        assert_eq!(format!("{r:?}"), "***3456");
    }

    #[test]
    fn key_file_created_once() {
        let dir = std::env::temp_dir().join(format!("sy-mk-{}", rand::random::<u64>()));
        let a = MasterKey::load(None, &dir).unwrap();
        let b = MasterKey::load(None, &dir).unwrap();
        assert_eq!(b.decrypt(&a.encrypt("x")).unwrap(), "x");
        std::fs::remove_dir_all(dir).ok();
    }
}
