//! The set of jobs a set poll or an event stream asks for: `?ids=a,b,c`,
//! and with tokens required `&tokens=ta,tb,tc` in the same order.

use axum::http::StatusCode;
use serde::Deserialize;
use upload_progress_core::page::{split_list, JobRef, LIST_SEPARATOR};
use upload_progress_core::protocol::WireErrorCode;

use crate::error::ApiError;

/// The query of `GET /ws/page/poll` and `GET /ws/page/events`.
#[derive(Debug, Default, Deserialize)]
pub struct JobSetQuery {
    ids: Option<String>,
    tokens: Option<String>,
}

impl JobSetQuery {
    /// The asked jobs, each id once (the first time it is named), at most
    /// `cap` of them. Ids are not checked here: a bad one is its own entry's
    /// error, not the request's.
    pub fn jobs(&self, cap: usize) -> Result<Vec<JobRef>, ApiError> {
        let ids = split_list(self.ids.as_deref().unwrap_or(""));
        if ids.is_empty() {
            return Err(bad_query("name the jobs as ?ids=a,b,c"));
        }
        // Unlike ids, an empty token list is one empty token (`?ids=a&tokens=`).
        let tokens: Option<Vec<&str>> = self
            .tokens
            .as_deref()
            .map(|t| t.split(LIST_SEPARATOR).collect());
        if let Some(tokens) = &tokens {
            if tokens.len() != ids.len() {
                return Err(bad_query(
                    "?tokens= needs one token per id, in the order of ?ids=",
                ));
            }
        }
        let mut jobs: Vec<JobRef> = Vec::with_capacity(ids.len().min(cap));
        for (i, id) in ids.iter().enumerate() {
            if jobs.iter().any(|job| job.process_id == *id) {
                continue;
            }
            if jobs.len() == cap {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    WireErrorCode::TooManySubscriptions,
                    format!("one request follows at most {cap} jobs"),
                ));
            }
            let token = tokens
                .as_ref()
                .and_then(|t| t.get(i))
                .filter(|t| !t.is_empty())
                .map(|t| (*t).to_owned());
            jobs.push(JobRef {
                process_id: (*id).to_owned(),
                token,
            });
        }
        Ok(jobs)
    }
}

fn bad_query(message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, WireErrorCode::BadQuery, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(ids: Option<&str>, tokens: Option<&str>) -> JobSetQuery {
        JobSetQuery {
            ids: ids.map(str::to_owned),
            tokens: tokens.map(str::to_owned),
        }
    }

    #[test]
    fn ids_pair_with_tokens_in_order_and_repeat_only_once() {
        let jobs = query(Some("a,b,a"), Some("ta,tb,tx")).jobs(10).unwrap();
        let pairs: Vec<_> = jobs
            .iter()
            .map(|j| (j.process_id.as_str(), j.token.as_deref()))
            .collect();
        assert_eq!(pairs, [("a", Some("ta")), ("b", Some("tb"))]);
    }

    #[test]
    fn empty_sets_mismatched_tokens_and_sets_over_the_cap_are_refused() {
        assert_eq!(
            query(None, None).jobs(10).unwrap_err().code,
            WireErrorCode::BadQuery
        );
        assert_eq!(
            query(Some(""), None).jobs(10).unwrap_err().code,
            WireErrorCode::BadQuery
        );
        let mismatch = query(Some("a,b"), Some("t")).jobs(10).unwrap_err();
        assert_eq!(mismatch.code, WireErrorCode::BadQuery);
        let over = query(Some("a,b,c"), None).jobs(2).unwrap_err();
        assert_eq!(over.code, WireErrorCode::TooManySubscriptions);
        assert_eq!(query(Some("a,b,b"), None).jobs(2).unwrap().len(), 2);
        let one = query(Some("a"), Some("")).jobs(2).unwrap();
        assert_eq!(one[0].token, None, "an empty token is no token");
    }
}
