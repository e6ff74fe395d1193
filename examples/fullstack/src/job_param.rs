//! The page's `?job=<id>` parameter: a link to a job the page then follows.
//!
//! The server reads it from the request and the browser from
//! `location.search`; both go through [`job_from_query`], so the hydrated
//! page asks for the same view the server rendered.

/// The job id in a query string (with or without its leading `?`), when
/// it is a valid process id (1..=128 of `[A-Za-z0-9_-]`); anything else
/// is ignored, as if there were no link.
pub fn job_from_query(query: &str) -> Option<String> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "job")
        .map(|(_, value)| value)
        .filter(|id| is_process_id(id))
        .map(str::to_owned)
}

fn is_process_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::job_from_query;

    #[test]
    fn reads_a_valid_job_id() {
        assert_eq!(job_from_query("?job=up_12-ab"), Some("up_12-ab".into()));
        assert_eq!(job_from_query("a=1&job=x"), Some("x".into()));
    }

    #[test]
    fn ignores_missing_or_invalid_ids() {
        assert_eq!(job_from_query(""), None);
        assert_eq!(job_from_query("?jobs=x"), None);
        assert_eq!(job_from_query("?job="), None);
        assert_eq!(job_from_query("?job=%3Cscript%3E"), None);
        assert_eq!(job_from_query(&format!("?job={}", "a".repeat(129))), None);
    }
}
