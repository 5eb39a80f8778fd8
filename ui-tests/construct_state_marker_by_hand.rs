// The typestate markers cannot be created outside the crate.
use caelmor_persist::PlayerDone;

fn main() {
    let _marker = PlayerDone { _private: () };
}
