//! The reference records: what a typical MMO persists per system.

use serde::{Deserialize, Serialize};

use crate::ids::{ItemId, NpcId, PlayerId, QuestId, ZoneId};
use crate::schema::WorldRecord;
use crate::schema::{ItemLocation, ItemRecord, NpcRecord, PlayerRecord, QuestRecord, Schema};

/// The reference schema: name `"caelmor-reference"`, version 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference;

impl Schema for Reference {
    const NAME: &'static str = "caelmor-reference";
    const VERSION: u32 = 1;
    type Player = Player;
    type World = Zone;
    type Npc = Npc;
    type Item = Item;
    type Quest = Quest;
}

/// A point in a zone's space.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// East-west.
    pub x: f32,
    /// Up-down.
    pub y: f32,
    /// North-south.
    pub z: f32,
}

/// A player's base attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Strength.
    pub strength: u16,
    /// Agility.
    pub agility: u16,
    /// Intellect.
    pub intellect: u16,
    /// Stamina.
    pub stamina: u16,
}

/// Player Identity and PlayerSave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Player {
    /// Identity.
    pub id: PlayerId,
    /// Display name.
    pub name: String,
    /// Character level.
    pub level: u16,
    /// Base attributes.
    pub stats: Stats,
    /// Currency, in copper.
    pub currency: u64,
    /// Where the player logged out: the raw zone number and position. Plain
    /// data, not a reference: Stage 21.2 §7 forbids Player → World, so
    /// restore never resolves it; the server interprets it after activation.
    pub last_zone: u64,
    /// Position within that zone.
    pub last_position: Position,
}

impl PlayerRecord for Player {
    fn id(&self) -> PlayerId {
        self.id
    }
}

/// A zone's kind of terrain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Biome {
    /// Forest.
    Forest,
    /// Desert.
    Desert,
    /// Tundra.
    Tundra,
    /// Coast.
    Coast,
    /// Underground.
    Cavern,
    /// A city.
    City,
}

/// One zone of the world's structural composition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    /// Identity.
    pub id: ZoneId,
    /// Display name.
    pub name: String,
    /// Terrain.
    pub biome: Biome,
    /// Lowest and highest creature level.
    pub level_range: (u16, u16),
}

impl WorldRecord for Zone {
    fn id(&self) -> ZoneId {
        self.id
    }
}

/// One NPC's persisted state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Npc {
    /// Identity.
    pub id: NpcId,
    /// Which kind of NPC (a template in the game's data).
    pub template: u32,
    /// The zone it belongs to.
    pub zone: ZoneId,
    /// Where in the zone.
    pub position: Position,
    /// Current health.
    pub health: u32,
    /// Maximum health.
    pub max_health: u32,
}

impl NpcRecord for Npc {
    fn id(&self) -> NpcId {
        self.id
    }
    fn zone(&self) -> ZoneId {
        self.zone
    }
}

/// One item instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Identity.
    pub id: ItemId,
    /// Which kind of item.
    pub template: u32,
    /// How many in this stack.
    pub stack: u16,
    /// Remaining durability, for items that wear.
    pub durability: Option<u16>,
    /// Where it is.
    pub location: ItemLocation,
    /// Who owns it, where ownership applies.
    pub owner: Option<PlayerId>,
}

impl ItemRecord for Item {
    fn id(&self) -> ItemId {
        self.id
    }
    fn location(&self) -> ItemLocation {
        self.location
    }
    fn owner(&self) -> Option<PlayerId> {
        self.owner
    }
}

/// One player-owned quest state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quest {
    /// Identity.
    pub id: QuestId,
    /// The owning player.
    pub owner: PlayerId,
    /// Which quest (a template in the game's data).
    pub template: u32,
    /// The stage reached.
    pub stage: u16,
    /// Objective counters.
    pub progress: Vec<u32>,
    /// The zones that form the quest's world context.
    pub zones: Vec<ZoneId>,
}

impl QuestRecord for Quest {
    fn id(&self) -> QuestId {
        self.id
    }
    fn owner(&self) -> PlayerId {
        self.owner
    }
    fn zone_context(&self) -> &[ZoneId] {
        &self.zones
    }
}
