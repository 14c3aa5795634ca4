//! The in-memory snapshot of everything the request path reads: keys, users, channels and
//! prices. Rebuilt from the store after every admin change (and periodically, so several
//! processes on one database converge) and swapped in atomically; requests never wait on it.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
// foldhash, not std's SipHash: these maps (and the budgets' and the channels' health) are
// read on every relayed request, and SipHash was 2% of its instructions.
use foldhash::HashMap;
use ipnet::IpNet;
use switchyard_store::{Channel, Price, Store};

use crate::secret::{MasterKey, Redacted};

#[derive(Debug, Clone)]
pub struct KeyEntry {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub quota_limited: bool,
    pub expires_at: Option<i64>,
    /// Empty = every model.
    pub models: Vec<String>,
    /// Empty = every address.
    pub ip_allow: Vec<IpNet>,
    pub enabled: bool,
}

impl KeyEntry {
    pub fn allows_model(&self, model: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|m| model_matches(m, model))
    }
    pub fn allows_ip(&self, ip: Option<IpAddr>) -> bool {
        self.ip_allow.is_empty()
            || ip.is_some_and(|ip| self.ip_allow.iter().any(|n| n.contains(&ip)))
    }
}

#[derive(Debug, Clone)]
pub struct UserEntry {
    pub id: String,
    pub name: String,
    pub role: String,
    pub group: String,
    pub enabled: bool,
}

impl UserEntry {
    pub fn is_admin(&self) -> bool {
        self.role == "admin" || self.role == "root"
    }
}

#[derive(Debug, Clone)]
pub struct ChannelEntry {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub base_url: String,
    pub keys: Vec<Redacted>,
    pub models: Vec<String>,
    pub model_map: BTreeMap<String, String>,
    pub groups: Vec<String>,
    pub priority: i64,
    pub weight: i64,
    pub status: String,
    pub test_model: Option<String>,
}

impl ChannelEntry {
    /// A stored channel, ready to call: keys decrypted (one that cannot be is skipped, loudly).
    pub fn from_row(ch: &Channel, master: &MasterKey) -> ChannelEntry {
        let keys = ch
            .key_list()
            .iter()
            .filter_map(|enc| match master.decrypt(enc) {
                Ok(k) => Some(Redacted::new(k)),
                Err(e) => {
                    tracing::error!(channel = %ch.name, error = e, "skipping an upstream key");
                    None
                }
            })
            .collect();
        ChannelEntry {
            id: ch.id.clone(),
            name: ch.name.clone(),
            kind: ch.kind.clone(),
            base_url: ch.base_url.clone(),
            keys,
            models: ch.model_list(),
            model_map: ch.model_map(),
            groups: ch.groups(),
            priority: ch.priority,
            weight: ch.weight,
            status: ch.status.clone(),
            test_model: ch.test_model.clone(),
        }
    }

    pub fn serves(&self, model: &str) -> bool {
        self.models.iter().any(|m| model_matches(m, model))
    }
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.is_empty() || self.groups.iter().any(|g| g == group)
    }
    /// The name the provider knows the model by.
    pub fn upstream_model<'a>(&'a self, model: &'a str) -> &'a str {
        self.model_map
            .get(model)
            .map(String::as_str)
            .unwrap_or(model)
    }
    /// The wire format the channel speaks.
    pub fn format(&self) -> switchyard_wire::Format {
        match self.kind.as_str() {
            "anthropic" => switchyard_wire::Format::Anthropic,
            "gemini" => switchyard_wire::Format::Gemini,
            _ => switchyard_wire::Format::OpenAi,
        }
    }
    pub fn pick_key(&self) -> Option<&Redacted> {
        match self.keys.len() {
            0 => None,
            1 => self.keys.first(),
            n => self.keys.get(rand::random::<usize>() % n),
        }
    }
}

/// Every channel kind the gateway can call: OpenAI, Azure OpenAI, Anthropic, Gemini, the
/// OpenAI-compatible presets (DeepSeek, Qwen, …), and the video providers.
pub fn channel_kinds() -> Vec<&'static str> {
    let mut kinds = vec!["openai", "azure", "anthropic", "gemini"];
    kinds.extend(switchyard_wire::presets::PRESETS.iter().map(|p| p.kind));
    kinds.extend_from_slice(crate::task::provider::VIDEO_KINDS);
    kinds
}

pub fn known_kind(kind: &str) -> bool {
    channel_kinds().contains(&kind)
}

/// A channel's base URL as given, or its preset's when none is (`None`: neither).
pub fn base_url_or_preset(kind: &str, base_url: &str) -> Option<String> {
    let given = base_url.trim();
    if !given.is_empty() {
        return Some(given.to_string());
    }
    switchyard_wire::presets::preset(kind).map(|p| p.base_url.to_string())
}

/// `gpt-4o` matches itself; `gpt-4*` (or `gpt-4-*`) matches by prefix; `*` matches all.
pub fn model_matches(pattern: &str, model: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => model.starts_with(prefix),
        None => pattern == model,
    }
}

#[derive(Debug, Default)]
pub struct Catalog {
    pub keys: HashMap<String, Arc<KeyEntry>>,
    pub users: HashMap<String, Arc<UserEntry>>,
    /// Enabled channels only, highest priority first.
    pub channels: Vec<Arc<ChannelEntry>>,
    pub prices: HashMap<String, Price>,
}

impl Catalog {
    pub async fn load(store: &Store, master: &MasterKey) -> switchyard_store::Result<Catalog> {
        let mut c = Catalog::default();
        for k in store.keys(None).await? {
            let entry = KeyEntry {
                id: k.id.clone(),
                user_id: k.user_id.clone(),
                name: k.name.clone(),
                quota_limited: k.quota_limited != 0,
                expires_at: k.expires_at,
                models: k.model_list(),
                ip_allow: k.ip_list().iter().filter_map(|s| parse_net(s)).collect(),
                enabled: k.enabled != 0,
            };
            c.keys.insert(k.key_hash, Arc::new(entry));
        }
        for u in store.users(i64::MAX, 0).await? {
            let entry = UserEntry {
                id: u.id.clone(),
                name: u.name,
                role: u.role,
                group: u.group_name,
                enabled: u.enabled != 0,
            };
            c.users.insert(u.id, Arc::new(entry));
        }
        for ch in store.channels().await? {
            if ch.status == "enabled" {
                c.channels
                    .push(Arc::new(ChannelEntry::from_row(&ch, master)));
            }
        }
        c.channels.sort_by_key(|c| std::cmp::Reverse(c.priority));
        for p in store.prices().await? {
            c.prices.insert(p.model.clone(), p);
        }
        Ok(c)
    }

    /// Every model name some enabled channel in this group serves by exact name.
    pub fn models_for_group(&self, group: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .channels
            .iter()
            .filter(|c| c.in_group(group))
            .flat_map(|c| c.models.iter().filter(|m| !m.ends_with('*')).cloned())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// `10.0.0.0/8` or a bare address (a /32 or /128).
pub fn parse_net(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

/// The shared, swappable snapshot.
pub struct Catalogs {
    current: ArcSwap<Catalog>,
    /// Reloads run one at a time, so a slow one started earlier can never store its older
    /// snapshot over a newer one (a key created a moment ago must work at once).
    reloading: tokio::sync::Mutex<()>,
    store: Store,
    master: MasterKey,
}

impl Catalogs {
    pub async fn new(store: Store, master: MasterKey) -> switchyard_store::Result<Catalogs> {
        let first = Catalog::load(&store, &master).await?;
        Ok(Catalogs {
            current: ArcSwap::from_pointee(first),
            reloading: Default::default(),
            store,
            master,
        })
    }

    pub fn get(&self) -> arc_swap::Guard<Arc<Catalog>> {
        self.current.load()
    }

    /// An owned snapshot, for holding across awaits.
    pub fn get_full(&self) -> Arc<Catalog> {
        self.current.load_full()
    }

    pub async fn reload(&self) -> switchyard_store::Result<()> {
        let _one_at_a_time = self.reloading.lock().await;
        let next = Catalog::load(&self.store, &self.master).await?;
        self.current.store(Arc::new(next));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(model_matches("gpt-4o", "gpt-4o"));
        assert!(!model_matches("gpt-4o", "gpt-4o-mini"));
        assert!(model_matches("gpt-4-gizmo-*", "gpt-4-gizmo-g-abc"));
        assert!(model_matches("*", "anything"));
        assert!(parse_net("10.1.2.3")
            .unwrap()
            .contains(&"10.1.2.3".parse::<IpAddr>().unwrap()));
        assert!(parse_net("10.0.0.0/8")
            .unwrap()
            .contains(&"10.9.9.9".parse::<IpAddr>().unwrap()));
        assert!(parse_net("nonsense").is_none());
    }
}
