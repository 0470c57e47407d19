//! Run events from the WRK Platform (flow 27), the usage they add up to (flow 28) and the alert
//! rules over that usage (flow 29). Pure: the storage folds events and asks these rules what
//! crossed.
//!
//! A run counts once, when it finishes: a `run.succeeded` or `run.failed` event adds one run (and
//! one success or failure, and its duration) to the UTC day and month of the event's
//! `occurred_at`. `run.started` only records that the run began (its start time gives a duration
//! when the finishing event carries none). A second finishing event of the same run counts
//! nothing. So counts do not depend on the order events arrive in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The kinds of event the platform sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "run.started")]
    RunStarted,
    #[serde(rename = "run.succeeded")]
    RunSucceeded,
    #[serde(rename = "run.failed")]
    RunFailed,
    #[serde(rename = "credential.failed")]
    CredentialFailed,
}

impl EventType {
    pub const ALL: [EventType; 4] = [
        EventType::RunStarted,
        EventType::RunSucceeded,
        EventType::RunFailed,
        EventType::CredentialFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::RunStarted => "run.started",
            EventType::RunSucceeded => "run.succeeded",
            EventType::RunFailed => "run.failed",
            EventType::CredentialFailed => "credential.failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether the event finishes a run (and so counts it).
    pub fn finishes_run(self) -> bool {
        matches!(self, EventType::RunSucceeded | EventType::RunFailed)
    }
}

/// The UTC month (`YYYY-MM`) an instant falls in: the billing and usage period.
pub fn period_of(at: DateTime<Utc>) -> String {
    at.format("%Y-%m").to_string()
}

/// The UTC day (`YYYY-MM-DD`) an instant falls in.
pub fn day_of(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// Whether `s` is a period `YYYY-MM` (month 01-12).
pub fn is_period(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().all(u8::is_ascii_digit)
        && matches!((b[5], b[6]), (b'0', b'1'..=b'9') | (b'1', b'0'..=b'2'))
}

/// The bounds of the alert settings, as the API publishes them.
pub const MAX_VOLUME_THRESHOLDS: usize = 5;
pub const MIN_VOLUME_THRESHOLD: u32 = 1;
pub const MAX_VOLUME_THRESHOLD: u32 = 1000;
pub const MIN_FAILURE_RATE: u32 = 1;
pub const MAX_FAILURE_RATE: u32 = 100;
pub const MIN_FAILURE_WINDOW: u32 = 1;
pub const MAX_FAILURE_WINDOW: u32 = 1000;

/// A workspace's alert thresholds (flow 29).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertSettings {
    /// Percentages of the period's committed volume; one alert each, per automation and period.
    pub volume_thresholds_percent: Vec<u32>,
    /// An alert when more than this percentage of the last `failure_window_runs` runs failed.
    pub failure_rate_percent: u32,
    pub failure_window_runs: u32,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            volume_thresholds_percent: vec![80, 100],
            failure_rate_percent: 20,
            failure_window_runs: 50,
        }
    }
}

/// Why settings were refused: the field and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    pub field: &'static str,
    pub message: String,
}

impl AlertSettings {
    /// Checks the bounds and returns the settings with the thresholds sorted and deduplicated.
    pub fn validated(mut self) -> Result<Self, SettingsError> {
        let err = |field, message: String| Err(SettingsError { field, message });
        if self.volume_thresholds_percent.len() > MAX_VOLUME_THRESHOLDS {
            return err(
                "volume_thresholds_percent",
                format!("at most {MAX_VOLUME_THRESHOLDS} thresholds"),
            );
        }
        if let Some(t) = self
            .volume_thresholds_percent
            .iter()
            .find(|t| !(MIN_VOLUME_THRESHOLD..=MAX_VOLUME_THRESHOLD).contains(t))
        {
            return err(
                "volume_thresholds_percent",
                format!(
                    "{t} is out of range: each threshold is between {MIN_VOLUME_THRESHOLD} and \
                     {MAX_VOLUME_THRESHOLD} percent"
                ),
            );
        }
        if !(MIN_FAILURE_RATE..=MAX_FAILURE_RATE).contains(&self.failure_rate_percent) {
            return err(
                "failure_rate_percent",
                format!("between {MIN_FAILURE_RATE} and {MAX_FAILURE_RATE}"),
            );
        }
        if !(MIN_FAILURE_WINDOW..=MAX_FAILURE_WINDOW).contains(&self.failure_window_runs) {
            return err(
                "failure_window_runs",
                format!("between {MIN_FAILURE_WINDOW} and {MAX_FAILURE_WINDOW}"),
            );
        }
        self.volume_thresholds_percent.sort_unstable();
        self.volume_thresholds_percent.dedup();
        Ok(self)
    }

    /// The volume thresholds that `runs` of `committed` reach (`runs >= committed × t / 100`).
    /// None without a commitment.
    pub fn volume_crossed(&self, runs: u64, committed: u64) -> Vec<u32> {
        if committed == 0 {
            return Vec::new();
        }
        self.volume_thresholds_percent
            .iter()
            .copied()
            .filter(|&t| u128::from(runs) * 100 >= u128::from(committed) * u128::from(t))
            .collect()
    }

    /// Whether `failed` of the last `window` finished runs is above the failure rate. Judged only
    /// once a full window of runs exists, so the first failure of a new automation is not "100 %".
    pub fn failure_rate_exceeded(&self, failed: u64, window: u64) -> bool {
        window >= u64::from(self.failure_window_runs)
            && window > 0
            && u128::from(failed) * 100 > u128::from(window) * u128::from(self.failure_rate_percent)
    }
}

/// Rounded percentage of `part` in `whole`; `None` without a whole.
pub fn percent(part: u64, whole: u64) -> Option<u32> {
    (whole > 0).then(|| {
        let p = (u128::from(part) * 100 + u128::from(whole) / 2) / u128::from(whole);
        u32::try_from(p).unwrap_or(u32::MAX)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
        assert_eq!(EventType::parse("run.exploded"), None);
        assert!(EventType::RunFailed.finishes_run());
        assert!(!EventType::RunStarted.finishes_run());
    }

    #[test]
    fn periods_and_days_are_utc() {
        let at = DateTime::parse_from_rfc3339("2026-03-31T23:30:00-02:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(period_of(at), "2026-04");
        assert_eq!(day_of(at), "2026-04-01");
        for ok in ["2026-01", "1999-12", "2026-10"] {
            assert!(is_period(ok), "{ok}");
        }
        for bad in [
            "2026-13",
            "2026-00",
            "2026-1",
            "26-01",
            "2026/01",
            "2026-01-01",
            "",
        ] {
            assert!(!is_period(bad), "{bad}");
        }
    }

    #[test]
    fn volume_thresholds_crossed() {
        let s = AlertSettings::default();
        assert_eq!(s.volume_crossed(79, 100), Vec::<u32>::new());
        assert_eq!(s.volume_crossed(80, 100), vec![80]);
        assert_eq!(s.volume_crossed(100, 100), vec![80, 100]);
        assert_eq!(s.volume_crossed(5, 6), vec![80]); // 83 %
        assert_eq!(s.volume_crossed(1_000, 0), Vec::<u32>::new());
    }

    #[test]
    fn failure_rate_needs_a_full_window_and_more_than_the_rate() {
        let s = AlertSettings::default();
        assert!(!s.failure_rate_exceeded(10, 50)); // exactly 20 %
        assert!(s.failure_rate_exceeded(11, 50));
        assert!(!s.failure_rate_exceeded(5, 5)); // not a full window yet
    }

    #[test]
    fn settings_bounds() {
        let ok = AlertSettings {
            volume_thresholds_percent: vec![100, 50, 100],
            failure_rate_percent: 10,
            failure_window_runs: 20,
        }
        .validated()
        .unwrap();
        assert_eq!(ok.volume_thresholds_percent, vec![50, 100]);
        let bad = |f: fn(&mut AlertSettings)| {
            let mut s = AlertSettings::default();
            f(&mut s);
            s.validated().unwrap_err().field
        };
        assert_eq!(
            bad(|s| s.volume_thresholds_percent = vec![0]),
            "volume_thresholds_percent"
        );
        assert_eq!(
            bad(|s| s.volume_thresholds_percent = vec![1; 6]),
            "volume_thresholds_percent"
        );
        assert_eq!(bad(|s| s.failure_rate_percent = 0), "failure_rate_percent");
        assert_eq!(
            bad(|s| s.failure_rate_percent = 101),
            "failure_rate_percent"
        );
        assert_eq!(bad(|s| s.failure_window_runs = 0), "failure_window_runs");
        assert!(AlertSettings::default().validated().is_ok());
    }

    #[test]
    fn percentages_round() {
        assert_eq!(percent(1, 3), Some(33));
        assert_eq!(percent(2, 3), Some(67));
        assert_eq!(percent(5, 0), None);
    }
}
