//! Explains a `signed` target input (a crash artifact or a corpus file): the header and
//! claims JSON it writes, the predicted verdict and the crate's decision.
//!
//!     cd fuzz && cargo run --example explain -- artifacts/signed/crash-…

use arbitrary::{Arbitrary, Unstructured};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_authorizer_fuzz::signed::Case;
use jwt_authorizer_fuzz::{FIXTURE, NOW, with_scratch};

fn main() {
    let path = std::env::args().nth(1).expect("usage: explain FILE");
    let bytes = std::fs::read(&path).expect("readable input");
    let case = Case::arbitrary_take_rest(Unstructured::new(&bytes)).expect("a Case");
    let built = case.build();
    let text = String::from_utf8_lossy(&built.token).into_owned();
    for (i, part) in text.split('.').take(2).enumerate() {
        let decoded = URL_SAFE_NO_PAD.decode(part).map(|d| String::from_utf8_lossy(&d).into_owned());
        println!("{}: {decoded:?}", ["header", "claims"][i]);
    }
    println!("expected: {:?}", built.expected);
    println!("decision: {:?}", with_scratch(|s| FIXTURE.simple.decide(&built.token, NOW, s)));
}
