//! A seeded generator of consistent reference shards of any size.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::records::{Biome, Item, Npc, Player, Position, Quest, Stats, Zone};
use crate::ids::{ItemId, NpcId, PlayerId, QuestId, ZoneId};
use crate::schema::ItemLocation;

/// How many records of each system to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSpec {
    /// Players.
    pub players: usize,
    /// Zones.
    pub zones: usize,
    /// NPCs.
    pub npcs: usize,
    /// Items; about a third are nested in containers, up to
    /// [`MAX_DEPTH`](Self::MAX_DEPTH) deep.
    pub items: usize,
    /// Quest states.
    pub quests: usize,
}

/// A generated shard: every system's records, each list sorted by id, all
/// references consistent.
#[derive(Debug, Clone, PartialEq)]
pub struct Shard {
    /// Players.
    pub players: Vec<Player>,
    /// Zones.
    pub zones: Vec<Zone>,
    /// NPCs.
    pub npcs: Vec<Npc>,
    /// Items.
    pub items: Vec<Item>,
    /// Quest states.
    pub quests: Vec<Quest>,
}

impl Shard {
    /// Total number of records.
    #[must_use]
    pub fn record_count(&self) -> usize {
        self.players.len()
            + self.zones.len()
            + self.npcs.len()
            + self.items.len()
            + self.quests.len()
    }
}

const BIOMES: [Biome; 6] = [
    Biome::Forest,
    Biome::Desert,
    Biome::Tundra,
    Biome::Coast,
    Biome::Cavern,
    Biome::City,
];
const SYLLABLES: [&str; 12] = [
    "ka", "el", "mor", "va", "ri", "then", "dol", "an", "sa", "gar", "ith", "un",
];

fn name(rng: &mut ChaCha8Rng, parts: usize) -> String {
    let mut s = String::new();
    for _ in 0..parts {
        s.push_str(SYLLABLES[rng.random_range(0..SYLLABLES.len())]);
    }
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn position(rng: &mut ChaCha8Rng) -> Position {
    Position {
        x: rng.random_range(-4096.0..4096.0),
        y: rng.random_range(-64.0..512.0),
        z: rng.random_range(-4096.0..4096.0),
    }
}

impl ShardSpec {
    /// Deepest item nesting the generator produces (a bag in a bag in a bag
    /// in a bag).
    pub const MAX_DEPTH: u8 = 4;

    /// A few of everything: unit tests and doc examples.
    #[must_use]
    pub const fn small() -> Self {
        Self {
            players: 20,
            zones: 8,
            npcs: 60,
            items: 300,
            quests: 80,
        }
    }

    /// A busy shard: integration tests and quick benchmarks.
    #[must_use]
    pub const fn medium() -> Self {
        Self {
            players: 1_000,
            zones: 64,
            npcs: 10_000,
            items: 100_000,
            quests: 20_000,
        }
    }

    /// A large live shard: the performance targets' workload.
    #[must_use]
    pub const fn large() -> Self {
        Self {
            players: 10_000,
            zones: 256,
            npcs: 100_000,
            items: 1_000_000,
            quests: 200_000,
        }
    }

    /// This spec with every count multiplied by `factor`.
    #[must_use]
    pub const fn scaled(self, factor: usize) -> Self {
        Self {
            players: self.players * factor,
            zones: self.zones * factor,
            npcs: self.npcs * factor,
            items: self.items * factor,
            quests: self.quests * factor,
        }
    }

    /// Generates a consistent shard: every reference resolves, containment
    /// is acyclic and at most [`MAX_DEPTH`](Self::MAX_DEPTH) deep, lists are
    /// sorted by id. The same spec and seed always give the same shard.
    ///
    /// Systems a reference needs are never empty when the referring system
    /// is not: with no zones there are no NPCs, with no players no quests,
    /// with neither no items.
    #[must_use]
    pub fn generate(&self, seed: u64) -> Shard {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let zone_count = self.zones as u64;
        let player_count = self.players as u64;

        let zones: Vec<Zone> = (1..=zone_count)
            .map(|id| {
                let low = rng.random_range(1..60);
                Zone {
                    id: ZoneId(id),
                    name: name(&mut rng, 3),
                    biome: BIOMES[rng.random_range(0..BIOMES.len())],
                    level_range: (low, low + rng.random_range(0..10)),
                }
            })
            .collect();

        let players: Vec<Player> = (1..=player_count)
            .map(|id| Player {
                id: PlayerId(id),
                name: name(&mut rng, 2),
                level: rng.random_range(1..=60),
                stats: Stats {
                    strength: rng.random_range(5..200),
                    agility: rng.random_range(5..200),
                    intellect: rng.random_range(5..200),
                    stamina: rng.random_range(5..200),
                },
                currency: rng.random_range(0..10_000_000),
                last_zone: rng.random_range(1..=zone_count.max(1)),
                last_position: position(&mut rng),
            })
            .collect();

        let npcs: Vec<Npc> = if zone_count == 0 {
            Vec::new()
        } else {
            (1..=self.npcs as u64)
                .map(|id| {
                    let max_health = rng.random_range(50..20_000);
                    Npc {
                        id: NpcId(id),
                        template: rng.random_range(1..2_000),
                        zone: ZoneId(rng.random_range(1..=zone_count)),
                        position: position(&mut rng),
                        health: rng.random_range(1..=max_health),
                        max_health,
                    }
                })
                .collect()
        };

        let items = self.items(&mut rng, zone_count, player_count);

        let quests: Vec<Quest> = if player_count == 0 || zone_count == 0 {
            Vec::new()
        } else {
            (1..=self.quests as u64)
                .map(|id| {
                    let context = rng.random_range(1..=3);
                    Quest {
                        id: QuestId(id),
                        owner: PlayerId(rng.random_range(1..=player_count)),
                        template: rng.random_range(1..5_000),
                        stage: rng.random_range(0..12),
                        progress: (0..rng.random_range(0..4))
                            .map(|_| rng.random_range(0..100))
                            .collect(),
                        zones: (0..context)
                            .map(|_| ZoneId(rng.random_range(1..=zone_count)))
                            .collect(),
                    }
                })
                .collect()
        };

        Shard {
            players,
            zones,
            npcs,
            items,
            quests,
        }
    }

    fn items(&self, rng: &mut ChaCha8Rng, zone_count: u64, player_count: u64) -> Vec<Item> {
        if zone_count == 0 && player_count == 0 {
            return Vec::new();
        }
        // Containers that can still take an item: (id, depth, owner).
        let mut open_containers: Vec<(ItemId, u8, Option<PlayerId>)> = Vec::new();
        let mut items = Vec::with_capacity(self.items);
        for id in 1..=self.items as u64 {
            let id = ItemId(id);
            let nested = !open_containers.is_empty() && rng.random_bool(1.0 / 3.0);
            let (location, owner, depth) = if nested {
                let (container, depth, owner) =
                    open_containers[rng.random_range(0..open_containers.len())];
                (ItemLocation::Container(container), owner, depth + 1)
            } else if player_count > 0 && (zone_count == 0 || rng.random_bool(0.7)) {
                let p = PlayerId(rng.random_range(1..=player_count));
                (ItemLocation::Player(p), Some(p), 1)
            } else {
                let z = ZoneId(rng.random_range(1..=zone_count));
                (ItemLocation::Zone(z), None, 1)
            };
            if depth < Self::MAX_DEPTH && rng.random_bool(0.25) {
                open_containers.push((id, depth, owner));
            }
            let wears = rng.random_bool(0.4);
            items.push(Item {
                id,
                template: rng.random_range(1..30_000),
                stack: if wears { 1 } else { rng.random_range(1..=200) },
                durability: wears.then(|| rng.random_range(0..=1000)),
                location,
                owner,
            });
        }
        items
    }
}
