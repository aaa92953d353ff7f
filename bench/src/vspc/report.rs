//! What a run prints: human-readable lines, then one JSON line with the same
//! figures for scripts (written by hand: the bench has no serde).

use std::fmt::Write as _;

use super::stats::Histogram;

#[derive(Debug)]
pub struct Report {
    pub lines: Vec<String>,
    pub json: Json,
    /// Some connection failed or answered wrongly: exit non-zero.
    pub failed: bool,
}

impl Report {
    pub fn new(mode: &str) -> Report {
        let mut json = Json::default();
        json.str("mode", mode);
        Report {
            lines: Vec::new(),
            json,
            failed: false,
        }
    }

    pub fn line(&mut self, text: impl Into<String>) {
        self.lines.push(text.into());
    }

    /// p50/p99/max of a histogram, as a line and as `<key>_p50_us`… fields.
    pub fn latency(&mut self, key: &str, label: &str, h: &Histogram) {
        let (p50, p99, max) = (h.quantile_us(0.5), h.quantile_us(0.99), h.max_us());
        self.line(format!(
            "{label} latency: p50 {} ms, p99 {} ms, max {} ms",
            ms(p50),
            ms(p99),
            ms(max)
        ));
        self.json.int(&format!("{key}_p50_us"), p50);
        self.json.int(&format!("{key}_p99_us"), p99);
        self.json.int(&format!("{key}_max_us"), max);
    }

    /// Errors seen during the run: a count, and the first one in full.
    pub fn errors(&mut self, tally: &ErrorTally) {
        self.json.int("errors", tally.count);
        match &tally.first {
            Some(first) => {
                self.failed = true;
                self.line(format!("errors: {} (first: {first})", tally.count));
                self.json.str("first_error", first);
            }
            None => self.line("errors: 0"),
        }
    }

    pub fn print(&self) {
        for l in &self.lines {
            println!("{l}");
        }
        println!("{}", self.json.render());
    }
}

fn ms(us: u64) -> String {
    format!("{:.3}", us as f64 / 1000.0)
}

/// Counts errors and keeps the first message, so a run with thousands of
/// identical failures prints one readable line.
#[derive(Default)]
pub struct ErrorTally {
    pub count: u64,
    pub first: Option<String>,
}

impl ErrorTally {
    pub fn add(&mut self, e: &anyhow::Error) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(format!("{e:#}"));
        }
    }

    pub fn merge(&mut self, other: ErrorTally) {
        self.count += other.count;
        if self.first.is_none() {
            self.first = other.first;
        }
    }
}

/// A flat JSON object, fields in insertion order.
#[derive(Debug, Default)]
pub struct Json {
    fields: Vec<(String, String)>,
}

impl Json {
    pub fn str(&mut self, key: &str, value: &str) {
        self.fields.push((key.into(), quote(value)));
    }

    pub fn int(&mut self, key: &str, value: u64) {
        self.fields.push((key.into(), value.to_string()));
    }

    pub fn num(&mut self, key: &str, value: f64, decimals: usize) {
        let v = if value.is_finite() {
            format!("{value:.decimals$}")
        } else {
            "null".into()
        };
        self.fields.push((key.into(), v));
    }

    pub fn bool(&mut self, key: &str, value: bool) {
        self.fields.push((key.into(), value.to_string()));
    }

    pub fn render(&self) -> String {
        let body: Vec<String> = self
            .fields
            .iter()
            .map(|(k, v)| format!("{}:{v}", quote(k)))
            .collect();
        format!("{{{}}}", body.join(","))
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_flat_json() {
        let mut j = Json::default();
        j.str("mode", "a\"b\n");
        j.int("n", 3);
        j.num("rps", 12.345, 1);
        j.num("bad", f64::NAN, 1);
        j.bool("ok", true);
        assert_eq!(
            j.render(),
            r#"{"mode":"a\"b\n","n":3,"rps":12.3,"bad":null,"ok":true}"#
        );
    }
}
