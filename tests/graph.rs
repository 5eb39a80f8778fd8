//! The dependency graph of Stage 21.2 §7 and the order of §5/§6, checked
//! pair by pair at run time.

use caelmor_persist::System;
use caelmor_persist::System::{Item, Npc, Player, Quest, World};

/// The legal edges of Stage 21.2 §7, (dependent, dependency), and nothing else.
const LEGAL: [(System, System); 5] = [
    (Npc, World),
    (Item, World),
    (Item, Player),
    (Quest, Player),
    (Quest, World),
];

/// Edges Stage 21.2 §7 names as forbidden, listed independently of `LEGAL`.
const FORBIDDEN: [(System, System); 7] = [
    (World, Npc),
    (World, Item),
    (World, Quest),
    (Player, World),
    (Player, Npc),
    (Player, Item),
    (Player, Quest),
];

#[test]
fn depends_on_is_exactly_the_legal_edges() {
    let mut edges = 0;
    for from in System::ORDER {
        for to in System::ORDER {
            let legal = LEGAL.contains(&(from, to));
            assert_eq!(
                from.depends_on(to),
                legal,
                "{from} → {to} should be {}",
                if legal { "legal" } else { "forbidden" }
            );
            edges += usize::from(from.depends_on(to));
        }
    }
    assert_eq!(edges, LEGAL.len(), "no edge beyond the five legal ones");
}

#[test]
fn forbidden_self_and_reverse_edges_are_absent() {
    for (from, to) in FORBIDDEN {
        assert!(!from.depends_on(to), "{from} → {to} is forbidden");
    }
    for s in System::ORDER {
        assert!(!s.depends_on(s), "self-edge {s} → {s}");
    }
    for (from, to) in LEGAL {
        assert!(from.depends_on(to));
        assert!(!to.depends_on(from), "reverse edge {to} → {from}");
    }
    // Player and World are roots; nothing depends on NPC, Item or Quest.
    for s in System::ORDER {
        assert!(!Player.depends_on(s) && !World.depends_on(s));
        assert!(!s.depends_on(Npc) && !s.depends_on(Item) && !s.depends_on(Quest));
    }
}

#[test]
fn dependencies_agree_with_depends_on() {
    for from in System::ORDER {
        let listed = from.dependencies();
        for to in System::ORDER {
            assert_eq!(listed.contains(&to), from.depends_on(to), "{from} → {to}");
        }
        let mut unique = listed.to_vec();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            listed.len(),
            "{from} lists a dependency twice"
        );
    }
}

#[test]
fn order_is_player_world_npc_item_quest() {
    assert_eq!(System::ORDER, [Player, World, Npc, Item, Quest]);
    for (i, s) in System::ORDER.into_iter().enumerate() {
        assert_eq!(s.position(), i);
        assert_eq!(System::from_tag(i as u8), Some(s));
    }
    assert_eq!(System::from_tag(5), None);
    assert_eq!(System::from_tag(u8::MAX), None);
}

#[test]
fn every_dependency_precedes_its_dependent() {
    let position = |s: System| System::ORDER.iter().position(|&x| x == s).unwrap();
    for from in System::ORDER {
        for to in System::ORDER {
            if from.depends_on(to) {
                assert!(
                    position(to) < position(from),
                    "{to} must be saved and restored before {from}"
                );
            }
        }
    }
}
