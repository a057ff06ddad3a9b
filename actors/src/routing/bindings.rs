//! Which agent answers: OpenClaw's tiered binding resolution (docs/openclaw-routing.md
//! 2.2-2.5), precomputed into an index so a decision is a few hash lookups even with ten
//! thousand bindings.
//!
//! Candidates for a message are the bindings of its channel whose account is the message's
//! account or `"*"`, in config order. They are tried tier by tier: peer (exact conversation),
//! peer wildcard (`peer.id: "*"`), account, channel (`accountId: "*"`), and finally the default
//! agent. The first tier with a match wins; within a tier the first binding in config order
//! wins. Since DingTalk messages carry no guild, team or roles, bindings that need one of those
//! never match and are left out of the index.

use std::collections::HashMap;

use serde::Serialize;

use crate::config::{AccountMatch, Binding, PeerKind};

/// How the agent was chosen, named as OpenClaw names it (`matchedBy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum MatchedBy {
    /// A binding naming this peer.
    #[serde(rename = "binding.peer")]
    Peer,
    /// A binding naming every peer of this kind (`peer.id: "*"`).
    #[serde(rename = "binding.peer.wildcard")]
    PeerWildcard,
    /// A binding for this account without a peer.
    #[serde(rename = "binding.account")]
    Account,
    /// A binding for every account of the channel (`accountId: "*"`).
    #[serde(rename = "binding.channel")]
    Channel,
    /// No binding matched: the default agent.
    #[serde(rename = "default")]
    Default,
    /// The channel named the agent itself (the web page's chat).
    #[serde(rename = "explicit")]
    Explicit,
}

impl MatchedBy {
    /// The name OpenClaw gives it (`binding.peer`...), for logs and status.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::Peer => "binding.peer",
            MatchedBy::PeerWildcard => "binding.peer.wildcard",
            MatchedBy::Account => "binding.account",
            MatchedBy::Channel => "binding.channel",
            MatchedBy::Default => "default",
            MatchedBy::Explicit => "explicit",
        }
    }
}

/// `group` and `channel` peers match each other, so they share one index slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum KindSlot {
    Direct,
    GroupLike,
}

impl From<PeerKind> for KindSlot {
    fn from(kind: PeerKind) -> Self {
        match kind {
            PeerKind::Direct => KindSlot::Direct,
            PeerKind::Group | PeerKind::Channel => KindSlot::GroupLike,
        }
    }
}

/// The first matching binding (position in the binding list) for each tier and key.
#[derive(Debug, Default)]
struct Tiers {
    peer: HashMap<(KindSlot, String), usize>,
    peer_wildcard: HashMap<KindSlot, usize>,
    account: Option<usize>,
    channel: Option<usize>,
}

impl Tiers {
    /// `candidates` must be in config order, so the first insert per key is the winner.
    fn build<'a>(candidates: impl Iterator<Item = (usize, &'a Binding)>) -> Self {
        let mut t = Tiers::default();
        for (pos, b) in candidates {
            match (&b.peer, &b.account) {
                (Some(p), _) => match &p.id {
                    Some(id) => {
                        t.peer.entry((p.kind.into(), id.clone())).or_insert(pos);
                    }
                    None => {
                        t.peer_wildcard.entry(p.kind.into()).or_insert(pos);
                    }
                },
                (None, AccountMatch::Account(_)) => {
                    t.account.get_or_insert(pos);
                }
                (None, AccountMatch::Any) => {
                    t.channel.get_or_insert(pos);
                }
            }
        }
        t
    }

    fn find(&self, kind: PeerKind, peer_id: &str) -> Option<(usize, MatchedBy)> {
        let slot = KindSlot::from(kind);
        if !peer_id.is_empty()
            && let Some(pos) = self.peer.get(&(slot, peer_id.to_owned()))
        {
            return Some((*pos, MatchedBy::Peer));
        }
        if let Some(pos) = self.peer_wildcard.get(&slot) {
            return Some((*pos, MatchedBy::PeerWildcard));
        }
        if let Some(pos) = self.account {
            return Some((pos, MatchedBy::Account));
        }
        self.channel.map(|pos| (pos, MatchedBy::Channel))
    }
}

/// The candidates of one channel.
#[derive(Debug, Default)]
struct ChannelIndex {
    /// Per account named by some binding: its own bindings merged with the `"*"` ones.
    by_account: HashMap<String, Tiers>,
    /// For accounts no binding names: only the `"*"` bindings.
    any_account: Tiers,
}

/// The binding index, built once per config.
#[derive(Debug, Default)]
pub struct BindingIndex {
    bindings: Vec<Binding>,
    channels: HashMap<String, ChannelIndex>,
}

/// The binding that decided, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgentMatch<'a> {
    /// The tier that decided.
    pub matched_by: MatchedBy,
    /// `None` for the default agent.
    pub binding: Option<&'a Binding>,
}

impl BindingIndex {
    /// Indexes `bindings` by tier, keeping config order within each (docs/openclaw-routing.md 2.2).
    pub fn new(bindings: &[Binding]) -> Self {
        let usable: Vec<Binding> = bindings
            .iter()
            .filter(|b| !b.needs_guild_or_team)
            .cloned()
            .collect();
        // Per channel: positions of account-scoped bindings by account, and of "*" bindings.
        type Grouped<'a> = HashMap<&'a str, (HashMap<&'a str, Vec<usize>>, Vec<usize>)>;
        let mut grouped: Grouped<'_> = HashMap::new();
        for (pos, b) in usable.iter().enumerate() {
            let (scoped, any) = grouped.entry(b.channel.as_str()).or_default();
            match &b.account {
                AccountMatch::Account(a) => scoped.entry(a.as_str()).or_default().push(pos),
                AccountMatch::Any => any.push(pos),
            }
        }
        let mut channels = HashMap::new();
        for (channel, (scoped, any)) in grouped {
            let mut index = ChannelIndex {
                any_account: Tiers::build(any.iter().map(|&p| (p, &usable[p]))),
                ..ChannelIndex::default()
            };
            for (account, own) in scoped {
                // Positions are config order; a merge of two sorted lists keeps it.
                let mut merged: Vec<usize> = own.iter().chain(any.iter()).copied().collect();
                merged.sort_unstable();
                index.by_account.insert(
                    account.to_owned(),
                    Tiers::build(merged.into_iter().map(|p| (p, &usable[p]))),
                );
            }
            channels.insert(channel.to_owned(), index);
        }
        Self {
            bindings: usable,
            channels,
        }
    }

    /// Resolves the binding for a message on `channel` (lower-case) and `account` (normalised)
    /// from the peer `peer_id` of kind `kind` (the sender for a DM, the group for a group).
    pub fn resolve(
        &self,
        channel: &str,
        account: &str,
        kind: PeerKind,
        peer_id: &str,
    ) -> AgentMatch<'_> {
        let found = self.channels.get(channel).and_then(|c| {
            c.by_account
                .get(account)
                .unwrap_or(&c.any_account)
                .find(kind, peer_id)
        });
        match found {
            Some((pos, matched_by)) => AgentMatch {
                matched_by,
                binding: self.bindings.get(pos),
            },
            None => AgentMatch {
                matched_by: MatchedBy::Default,
                binding: None,
            },
        }
    }
}
