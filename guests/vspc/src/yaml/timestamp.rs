//! YAML 1.1 timestamps: the resolver's pattern and PyYAML's construction into a Python
//! `date` or naive `datetime` (an offset is applied and then dropped, as PyYAML 3.12 does).
//!
//! Timestamps are never valid instance data, but they still have to be recognised (a plain
//! `2020-01-01` is not a string), rejected when Python could not build them (`2020-02-30`),
//! and compared as mapping keys.

use core::fmt;

/// A constructed timestamp, after the offset was applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp {
    year: i64,
    month: u32,
    day: u32,
    /// Hour, minute, second, microsecond; `None` for a date.
    time: Option<(u32, u32, u32, u32)>,
}

/// The pieces of timestamp text, before any range check.
struct Parts<'a> {
    year: &'a str,
    month: &'a str,
    day: &'a str,
    time: Option<TimeParts<'a>>,
}

struct TimeParts<'a> {
    hour: &'a str,
    minute: &'a str,
    second: &'a str,
    fraction: &'a str,
    /// Sign, hours and minutes of a numeric offset (`Z` and no offset both give `None`).
    offset: Option<(u8, &'a str, &'a str)>,
}

/// A cursor over ASCII text for the hand-written patterns below.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let matched = self.peek() == Some(byte);
        self.at += usize::from(matched);
        matched
    }

    /// Between `min` and `max` ASCII digits (greedy; every use is followed by a non-digit).
    fn digits(&mut self, min: usize, max: usize) -> Option<&'a str> {
        let start = self.at;
        while self.at - start < max && self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        (self.at - start >= min).then(|| &self.text[start..self.at])
    }

    fn blanks(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
        self.at - start
    }

    fn at_end(&self) -> bool {
        self.at == self.text.len()
    }
}

/// PyYAML's constructor pattern: `YYYY-M-D`, optionally followed by `T`/`t`/blanks, `H:MM:SS`,
/// an optional fraction and an optional zone.
fn scan(text: &str) -> Option<Parts<'_>> {
    let mut cursor = Cursor { text, at: 0 };
    let year = cursor.digits(4, 4)?;
    cursor.eat(b'-').then_some(())?;
    let month = cursor.digits(1, 2)?;
    cursor.eat(b'-').then_some(())?;
    let day = cursor.digits(1, 2)?;
    if cursor.at_end() {
        return Some(Parts {
            year,
            month,
            day,
            time: None,
        });
    }
    if !(cursor.eat(b'T') || cursor.eat(b't') || cursor.blanks() > 0) {
        return None;
    }
    let hour = cursor.digits(1, 2)?;
    cursor.eat(b':').then_some(())?;
    let minute = cursor.digits(2, 2)?;
    cursor.eat(b':').then_some(())?;
    let second = cursor.digits(2, 2)?;
    let fraction = if cursor.eat(b'.') {
        cursor.digits(0, usize::MAX)?
    } else {
        ""
    };
    let mut offset = None;
    if !cursor.at_end() {
        cursor.blanks();
        match cursor.peek() {
            Some(b'Z') => cursor.at += 1,
            Some(sign @ (b'+' | b'-')) => {
                cursor.at += 1;
                let hours = cursor.digits(1, 2)?;
                let minutes = if cursor.eat(b':') {
                    cursor.digits(2, 2)?
                } else {
                    ""
                };
                offset = Some((sign, hours, minutes));
            }
            _ => return None,
        }
    }
    cursor.at_end().then_some(Parts {
        year,
        month,
        day,
        time: Some(TimeParts {
            hour,
            minute,
            second,
            fraction,
            offset,
        }),
    })
}

/// The resolver's stricter pattern: a date alone needs two-digit month and day.
pub fn is_implicit_timestamp(text: &str) -> bool {
    match scan(text) {
        Some(Parts { time: Some(_), .. }) => true,
        Some(Parts {
            month,
            day,
            time: None,
            ..
        }) => month.len() == 2 && day.len() == 2,
        None => false,
    }
}

fn number(digits: &str) -> i64 {
    // At most 4 ASCII digits reach here, or an empty offset-minutes field.
    digits
        .bytes()
        .fold(0, |value, b| value * 10 + i64::from(b - b'0'))
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Builds the timestamp as PyYAML's `construct_yaml_timestamp` would, or says why Python's
/// `datetime` would refuse it.
pub fn construct(text: &str) -> Result<Timestamp, String> {
    let parts = scan(text).ok_or_else(|| format!("'{text}' is not a timestamp"))?;
    let year = number(parts.year);
    let month = number(parts.month) as u32;
    let day = number(parts.day) as u32;
    if year < 1 {
        return Err(format!("year {year} is out of range"));
    }
    if !(1..=12).contains(&month) {
        return Err("month must be in 1..12".into());
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err("day is out of range for month".into());
    }
    let Some(time) = parts.time else {
        return Ok(Timestamp {
            year,
            month,
            day,
            time: None,
        });
    };
    let (hour, minute, second) = (number(time.hour), number(time.minute), number(time.second));
    if hour > 23 || minute > 59 || second > 59 {
        return Err(format!("time of '{text}' is out of range"));
    }
    // Python keeps the first six fraction digits, right-padded with zeros.
    let micros = time
        .fraction
        .bytes()
        .chain(core::iter::repeat(b'0'))
        .take(6)
        .fold(0, |value, b| value * 10 + i64::from(b - b'0'));
    let offset_minutes = match time.offset {
        None => 0,
        Some((sign, hours, minutes)) => {
            let magnitude = number(hours) * 60 + number(minutes);
            if sign == b'-' { -magnitude } else { magnitude }
        }
    };
    let local = days_from_civil(year, month, day) * MICROS_PER_DAY
        + ((hour * 60 + minute) * 60 + second) * 1_000_000
        + micros;
    let naive_utc = local - offset_minutes * 60_000_000;
    let (year, month, day) = civil_from_days(naive_utc.div_euclid(MICROS_PER_DAY));
    if !(1..=9999).contains(&year) {
        return Err("date value out of range".into());
    }
    let of_day = naive_utc.rem_euclid(MICROS_PER_DAY);
    let seconds = of_day / 1_000_000;
    Ok(Timestamp {
        year,
        month,
        day,
        time: Some((
            (seconds / 3600) as u32,
            (seconds / 60 % 60) as u32,
            (seconds % 60) as u32,
            (of_day % 1_000_000) as u32,
        )),
    })
}

impl Timestamp {
    /// What Python's `==` compares: dates and datetimes never equal each other.
    pub fn identity(&self) -> (bool, i64) {
        let days = days_from_civil(self.year, self.month, self.day);
        match self.time {
            None => (false, days),
            Some((hour, minute, second, micros)) => {
                let seconds = i64::from((hour * 60 + minute) * 60 + second);
                (
                    true,
                    days * MICROS_PER_DAY + seconds * 1_000_000 + i64::from(micros),
                )
            }
        }
    }
}

/// Python's `str()` of the `date` / `datetime`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)?;
        if let Some((hour, minute, second, micros)) = self.time {
            write!(f, " {hour:02}:{minute:02}:{second:02}")?;
            if micros != 0 {
                write!(f, ".{micros:06}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str) -> String {
        construct(text)
            .map(|t| t.to_string())
            .unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn constructs_like_pyyaml() {
        assert_eq!(shown("2020-01-01"), "2020-01-01");
        assert_eq!(shown("2020-1-1"), "2020-01-01");
        assert_eq!(
            shown("2001-12-14t21:59:43.10-05:00"),
            "2001-12-15 02:59:43.100000"
        );
        assert_eq!(
            shown("2001-12-14 21:59:43.1234567 +1"),
            "2001-12-14 20:59:43.123456"
        );
        assert_eq!(shown("2001-12-14 1:59:43.Z"), "2001-12-14 01:59:43");
        assert_eq!(shown("2000-02-29 23:00:00 -01:30"), "2000-03-01 00:30:00");
        assert!(shown("2021-02-29").starts_with("error"));
        assert!(shown("2021-13-01").starts_with("error"));
        assert!(shown("0000-01-01").starts_with("error"));
        assert!(shown("2021-01-01 24:00:00").starts_with("error"));
        assert!(shown("9999-12-31 23:00:00 -01").starts_with("error"));
        assert!(shown("2021-01-01 ").starts_with("error"));
    }

    #[test]
    fn dates_and_datetimes_compare_like_python() {
        let a = construct("2001-12-14t21:59:43.10-05:00").unwrap();
        let b = construct("2001-12-15 2:59:43.1").unwrap();
        assert_eq!(a.identity(), b.identity());
        let date = construct("2001-12-15").unwrap();
        let midnight = construct("2001-12-15 0:00:00").unwrap();
        assert_ne!(date.identity(), midnight.identity());
    }
}
