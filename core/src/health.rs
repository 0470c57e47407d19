//! A client's health (flow 34): the three statuses ops set, and the status the console suggests
//! from what the client's workspaces show.
//!
//! [`suggest`] is a pure function of [`Signals`]. A signal the installation does not record (yet)
//! is `None` and reads as "no data": it never counts as good news, and the suggestion lists it
//! apart from its reasons. Where the numbers come from is the storage's business.

use serde::{Deserialize, Serialize};

use crate::roles::named_enum;

/// How a client is doing, worst last (so `max` is the worse of two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Green,
    Yellow,
    Red,
}

named_enum!(Health, "health status", {
    Green => "green",
    Yellow => "yellow",
    Red => "red",
});

/// What a suggestion looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// Alerts raised in the last [`ALERT_WINDOW_DAYS`] days.
    Alerts,
    /// Failed runs among this month's runs.
    FailureRate,
    /// Open tasks older than [`TASK_OVERDUE_AFTER_DAYS`] days.
    OverdueTasks,
    /// Invoices and charges whose payment failed.
    PaymentFailures,
}

named_enum!(Signal, "health signal", {
    Alerts => "alerts",
    FailureRate => "failure_rate",
    OverdueTasks => "overdue_tasks",
    PaymentFailures => "payment_failures",
});

impl Signal {
    /// The signal in words, for "no data" lines.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Alerts => "Alerts",
            Self::FailureRate => "Run failure rate",
            Self::OverdueTasks => "Overdue tasks",
            Self::PaymentFailures => "Payment failures",
        }
    }
}

/// An open task is overdue once it has waited this many days.
pub const TASK_OVERDUE_AFTER_DAYS: i64 = 7;
/// Alerts count towards health for this many days.
pub const ALERT_WINDOW_DAYS: i64 = 30;
/// Fewer runs than this say too little for a failure rate to turn a client red.
pub const MIN_RUNS_FOR_RED: u64 = 20;

/// Runs and how many of them failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Runs {
    pub runs: u64,
    pub failed: u64,
}

impl Runs {
    /// Failed runs in whole percent, rounded down; `None` without runs.
    pub fn failure_percent(self) -> Option<u64> {
        (self.runs > 0).then(|| self.failed.min(self.runs) * 100 / self.runs)
    }
}

/// The numbers behind a suggestion; `None` = not recorded on this installation ("no data").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Signals {
    pub alerts: Option<u64>,
    /// `None` also when there were no runs this month: a rate of nothing is no data.
    pub runs: Option<Runs>,
    pub overdue_tasks: Option<u64>,
    pub payment_failures: Option<u64>,
}

impl Signals {
    /// Two clients' (or workspaces') signals together: a signal is known when either side
    /// knows it.
    pub fn combine(self, other: Self) -> Self {
        fn add(a: Option<u64>, b: Option<u64>) -> Option<u64> {
            match (a, b) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
            }
        }
        let runs = match (self.runs, other.runs) {
            (None, None) => None,
            (a, b) => {
                let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
                Some(Runs {
                    runs: a.runs + b.runs,
                    failed: a.failed + b.failed,
                })
            }
        };
        Self {
            alerts: add(self.alerts, other.alerts),
            runs: runs.filter(|r| r.runs > 0),
            overdue_tasks: add(self.overdue_tasks, other.overdue_tasks),
            payment_failures: add(self.payment_failures, other.payment_failures),
        }
    }
}

/// One signal's verdict, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub signal: Signal,
    pub status: Health,
    pub text: String,
}

/// What the console offers ops to accept in one click.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    /// The worst status among the reasons (green when every known signal is fine); `None` when
    /// no signal has data: nothing to suggest rather than a guess.
    pub status: Option<Health>,
    /// One line per known signal, worst first.
    pub reasons: Vec<Reason>,
    /// The signals with no data.
    pub no_data: Vec<Signal>,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The suggested status and its reasons. Thresholds: any failed payment is red; alerts are
/// yellow from 1 and red from 3; overdue tasks yellow from 1 and red from 5; a failure rate
/// yellow from 5 % and red from 20 % (red only with at least [`MIN_RUNS_FOR_RED`] runs).
pub fn suggest(s: &Signals) -> Suggestion {
    let mut reasons = Vec::new();
    let mut no_data = Vec::new();

    match s.payment_failures {
        None => no_data.push(Signal::PaymentFailures),
        Some(0) => reasons.push(reason(
            Signal::PaymentFailures,
            Health::Green,
            "No failed payments".into(),
        )),
        Some(n) => reasons.push(reason(
            Signal::PaymentFailures,
            Health::Red,
            format!(
                "{} not paid",
                plural(n, "payment failed and is", "payments failed and are")
            ),
        )),
    }
    match s.alerts {
        None => no_data.push(Signal::Alerts),
        Some(0) => reasons.push(reason(
            Signal::Alerts,
            Health::Green,
            format!("No alerts in the last {ALERT_WINDOW_DAYS} days"),
        )),
        Some(n) => reasons.push(reason(
            Signal::Alerts,
            if n >= 3 { Health::Red } else { Health::Yellow },
            format!(
                "{} in the last {ALERT_WINDOW_DAYS} days",
                plural(n, "alert", "alerts")
            ),
        )),
    }
    match s.runs.and_then(|r| r.failure_percent().map(|p| (r, p))) {
        None => no_data.push(Signal::FailureRate),
        Some((r, p)) => {
            let status = if p >= 20 && r.runs >= MIN_RUNS_FOR_RED {
                Health::Red
            } else if p >= 5 {
                Health::Yellow
            } else {
                Health::Green
            };
            reasons.push(reason(
                Signal::FailureRate,
                status,
                format!(
                    "{p} % of this month's runs failed ({} of {})",
                    r.failed.min(r.runs),
                    r.runs
                ),
            ));
        }
    }
    match s.overdue_tasks {
        None => no_data.push(Signal::OverdueTasks),
        Some(0) => reasons.push(reason(
            Signal::OverdueTasks,
            Health::Green,
            "No overdue tasks".into(),
        )),
        Some(n) => reasons.push(reason(
            Signal::OverdueTasks,
            if n >= 5 { Health::Red } else { Health::Yellow },
            format!(
                "{} open for more than {TASK_OVERDUE_AFTER_DAYS} days",
                plural(n, "task", "tasks")
            ),
        )),
    }
    // Worst first; the sort is stable, so equal ones keep the order above.
    reasons.sort_by_key(|r| std::cmp::Reverse(r.status));
    Suggestion {
        status: reasons.iter().map(|r| r.status).max(),
        reasons,
        no_data,
    }
}

fn reason(signal: Signal, status: Health, text: String) -> Reason {
    Reason {
        signal,
        status,
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::assert_names_round_trip;

    #[test]
    fn statuses_and_signals_round_trip_and_unknown_ones_are_refused() {
        assert_names_round_trip(Health::ALL, &["", "GREEN", "amber"]);
        assert_names_round_trip(Signal::ALL, &["alert", "runs"]);
        assert!(Health::Red > Health::Yellow && Health::Yellow > Health::Green);
    }

    #[test]
    fn with_no_data_at_all_nothing_is_suggested_and_the_missing_signals_are_named() {
        let s = suggest(&Signals::default());
        assert_eq!(s.status, None);
        assert!(s.reasons.is_empty());
        assert_eq!(
            s.no_data,
            vec![
                Signal::PaymentFailures,
                Signal::Alerts,
                Signal::FailureRate,
                Signal::OverdueTasks
            ]
        );
    }

    #[test]
    fn overdue_tasks_turn_a_client_yellow_then_red_and_the_reason_counts_them() {
        let at = |n| {
            suggest(&Signals {
                overdue_tasks: Some(n),
                ..Signals::default()
            })
        };
        assert_eq!(at(0).status, Some(Health::Green));
        assert_eq!(at(0).reasons[0].text, "No overdue tasks");
        assert_eq!(at(1).status, Some(Health::Yellow));
        assert_eq!(at(1).reasons[0].text, "1 task open for more than 7 days");
        assert_eq!(at(4).status, Some(Health::Yellow));
        assert_eq!(at(5).status, Some(Health::Red));
        assert!(!at(5).no_data.contains(&Signal::OverdueTasks));
    }

    #[test]
    fn one_failed_payment_is_red_and_comes_first_among_the_reasons() {
        let s = suggest(&Signals {
            payment_failures: Some(1),
            overdue_tasks: Some(2),
            alerts: Some(0),
            runs: None,
        });
        assert_eq!(s.status, Some(Health::Red));
        assert_eq!(s.reasons[0].signal, Signal::PaymentFailures);
        assert_eq!(s.reasons[0].text, "1 payment failed and is not paid");
        assert_eq!(s.reasons[1].status, Health::Yellow);
        assert_eq!(s.reasons[2].status, Health::Green);
        assert_eq!(s.no_data, vec![Signal::FailureRate]);
    }

    #[test]
    fn a_failure_rate_is_red_only_with_enough_runs_to_mean_it() {
        let rate = |runs, failed| {
            suggest(&Signals {
                runs: Some(Runs { runs, failed }),
                ..Signals::default()
            })
            .status
            .expect("a rate is data")
        };
        assert_eq!(rate(100, 4), Health::Green);
        assert_eq!(rate(100, 5), Health::Yellow);
        assert_eq!(rate(100, 20), Health::Red);
        assert_eq!(rate(10, 5), Health::Yellow, "10 runs are too few for red");
        assert_eq!(rate(20, 4), Health::Red);
        assert_eq!(Runs { runs: 0, failed: 0 }.failure_percent(), None);
    }

    #[test]
    fn combining_signals_adds_what_is_known_and_keeps_unknown_as_unknown() {
        let a = Signals {
            overdue_tasks: Some(2),
            runs: Some(Runs {
                runs: 10,
                failed: 1,
            }),
            ..Signals::default()
        };
        let b = Signals {
            overdue_tasks: Some(1),
            payment_failures: Some(0),
            ..Signals::default()
        };
        let c = a.combine(b);
        assert_eq!(c.overdue_tasks, Some(3));
        assert_eq!(c.payment_failures, Some(0));
        assert_eq!(c.alerts, None);
        assert_eq!(
            c.runs,
            Some(Runs {
                runs: 10,
                failed: 1
            })
        );
        let none = Signals {
            runs: Some(Runs::default()),
            ..Signals::default()
        };
        assert_eq!(
            none.combine(Signals::default()).runs,
            None,
            "no runs is no data"
        );
    }
}
