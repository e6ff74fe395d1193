//! Keeps what the previous `BENCHMARKS.md` had where this run brings nothing
//! new, so a partial run (`ONLY=...`) or a failed section never erases
//! figures measured earlier:
//!
//! - a section this run did not measure keeps its previous text, under a
//!   note saying so;
//! - a hand-written subsection (a `###` heading that does not start with a
//!   digit, which the writer never generates except for its own named ones)
//!   of a regenerated section is kept at that section's end.

/// How every section without results starts; see `sections.rs`.
pub const NOT_MEASURED: &str = "Not measured in this run";

/// The note above a section carried over from the previous report.
const CARRIED: &str =
    "*Not measured in this run; the text below is kept from the previous BENCHMARKS.md: measured in an earlier run, possibly on another machine than the one described above.*\n\n";

struct Part<'a> {
    /// `1`, `2–3`, `2b`, … (the number before the first `. `), or the whole title.
    key: &'a str,
    heading: &'a str,
    body: &'a str,
}

/// Splits at lines starting with `marker`: text before the first, then one part per heading.
fn split<'a>(md: &'a str, marker: &str) -> (&'a str, Vec<Part<'a>>) {
    let starts: Vec<usize> = line_starts(md)
        .filter(|&i| md[i..].starts_with(marker))
        .collect();
    let lead = &md[..starts.first().copied().unwrap_or(md.len())];
    let parts = starts
        .iter()
        .enumerate()
        .map(|(k, &at)| {
            let end = starts.get(k + 1).copied().unwrap_or(md.len());
            let text = &md[at..end];
            let line_end = text.find('\n').map_or(text.len(), |i| i + 1);
            let heading = &text[..line_end];
            let title = heading[marker.len()..].trim();
            let key = match title.split_once(". ") {
                Some((num, _)) if num.starts_with(|c: char| c.is_ascii_digit()) => num,
                _ => title,
            };
            Part {
                key,
                heading,
                body: &text[line_end..],
            }
        })
        .collect();
    (lead, parts)
}

fn line_starts(md: &str) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(md.match_indices('\n').map(|(i, _)| i + 1))
}

fn measured(body: &str) -> bool {
    !body.trim_start().starts_with(NOT_MEASURED)
}

fn hand_written(sub: &Part<'_>) -> bool {
    !sub.key.starts_with(|c: char| c.is_ascii_digit())
}

/// `new` with the unmeasured sections and hand-written subsections of `old` carried over.
pub fn merge(new: &str, old: &str) -> String {
    let (lead, sections) = split(new, "## ");
    let (_, old_sections) = split(old, "## ");
    let mut out = String::from(lead);
    for s in &sections {
        out.push_str(s.heading);
        let previous = old_sections.iter().find(|o| o.key == s.key);
        match previous {
            Some(o) if !measured(s.body) && measured(o.body) => {
                let kept = o.body.trim_start();
                out.push('\n');
                out.push_str(CARRIED);
                out.push_str(kept.strip_prefix(CARRIED).unwrap_or(kept));
            }
            Some(o) => {
                out.push_str(s.body);
                let (_, subs) = split(s.body, "### ");
                let (_, old_subs) = split(o.body, "### ");
                for sub in old_subs.iter().filter(|o| hand_written(o)) {
                    if !subs.iter().any(|n| n.heading.trim() == sub.heading.trim()) {
                        out.push_str(sub.heading);
                        out.push_str(sub.body);
                    }
                }
            }
            None => out.push_str(s.body),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "# Benchmarks\n\nold lead\n\n## Machine\n\nold machine\n\n\
        ## 1. Bundle size\n\nold sizes\n\n### What an app pays\n\nhand text\n\n\
        ## 2–3. Fan-out\n\n### 1000 subscribers\n\nold table\n\n\
        ## 5. In the browser\n\nold browser figures\n";

    #[test]
    fn unmeasured_section_keeps_previous_text_under_a_note() {
        let new = "# Benchmarks\n\n## 5. In the browser\n\nNot measured in this run.\n\n";
        let out = merge(new, OLD);
        assert!(
            out.contains(&format!(
                "## 5. In the browser\n\n{CARRIED}old browser figures\n"
            )),
            "{out}"
        );
        // Carried twice, the note does not stack.
        let again = merge(new, &out);
        assert_eq!(
            again.matches("Not measured in this run;").count(),
            1,
            "{again}"
        );
        assert!(again.contains("old browser figures"));
    }

    #[test]
    fn measured_section_keeps_only_hand_written_subsections() {
        let new = "# Benchmarks\n\n## 1. Bundle size\n\nnew sizes\n\n## 2–3. Fan-out\n\n### 1000 subscribers\n\nnew table\n\n";
        let out = merge(new, OLD);
        assert!(
            out.contains("new sizes\n\n### What an app pays\n\nhand text\n"),
            "{out}"
        );
        assert!(
            !out.contains("old sizes") && !out.contains("old table"),
            "{out}"
        );
        assert_eq!(out.matches("### 1000 subscribers").count(), 1);
    }

    #[test]
    fn subsection_also_generated_now_is_not_doubled() {
        let new = "## 1. Bundle size\n\nnew\n\n### What an app pays\n\nnew hand\n";
        let out = merge(new, OLD);
        assert_eq!(out.matches("### What an app pays").count(), 1, "{out}");
        assert!(out.contains("new hand") && !out.contains("hand text"));
    }

    #[test]
    fn without_a_previous_report_nothing_changes() {
        let new = "# B\n\n## 4. Storm\n\nNot measured in this run.\n\n";
        assert_eq!(merge(new, ""), new);
    }
}
