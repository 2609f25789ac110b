//! Which seeds a sweep runs: a range (`--seeds 1..1000`, both ends included) and an optional
//! shard (`--shard K/N`): seed `s` belongs to shard `(s mod N) + 1`, so the N shards are
//! disjoint, cover the range, and each gets every N-th seed (similar amounts of work even when
//! cost varies along the range).

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedRange {
    pub first: u64,
    /// Included.
    pub last: u64,
}

impl SeedRange {
    /// `A..B` or `A..=B` (both include B), or one seed `N`.
    pub fn parse(text: &str) -> Result<SeedRange, String> {
        let bad = || format!("--seeds `{text}`: expected FIRST..LAST (both included), e.g. 1..1000, or one seed");
        let number = |s: &str| s.trim().parse::<u64>().map_err(|_| bad());
        let range = match text.split_once("..") {
            None => SeedRange { first: number(text)?, last: number(text)? },
            Some((a, b)) => SeedRange { first: number(a)?, last: number(b.strip_prefix('=').unwrap_or(b))? },
        };
        if range.first > range.last {
            return Err(format!("--seeds `{text}`: the first seed is after the last"));
        }
        Ok(range)
    }

    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    /// Never: a range holds at least its first seed.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl fmt::Display for SeedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.first, self.last)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// `K/N` with 1 ≤ K ≤ N.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = |why: &str| format!("--shard `{text}`: {why}");
        let (k, n) = text.split_once('/').ok_or_else(|| bad("expected K/N, e.g. 2/4"))?;
        let k: u64 = k.trim().parse().map_err(|_| bad("K is not a number"))?;
        let n: u64 = n.trim().parse().map_err(|_| bad("N is not a number"))?;
        if n == 0 || k == 0 || k > n {
            return Err(bad("K must be between 1 and N"));
        }
        Ok(Shard { index: k, count: n })
    }

    pub fn contains(&self, seed: u64) -> bool {
        seed % self.count + 1 == self.index
    }

    /// The seeds of `range` in this shard, ascending.
    pub fn seeds(&self, range: SeedRange) -> Vec<u64> {
        (range.first..=range.last).filter(|s| self.contains(*s)).collect()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ranges_include_both_ends() {
        assert_eq!(SeedRange::parse("1..10").unwrap(), SeedRange { first: 1, last: 10 });
        assert_eq!(SeedRange::parse("1..=10").unwrap(), SeedRange { first: 1, last: 10 });
        assert_eq!(SeedRange::parse("7").unwrap().len(), 1);
        assert!(SeedRange::parse("10..1").unwrap_err().contains("after the last"));
        assert!(SeedRange::parse("1..x").unwrap_err().contains("expected FIRST..LAST"));
    }

    #[test]
    fn shards_are_disjoint_and_cover_the_range() {
        let range = SeedRange { first: 3, last: 97 };
        for count in 1..=7 {
            let mut seen = BTreeSet::new();
            for index in 1..=count {
                for seed in (Shard { index, count }).seeds(range) {
                    assert!(seen.insert(seed), "seed {seed} in two shards of {count}");
                }
            }
            assert_eq!(seen, (3..=97).collect::<BTreeSet<u64>>());
        }
    }

    #[test]
    fn bad_shards_are_refused() {
        for bad in ["0/3", "4/3", "1/0", "x/2", "2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Shard::parse("2/3").unwrap(), Shard { index: 2, count: 3 });
    }
}
