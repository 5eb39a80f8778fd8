// Nothing else stands in for the authority.
use caelmor_persist::Save;

fn main() {
    let _save = Save::begin(&());
}
