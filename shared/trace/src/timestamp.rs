//! The log line's `timestamp`, as `tracing-subscriber`'s `SystemTime`
//! writes it: RFC 3339 in UTC with microseconds
//! (`2026-12-08T01:24:00.123456Z`).
//!
//! That formatter works the calendar out and formats seven numbers for
//! every line. Here each thread keeps the text up to the second, made
//! again when the second changes, and a line adds its six digits.

use std::cell::Cell;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime as Library};

/// `YYYY-MM-DDTHH:MM:SS.`
const PREFIX: usize = 20;
/// The first second of the year 10000, which has five digits: the
/// library's formatter writes those (and times before 1970).
const YEAR_10000: u64 = 253_402_300_800;

thread_local! {
    /// The second last written by this thread, and its text.
    static SECOND: Cell<(u64, [u8; PREFIX])> = const { Cell::new((u64::MAX, [0; PREFIX])) };
}

/// Writes the timestamp of now.
pub(crate) fn write_now(w: &mut Writer<'_>) -> fmt::Result {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) if since.as_secs() < YEAR_10000 => write_since(w, since),
        // A clock before 1970 or past the year 9999: the library's own
        // formatter, which writes both.
        _ => Library.format_time(w),
    }
}

/// Writes the timestamp `since` the epoch (before the year 10000).
fn write_since(w: &mut impl fmt::Write, since: Duration) -> fmt::Result {
    let secs = since.as_secs();
    let prefix = SECOND.with(|kept| {
        let (second, text) = kept.get();
        if second == secs {
            return text;
        }
        let text = prefix_of(secs);
        kept.set((secs, text));
        text
    });
    let mut micros = since.subsec_micros();
    let mut digits = [b'0'; 7];
    digits[6] = b'Z';
    for d in digits[..6].iter_mut().rev() {
        *d = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    // Both are ASCII digits and separators.
    w.write_str(std::str::from_utf8(&prefix).map_err(|_| fmt::Error)?)?;
    w.write_str(std::str::from_utf8(&digits).map_err(|_| fmt::Error)?)
}

/// `YYYY-MM-DDTHH:MM:SS.` of `secs` since the epoch (before the year
/// 10000), by the civil-from-days algorithm of H. Hinnant.
fn prefix_of(secs: u64) -> [u8; PREFIX] {
    let days = secs / 86_400;
    let in_day = secs % 86_400;
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let mut text = [0u8; PREFIX];
    let mut at = 0;
    let mut put = |value: u64, width: usize, then: u8| {
        let mut v = value;
        for i in (0..width).rev() {
            text[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        text[at + width] = then;
        at += width + 1;
    };
    put(year, 4, b'-');
    put(month, 2, b'-');
    put(day, 2, b'T');
    put(in_day / 3_600, 2, b':');
    put(in_day / 60 % 60, 2, b':');
    put(in_day % 60, 2, b'.');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, SecondsFormat, Utc};
    use rand::Rng;

    fn ours(since: Duration) -> String {
        let mut text = String::new();
        write_since(&mut text, since).unwrap();
        text
    }

    fn reference(since: Duration) -> String {
        DateTime::<Utc>::from(UNIX_EPOCH + since).to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// Random instants from 1970 to 9999 (and leap days, the ends of
    /// months, years and centuries, the same second twice in a row) are
    /// written as RFC 3339 with microseconds.
    #[test]
    fn instants_are_written_as_rfc3339_micros() {
        let mut rng = rand::thread_rng();
        let mut instants: Vec<u64> = (0..20_000).map(|_| rng.gen_range(0..YEAR_10000)).collect();
        instants.extend([
            0,
            951_782_399,   // 2000-02-28T23:59:59
            951_782_400,   // 2000-02-29
            951_868_800,   // 2000-03-01
            4_107_542_399, // 2100-02-28T23:59:59 (not a leap year)
            4_107_542_400, // 2100-03-01
            1_798_761_599, // 2026-12-31T23:59:59
            YEAR_10000 - 1,
        ]);
        for secs in instants {
            for micros in [0, 1, 999_999, rng.gen_range(0..1_000_000)] {
                let since = Duration::from_secs(secs) + Duration::from_micros(micros);
                assert_eq!(ours(since), reference(since), "{secs} s {micros} µs");
            }
        }
    }

    /// Now is written as the library's formatter writes it: the same
    /// length, and the same second as the library's just before or after.
    #[test]
    fn now_is_written_as_the_library_writes_it() {
        let library = || {
            let mut text = String::new();
            Library.format_time(&mut Writer::new(&mut text)).unwrap();
            text
        };
        let before = library();
        let mut text = String::new();
        write_now(&mut Writer::new(&mut text)).unwrap();
        let after = library();
        assert_eq!(text.len(), before.len(), "{text} against {before}");
        assert!(
            text[..19] == before[..19] || text[..19] == after[..19],
            "{text} against {before} and {after}"
        );
    }
}
