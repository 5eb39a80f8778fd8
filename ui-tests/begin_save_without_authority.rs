// Only the holder of a `ServerAuthority` can begin a save.
use caelmor_persist::Save;
use caelmor_persist::reference::Reference;

fn main() {
    let _save = Save::<Reference, _>::begin();
}
