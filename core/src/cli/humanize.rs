//! The human wording docker prints: go-units' `HumanDuration`, and the natural order
//! (`node-2` before `node-10`) its tables sort by.

use std::cmp::Ordering;
use std::time::Duration;

/// go-units `HumanDuration`, word for word: `Less than a second`, `1 second`, `23 seconds`,
/// `About a minute`, `7 minutes`, `About an hour`, `5 hours`, `3 days`, `2 weeks`, `4 months`,
/// `2 years`. Callers lowercase it where docker does (`service ps`).
pub fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    let minutes = seconds / 60;
    // go-units rounds hours to the nearest (`int(d.Hours() + 0.5)`) but truncates the rest.
    let rounded_hours = (d.as_millis() + 1_800_000) / 3_600_000;
    if seconds < 1 {
        "Less than a second".to_string()
    } else if seconds == 1 {
        "1 second".to_string()
    } else if seconds < 60 {
        format!("{seconds} seconds")
    } else if minutes == 1 {
        "About a minute".to_string()
    } else if minutes < 60 {
        format!("{minutes} minutes")
    } else if rounded_hours == 1 {
        "About an hour".to_string()
    } else if rounded_hours < 48 {
        format!("{rounded_hours} hours")
    } else if rounded_hours < 24 * 7 * 2 {
        format!("{} days", rounded_hours / 24)
    } else if rounded_hours < 24 * 30 * 2 {
        format!("{} weeks", rounded_hours / 24 / 7)
    } else if rounded_hours < 24 * 365 * 2 {
        format!("{} months", rounded_hours / 24 / 30)
    } else {
        // Years use the truncated hours, as go-units does.
        format!("{} years", seconds / 3600 / 24 / 365)
    }
}

/// Go's `time.Duration.String()`: `5s`, `1m30s`, `500ms`, `1h0m0s`, `0s`.
pub fn go_duration_string(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    if nanos < 1_000_000 {
        return format!("{}µs", decimal(nanos, 1_000));
    }
    if nanos < 1_000_000_000 {
        return format!("{}ms", decimal(nanos, 1_000_000));
    }
    let total_secs = d.as_secs();
    let hours = total_secs / 3600;
    let minutes = (total_secs % 3600) / 60;
    let seconds = decimal(nanos % 60_000_000_000, 1_000_000_000);
    if hours > 0 {
        format!("{hours}h{minutes}m{seconds}s")
    } else if minutes > 0 {
        format!("{minutes}m{seconds}s")
    } else {
        format!("{seconds}s")
    }
}

/// `value / unit` as a decimal without trailing zeros: `1500, 1000` → `1.5`.
fn decimal(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let fraction = value % unit;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = unit.to_string().len() - 1;
    let fraction = format!("{fraction:0digits$}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

/// go-units `BytesSize`: binary units with 4 significant digits (`1.954 GiB`, `64 MiB`).
pub fn bytes_size(bytes: u64) -> String {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{} {}", four_significant_digits(value), UNITS[unit])
}

/// Go's `%.4g` for values in [0, 1024): at most 4 significant digits, no trailing zeros.
fn four_significant_digits(value: f64) -> String {
    let integer_digits = if value < 1.0 { 1 } else { (value.log10().floor() as usize) + 1 };
    let decimals = 4usize.saturating_sub(integer_digits);
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Natural order: runs of digits compare by value, the rest by character, so `node-2` sorts
/// before `node-10`. Falls back to plain byte order so the order is total.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        match (x.chars().next(), y.chars().next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(cx), Some(cy)) if cx.is_ascii_digit() && cy.is_ascii_digit() => {
                let (nx, rest_x) = split_digits(x);
                let (ny, rest_y) = split_digits(y);
                let by_value = compare_digit_runs(nx, ny);
                if by_value != Ordering::Equal {
                    return by_value;
                }
                x = rest_x;
                y = rest_y;
            }
            (Some(cx), Some(cy)) => {
                if cx != cy {
                    return cx.cmp(&cy);
                }
                x = &x[cx.len_utf8()..];
                y = &y[cy.len_utf8()..];
            }
        }
    }
}

fn split_digits(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s.split_at(end)
}

/// Compares two digit runs by numeric value, however long they are.
fn compare_digit_runs(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn seconds_and_minutes_read_like_go_units() {
        assert_eq!(human_duration(Duration::from_millis(450)), "Less than a second");
        assert_eq!(human_duration(Duration::ZERO), "Less than a second");
        assert_eq!(human_duration(secs(1)), "1 second");
        assert_eq!(human_duration(Duration::from_millis(1999)), "1 second");
        assert_eq!(human_duration(secs(23)), "23 seconds");
        assert_eq!(human_duration(secs(59)), "59 seconds");
        assert_eq!(human_duration(secs(60)), "About a minute");
        assert_eq!(human_duration(secs(119)), "About a minute");
        assert_eq!(human_duration(secs(120)), "2 minutes");
        assert_eq!(human_duration(secs(7 * 60)), "7 minutes");
        assert_eq!(human_duration(secs(35 * 60 + 40)), "35 minutes");
        assert_eq!(human_duration(secs(59 * 60 + 59)), "59 minutes");
    }

    #[test]
    fn hours_round_to_nearest_and_larger_units_follow_go_units() {
        let hour = 3600;
        let day = 24 * hour;
        assert_eq!(human_duration(secs(hour)), "About an hour");
        assert_eq!(human_duration(secs(hour + 45 * 60)), "2 hours");
        assert_eq!(human_duration(secs(3 * hour + 59 * 60)), "4 hours");
        assert_eq!(human_duration(secs(day)), "24 hours");
        assert_eq!(human_duration(secs(day + 12 * hour)), "36 hours");
        assert_eq!(human_duration(secs(2 * day)), "2 days");
        assert_eq!(human_duration(secs(13 * day + 5 * hour)), "13 days");
        assert_eq!(human_duration(secs(14 * day)), "2 weeks");
        assert_eq!(human_duration(secs(30 * day + 14 * day)), "6 weeks");
        assert_eq!(human_duration(secs(60 * day)), "2 months");
        assert_eq!(human_duration(secs(23 * 30 * day)), "23 months");
        assert_eq!(human_duration(secs(24 * 30 * day)), "24 months");
        assert_eq!(human_duration(secs(24 * 30 * day + 14 * day)), "2 years");
        assert_eq!(human_duration(secs(3 * 365 * day + 60 * day)), "3 years");
    }

    #[test]
    fn go_duration_strings() {
        assert_eq!(go_duration_string(Duration::ZERO), "0s");
        assert_eq!(go_duration_string(secs(5)), "5s");
        assert_eq!(go_duration_string(secs(90)), "1m30s");
        assert_eq!(go_duration_string(Duration::from_millis(500)), "500ms");
        assert_eq!(go_duration_string(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration_string(secs(7200)), "2h0m0s");
        assert_eq!(go_duration_string(Duration::from_nanos(42)), "42ns");
    }

    #[test]
    fn bytes_size_uses_binary_units_and_four_digits() {
        assert_eq!(bytes_size(512), "512 B");
        assert_eq!(bytes_size(64 * 1024 * 1024), "64 MiB");
        assert_eq!(bytes_size(2_098_229_248), "1.954 GiB");
        assert_eq!(bytes_size(1536), "1.5 KiB");
    }

    #[test]
    fn natural_order_compares_numbers_by_value() {
        assert_eq!(natural_cmp("node-2", "node-10"), Ordering::Less);
        assert_eq!(natural_cmp("node-10", "node-2"), Ordering::Greater);
        assert_eq!(natural_cmp("mynginx.9", "mynginx.10"), Ordering::Less);
        assert_eq!(natural_cmp("bd0", "bd1"), Ordering::Less);
        assert_eq!(natural_cmp("a", "b"), Ordering::Less);
        assert_eq!(natural_cmp("abc", "abc"), Ordering::Equal);
        assert_eq!(natural_cmp("abc", "abcd"), Ordering::Less);
        assert_eq!(natural_cmp("x01", "x1"), Ordering::Less, "ties fall back to byte order");
        let mut names = vec!["node-10", "node-1", "node-2", "alpha"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(names, ["alpha", "node-1", "node-2", "node-10"]);
    }
}
