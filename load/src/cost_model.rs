//! `cost-model`: the AWS cost model's arithmetic (its tests: `cargo test -p load --bin cost-model`).
//! Prices live in load/prices-us-east-1.json.

mod cost;

fn main() {
    use cost::units::{read_half_units, write_units, Mode};
    // A worked example so the binary prints something checkable by hand.
    println!(
        "1 KB item: {} write unit(s), {} in a transaction; 5 KB item: {} half read units consistent",
        write_units(1024, Mode::Plain),
        write_units(1024, Mode::Transactional),
        read_half_units(5 * 1024, Mode::Plain, true)
    );
}
