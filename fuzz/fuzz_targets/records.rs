//! The reference schema's record types for the independent reader of
//! `tests/independent` (rule 10: postcard and serde's derives, nothing of
//! the crate's readers), and the comparison of the crate's answers with it.

use caelmor_persist::format::StructuralIndex;
use caelmor_persist::reference::{Item, Npc, Player, Quest, Zone};
use caelmor_persist::{ItemLocation, Rejection};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::independent::reader::{Decoded, Entry, Read, Records, Refused};
use crate::independent::rules;

pub struct Reference;

fn take<T: DeserializeOwned + Serialize>(bytes: &[u8], entry: impl Fn(&T) -> Entry) -> Option<Decoded> {
    let (value, rest) = postcard::take_from_bytes::<T>(bytes).ok()?;
    Some(Decoded {
        len: bytes.len() - rest.len(),
        encoded: postcard::to_allocvec(&value).ok()?,
        entry: entry(&value),
    })
}

fn loc(l: ItemLocation) -> rules::Loc {
    match l {
        ItemLocation::Zone(z) => rules::Loc::Zone(z.0),
        ItemLocation::Player(p) => rules::Loc::Player(p.0),
        ItemLocation::Container(c) => rules::Loc::Container(c.0),
    }
}

impl Records for Reference {
    fn decode(&self, system: usize, bytes: &[u8]) -> Option<Decoded> {
        match system {
            rules::PLAYER => take(bytes, |p: &Player| Entry::Player(p.id.0)),
            rules::WORLD => take(bytes, |z: &Zone| Entry::Zone(z.id.0)),
            rules::NPC => take(bytes, |n: &Npc| Entry::Npc(n.id.0, n.zone.0)),
            rules::ITEM => take(bytes, |i: &Item| {
                Entry::Item(rules::Item {
                    id: i.id.0,
                    loc: loc(i.location),
                    owner: i.owner.map(|p| p.0),
                })
            }),
            _ => take(bytes, |q: &Quest| {
                Entry::Quest(rules::Quest {
                    id: q.id.0,
                    owner: q.owner.0,
                    zones: q.zones.iter().map(|z| z.0).collect(),
                })
            }),
        }
    }
}

/// The crate's answer must be the independent reader's: the same first
/// rejection code, or both accepting.
pub fn agree(reader: &str, ours: Result<(), &Rejection>, theirs: &Result<Read<'_>, Refused>) {
    match (ours, theirs) {
        (Ok(()), Ok(_)) => {}
        (Err(r), Err(t)) => assert_eq!(
            r.code().as_str(),
            t.code,
            "{reader} says {r}; the specification's reader {} at rule {} ({})",
            t.code,
            t.rule,
            t.why
        ),
        (Ok(()), Err(t)) => panic!(
            "{reader} accepted what the specification's reader refuses: {} at rule {} ({})",
            t.code, t.rule, t.why
        ),
        (Err(r), Ok(_)) => panic!("{reader} refused ({r}) what the specification's reader accepts"),
    }
}

/// The crate's structural index as plain ids.
pub fn plain_index(index: &StructuralIndex) -> rules::Index {
    rules::Index {
        players: index.players.iter().map(|p| p.0).collect(),
        zones: index.zones.iter().map(|z| z.0).collect(),
        npcs: index.npcs.iter().map(|n| (n.id.0, n.zone.0)).collect(),
        items: index
            .items
            .iter()
            .map(|i| rules::Item {
                id: i.id.0,
                loc: loc(i.location),
                owner: i.owner.map(|p| p.0),
            })
            .collect(),
        quests: index
            .quests
            .iter()
            .map(|q| rules::Quest {
                id: q.id.0,
                owner: q.owner.0,
                zones: q.zones.iter().map(|z| z.0).collect(),
            })
            .collect(),
    }
}
