//! Results of the checks and the lines the kit prints.

use std::fmt;

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server did what the rule says.
    Pass,
    /// The server broke the rule; the text names it.
    Fail(String),
    /// Not run, and why.
    Skip(String),
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// Stable name, e.g. `ws.snapshot_first`.
    pub name: &'static str,
    /// What happened.
    pub outcome: Outcome,
}

impl fmt::Display for CheckResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Outcome::Pass => write!(f, "PASS {}", self.name),
            Outcome::Fail(why) => write!(f, "FAIL {}: {why}", self.name),
            Outcome::Skip(why) => write!(f, "SKIP {}: {why}", self.name),
        }
    }
}

/// Every result of a run, in the order the checks ran.
#[derive(Debug, Default)]
pub struct Report {
    /// The results so far.
    pub results: Vec<CheckResult>,
    /// Notes printed between results (e.g. why the run stopped early).
    pub notes: Vec<String>,
    echo: bool,
}

impl Report {
    /// An empty report; with `echo`, every result is printed as it comes.
    pub fn new(echo: bool) -> Self {
        Self {
            echo,
            ..Self::default()
        }
    }

    /// Adds a result.
    pub fn record(&mut self, name: &'static str, result: Result<(), String>) {
        let outcome = match result {
            Ok(()) => Outcome::Pass,
            Err(why) => Outcome::Fail(why),
        };
        self.push(CheckResult { name, outcome });
    }

    /// Adds a skipped check.
    pub fn skip(&mut self, name: &'static str, why: impl Into<String>) {
        self.push(CheckResult {
            name,
            outcome: Outcome::Skip(why.into()),
        });
    }

    /// Adds a note line.
    pub fn note(&mut self, text: impl Into<String>) {
        let text = text.into();
        if self.echo {
            println!("note: {text}");
        }
        self.notes.push(text);
    }

    fn push(&mut self, result: CheckResult) {
        if self.echo {
            println!("{result}");
        }
        self.results.push(result);
    }

    /// Number of passed checks.
    pub fn passed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Pass))
    }

    /// Number of failed checks.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Fail(_)))
    }

    /// Number of skipped checks.
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skip(_)))
    }

    fn count(&self, pred: impl Fn(&Outcome) -> bool) -> usize {
        self.results.iter().filter(|r| pred(&r.outcome)).count()
    }

    /// True when something ran and nothing failed.
    pub fn success(&self) -> bool {
        self.failed() == 0 && self.passed() > 0
    }

    /// The failure message of check `name`, if it failed.
    pub fn failure(&self, name: &str) -> Option<&str> {
        self.results.iter().find_map(|r| match &r.outcome {
            Outcome::Fail(why) if r.name == name => Some(why.as_str()),
            _ => None,
        })
    }

    /// The outcome of check `name`, if it was recorded.
    pub fn outcome(&self, name: &str) -> Option<&Outcome> {
        self.results
            .iter()
            .find(|r| r.name == name)
            .map(|r| &r.outcome)
    }

    /// The closing line: `N passed, M failed` (and `, K skipped` when any were).
    pub fn summary(&self) -> String {
        let mut line = format!("{} passed, {} failed", self.passed(), self.failed());
        if self.skipped() > 0 {
            line.push_str(&format!(", {} skipped", self.skipped()));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_summary() {
        let mut r = Report::new(false);
        r.record("a", Ok(()));
        r.record(
            "b",
            Err("PROTOCOL.md 3.2: seq went back from 7 to 5".into()),
        );
        r.skip("c", "asked to");
        assert_eq!(r.results[0].to_string(), "PASS a");
        assert_eq!(
            r.results[1].to_string(),
            "FAIL b: PROTOCOL.md 3.2: seq went back from 7 to 5"
        );
        assert_eq!(r.results[2].to_string(), "SKIP c: asked to");
        assert_eq!(r.summary(), "1 passed, 1 failed, 1 skipped");
        assert!(!r.success());
        assert_eq!(r.failure("b").map(|s| s.contains("seq")), Some(true));
    }
}
