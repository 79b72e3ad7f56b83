//! Parsing one cron field (`*`, `a`, `a-b`, lists, `*/n`, `a-b/n`, month and weekday names)
//! into a bit set of the values it allows.

/// What one of the five fields accepts.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The field's name, as error messages say it.
    pub name: &'static str,
    /// The smallest value.
    pub min: u32,
    /// The largest value (7 for day-of-week, where 7 is Sunday again).
    pub max: u32,
    /// The values `*` stands for go up to this one (6 for day-of-week).
    pub star_max: u32,
    /// Three-letter names for `min`, `min + 1`, ... (empty when names are not allowed).
    pub names: &'static [&'static str],
    /// What the field allows, for error messages.
    pub allowed: &'static str,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const SYNTAX: &str = "`*`, lists `a,b`, ranges `a-b` and steps `*/n` or `a-b/n`";

/// The five fields, in order.
pub const FIELDS: [FieldSpec; 5] = [
    FieldSpec {
        name: "minute",
        min: 0,
        max: 59,
        star_max: 59,
        names: &[],
        allowed: "numbers 0-59",
    },
    FieldSpec {
        name: "hour",
        min: 0,
        max: 23,
        star_max: 23,
        names: &[],
        allowed: "numbers 0-23",
    },
    FieldSpec {
        name: "day-of-month",
        min: 1,
        max: 31,
        star_max: 31,
        names: &[],
        allowed: "numbers 1-31",
    },
    FieldSpec {
        name: "month",
        min: 1,
        max: 12,
        star_max: 12,
        names: &MONTHS,
        allowed: "numbers 1-12 or names JAN-DEC",
    },
    FieldSpec {
        name: "day-of-week",
        min: 0,
        max: 7,
        star_max: 6,
        names: &DAYS,
        allowed: "numbers 0-7 (0 and 7 are Sunday) or names SUN-SAT",
    },
];

/// A parsed field: bit `v` is set when value `v` is allowed. `star` is Vixie cron's flag: the
/// field begins with `*` (so `*/2` counts as unrestricted for the day-of-month/day-of-week rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The allowed values as a bit set.
    pub bits: u64,
    /// Whether the field begins with `*`.
    pub star: bool,
}

impl FieldSpec {
    /// Parses `text` as this field, or says what is wrong with it.
    pub fn parse(&self, text: &str) -> Result<Field, String> {
        let mut bits = 0u64;
        for item in text.split(',') {
            bits |= self.item(item)?;
        }
        if self.max == 7 && bits & (1 << 7) != 0 {
            bits = (bits & !(1 << 7)) | 1; // 7 is Sunday, like 0
        }
        Ok(Field {
            bits,
            star: text.starts_with('*'),
        })
    }

    /// One list item: `*`, `a`, `a-b`, optionally followed by `/n` (not after a single value).
    fn item(&self, item: &str) -> Result<u64, String> {
        let (base, step) = match item.split_once('/') {
            Some((base, step)) => (base, Some(self.step(step)?)),
            None => (item, None),
        };
        let (lo, hi) = if base == "*" {
            (self.min, self.star_max)
        } else if let Some((a, b)) = base.split_once('-') {
            let (lo, hi) = (self.value(a)?, self.value(b)?);
            if lo > hi {
                return Err(format!(
                    "the range {base:?} goes downward; write it low-high"
                ));
            }
            (lo, hi)
        } else {
            let v = self.value(base)?;
            if step.is_some() {
                return Err(format!(
                    "{item:?} has a step after a single value; write `*/n` or `a-b/n`"
                ));
            }
            (v, v)
        };
        let step = step.unwrap_or(1) as usize;
        Ok((lo..=hi).step_by(step).fold(0, |acc, v| acc | (1u64 << v)))
    }

    fn step(&self, s: &str) -> Result<u32, String> {
        match s.parse::<u32>() {
            Ok(n) if n >= 1 && s.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
            _ => Err(format!(
                "the step {s:?} is not a whole number of at least 1"
            )),
        }
    }

    fn value(&self, s: &str) -> Result<u32, String> {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return match s.parse::<u32>() {
                Ok(v) if (self.min..=self.max).contains(&v) => Ok(v),
                _ => Err(format!("{s:?} is out of range")),
            };
        }
        if let Some(i) = self.names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(self.min + i as u32);
        }
        if s.is_empty() {
            Err("a value is missing".to_string())
        } else {
            Err(format!("{s:?} is not a number or name"))
        }
    }

    /// The full error message for a bad field.
    pub fn error(&self, expr: &str, text: &str, why: &str) -> String {
        format!(
            "cron expression {expr:?}: the {} field {text:?} is invalid ({why}); it allows {} with {SYNTAX}",
            self.name, self.allowed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(field: usize, text: &str) -> u64 {
        FIELDS[field].parse(text).unwrap().bits
    }

    #[test]
    fn items_ranges_steps_and_names() {
        assert_eq!(bits(0, "5"), 1 << 5);
        assert_eq!(bits(0, "1,3"), 0b1010);
        assert_eq!(bits(0, "*/20"), (1 << 0) | (1 << 20) | (1 << 40));
        assert_eq!(bits(1, "8-12/2"), (1 << 8) | (1 << 10) | (1 << 12));
        assert_eq!(bits(3, "jan-Mar"), 0b1110);
        assert_eq!(bits(4, "MON-FRI"), 0b11_1110);
        assert_eq!(bits(4, "7"), 1);
        assert_eq!(bits(4, "5-7"), 0b110_0001);
        assert_eq!(bits(4, "*"), 0b111_1111);
        assert_eq!(bits(2, "*"), 0xFFFF_FFFE);
        assert!(FIELDS[2].parse("*/2").unwrap().star);
        assert!(!FIELDS[2].parse("1-31").unwrap().star);
    }

    #[test]
    fn rejects_bad_items() {
        for (f, bad) in [
            (0, "60"),
            (0, ""),
            (0, "1,,2"),
            (0, "5/2"),
            (0, "*/0"),
            (0, "*/x"),
            (1, "10-5"),
            (2, "0"),
            (3, "13"),
            (3, "JANUARY"),
            (4, "8"),
            (4, "MON-"),
            (0, "MON"),
        ] {
            assert!(FIELDS[f].parse(bad).is_err(), "{bad:?} in field {f}");
        }
    }
}
