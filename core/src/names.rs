//! Docker's random names (`adjective_surname`) for services created without `--name`.

use rand::Rng;

const LEFT: &[&str] = &[
    "admiring",
    "boring",
    "brave",
    "clever",
    "eager",
    "elegant",
    "festive",
    "gifted",
    "happy",
    "jolly",
    "keen",
    "loving",
    "modest",
    "nifty",
    "optimistic",
    "peaceful",
    "quirky",
    "relaxed",
    "sharp",
    "zen",
];
const RIGHT: &[&str] = &[
    "albattani",
    "banach",
    "curie",
    "darwin",
    "euclid",
    "fermi",
    "galileo",
    "hopper",
    "kepler",
    "lovelace",
    "mayer",
    "noether",
    "pasteur",
    "ritchie",
    "shannon",
    "tesla",
    "turing",
    "volhard",
    "wozniak",
    "yonath",
];

pub fn random_service_name(rng: &mut impl Rng) -> String {
    format!("{}_{}", LEFT[rng.gen_range(0..LEFT.len())], RIGHT[rng.gen_range(0..RIGHT.len())])
}
