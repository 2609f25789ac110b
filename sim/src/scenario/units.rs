//! Durations (`"1m30s"`) and byte sizes (`"4GiB"`) as scenario files write them.

use std::time::Duration;

/// Units a duration may use, longest spelling first so `ms` is not read as `m` + `s`.
const DURATION_UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

/// Parses `"1ms"`, `"200us"`, `"5s"`, `"1.5s"`, `"1m30s"`, `"2h"`: one or more number+unit pairs
/// (units ns, us/µs, ms, s, m, h, d). A bare number is refused because "10" is ambiguous.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration; write e.g. \"5s\", \"200ms\" or \"1m30s\"".into());
    }
    if s.starts_with('-') {
        return Err(format!("negative duration `{s}`; durations must be zero or more"));
    }
    let mut rest = s;
    let mut total_nanos: u128 = 0;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number = &rest[..number_len];
        if number.is_empty() {
            return Err(format!("invalid duration `{s}`: expected a number at `{rest}`"));
        }
        rest = &rest[number_len..];
        let Some(&(unit, nanos_per_unit)) =
            DURATION_UNITS.iter().filter(|(unit, _)| rest.starts_with(unit)).max_by_key(|(unit, _)| unit.len())
        else {
            return Err(if rest.is_empty() {
                format!("duration `{s}` has no unit; write e.g. \"{number}s\" or \"{number}ms\"")
            } else {
                format!("invalid duration `{s}`: unknown unit at `{rest}` (use ns, us, ms, s, m, h or d)")
            });
        };
        rest = &rest[unit.len()..];
        total_nanos = total_nanos
            .checked_add(
                scale_decimal(number, nanos_per_unit)
                    .ok_or_else(|| format!("invalid duration `{s}`: bad number `{number}`"))?,
            )
            .filter(|&n| n <= u64::MAX as u128 * 1_000_000_000)
            .ok_or_else(|| format!("duration `{s}` is too long"))?;
    }
    Ok(Duration::new((total_nanos / 1_000_000_000) as u64, (total_nanos % 1_000_000_000) as u32))
}

/// `number` (digits with at most one `.`) times `scale`, truncated to an integer.
fn scale_decimal(number: &str, scale: u128) -> Option<u128> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
        return None;
    }
    let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    // Scale the fraction before dividing so 1.5GiB is exact; 18 digits keep it in range.
    let fraction = &fraction[..fraction.len().min(18)];
    let numerator: u128 = if fraction.is_empty() { 0 } else { fraction.parse().ok()? };
    let fraction_value = numerator.checked_mul(scale)? / 10u128.pow(fraction.len() as u32);
    whole.checked_mul(scale)?.checked_add(fraction_value)
}

/// The shortest form `parse_duration` reads back: `1m30s`, `200ms`, `0s`.
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if !nanos.is_multiple_of(1_000_000_000) {
        // Below a second, pick the largest unit that divides evenly.
        for (unit, per) in [("ms", 1_000_000u128), ("us", 1_000), ("ns", 1)] {
            if nanos.is_multiple_of(per) {
                return format!("{}{unit}", nanos / per);
            }
        }
    }
    let mut secs = d.as_secs();
    let mut out = String::new();
    for (unit, per) in [("h", 3600u64), ("m", 60), ("s", 1)] {
        if secs >= per {
            out.push_str(&format!("{}{unit}", secs / per));
            secs %= per;
        }
    }
    out
}

/// Parses a memory size: `"4GiB"`, `"512MiB"`, `"2GB"`, `"1g"` (docker's binary k/m/g), `"100B"`.
pub fn parse_byte_size(text: &str) -> Result<u64, String> {
    let s = text.trim();
    if s.starts_with('-') {
        return Err(format!("negative size `{s}`"));
    }
    let number_len = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, unit) = s.split_at(number_len);
    let multiplier: u128 = match unit.trim() {
        "" | "B" | "b" => 1,
        "KiB" | "k" | "K" | "kb" => 1 << 10,
        "MiB" | "m" | "M" | "mb" => 1 << 20,
        "GiB" | "g" | "G" | "gb" => 1 << 30,
        "TiB" | "t" | "T" | "tb" => 1 << 40,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        other => {
            return Err(format!(
                "invalid size `{s}`: unknown unit `{other}` (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)"
            ))
        }
    };
    if number.is_empty() {
        return Err(format!("invalid size `{s}`: expected a number, e.g. \"4GiB\""));
    }
    scale_decimal(number, multiplier)
        .and_then(|bytes| u64::try_from(bytes).ok())
        .ok_or_else(|| format!("invalid size `{s}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(parse_duration("1ms"), Ok(Duration::from_millis(1)));
        assert_eq!(parse_duration("200us"), Ok(Duration::from_micros(200)));
        assert_eq!(parse_duration("200µs"), Ok(Duration::from_micros(200)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0ms"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("1h2m3s4ms"), Ok(Duration::from_millis(3_723_004)));
    }

    #[test]
    fn bad_durations_say_why() {
        assert!(parse_duration("").unwrap_err().contains("empty duration"));
        assert!(parse_duration("-5s").unwrap_err().contains("negative"));
        assert!(parse_duration("10").unwrap_err().contains("no unit"));
        assert!(parse_duration("10x").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("s").unwrap_err().contains("expected a number"));
        assert!(parse_duration("1..5s").unwrap_err().contains("bad number"));
        assert!(parse_duration("99999999999999999999h").unwrap_err().contains("too long"));
    }

    #[test]
    fn formatted_durations_read_back() {
        for text in ["0s", "1ms", "200us", "5s", "1m30s", "2h", "1h1s", "7ns"] {
            let d = parse_duration(text).unwrap();
            assert_eq!(format_duration(d), text);
        }
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_byte_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_byte_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_byte_size("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_byte_size("1g"), Ok(1 << 30));
        assert_eq!(parse_byte_size("1.5GiB"), Ok(3 << 29));
        assert!(parse_byte_size("-1GiB").unwrap_err().contains("negative"));
        assert!(parse_byte_size("4 gigs").unwrap_err().contains("unknown unit"));
        assert!(parse_byte_size("GiB").unwrap_err().contains("expected a number"));
    }
}
