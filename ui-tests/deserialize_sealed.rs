// A `Sealed` bundle cannot come out of a deserializer: it is not `Deserialize`.
use caelmor_persist::Sealed;
use caelmor_persist::reference::Reference;

fn main() {
    let bytes = [0u8; 64];
    let _forged = postcard::from_bytes::<Sealed<Reference>>(&bytes);
}
