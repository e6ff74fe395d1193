//! Signed, expiring job tokens and the admin bearer check.
//!
//! A token is `<expiry_unix_s>.<base64url(HMAC-SHA256(key, process_id "\n" expiry))>`.
//! Binding the id into the MAC means a token for one job opens no other job;
//! the readable expiry lets a client see when to refresh without a round trip.
//!
//! A refresh credential has the same shape but a MAC over
//! `"refresh\n" process_id "\n" expiry`, so it never opens a progress
//! endpoint and a job token is never mistaken for one.

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::digest::generic_array::GenericArray;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use upload_progress_core::protocol::WireErrorCode;
use upload_progress_core::ProcessId;

type HmacSha256 = Hmac<Sha256>;

/// Why a token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No token was presented.
    #[error("a token is required")]
    Missing,
    /// The token is not in the expected shape or its signature is wrong.
    #[error("the token is not valid for this job")]
    Invalid,
    /// The token was valid but its lifetime is over.
    #[error("the token has expired")]
    Expired,
}

impl TokenError {
    /// Stable machine code for error bodies and frames.
    pub fn code(self) -> WireErrorCode {
        match self {
            Self::Missing => WireErrorCode::TokenMissing,
            Self::Invalid => WireErrorCode::TokenInvalid,
            Self::Expired => WireErrorCode::TokenExpired,
        }
    }
}

/// Issues and checks job tokens with one secret key.
pub struct TokenSigner {
    /// An HMAC already keyed; cloned for every token so the key schedule runs once.
    keyed: HmacSha256,
}

impl TokenSigner {
    /// A signer using `secret`, or a fresh random key when `None`.
    pub fn new(secret: Option<&str>) -> Self {
        let mut key = [0u8; 64];
        match secret {
            // HMAC hashes keys longer than a block and zero-pads shorter ones;
            // doing it here gives a fixed-size key and an infallible constructor.
            Some(s) if s.len() > key.len() => key[..32].copy_from_slice(&Sha256::digest(s)),
            Some(s) => key[..s.len()].copy_from_slice(s.as_bytes()),
            None => key[..32].copy_from_slice(&rand::random::<[u8; 32]>()),
        }
        let keyed = <HmacSha256 as KeyInit>::new(&GenericArray::from(key));
        Self { keyed }
    }

    fn mac(&self, kind: Kind, id: &ProcessId, expiry_s: u64) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        if kind == Kind::Refresh {
            mac.update(b"refresh\n");
        }
        mac.update(id.as_str().as_bytes());
        mac.update(b"\n");
        mac.update(expiry_s.to_string().as_bytes());
        mac
    }

    fn sign(&self, kind: Kind, id: &ProcessId, now_s: u64, ttl_s: u64) -> String {
        let expiry = now_s.saturating_add(ttl_s);
        let sig = self.mac(kind, id, expiry).finalize().into_bytes();
        format!("{expiry}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// A token for `id` valid until `now_s + ttl_s`.
    pub fn issue(&self, id: &ProcessId, now_s: u64, ttl_s: u64) -> String {
        self.sign(Kind::Access, id, now_s, ttl_s)
    }

    /// A refresh credential for `id` valid until `now_s + ttl_s`: it can only
    /// buy fresh tokens for `id` (`POST /api/uploads/{id}/token`).
    pub fn issue_refresh(&self, id: &ProcessId, now_s: u64, ttl_s: u64) -> String {
        self.sign(Kind::Refresh, id, now_s, ttl_s)
    }

    /// What `token` is with respect to job `id` (job tokens).
    pub fn inspect(&self, token: Option<&str>, id: &ProcessId) -> Inspected {
        self.inspect_kind(Kind::Access, token, id)
    }

    /// What `token` is with respect to job `id` (refresh credentials).
    pub fn inspect_refresh(&self, token: Option<&str>, id: &ProcessId) -> Inspected {
        self.inspect_kind(Kind::Refresh, token, id)
    }

    fn inspect_kind(&self, kind: Kind, token: Option<&str>, id: &ProcessId) -> Inspected {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Inspected::Missing;
        };
        let parsed = token.split_once('.').and_then(|(expiry, sig)| {
            let expiry: u64 = expiry.parse().ok()?;
            let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
            Some((expiry, sig))
        });
        let Some((expiry, sig)) = parsed else {
            return Inspected::Malformed;
        };
        // verify_slice compares in constant time.
        match self.mac(kind, id, expiry).verify_slice(&sig) {
            Ok(()) => Inspected::Signed { expiry_s: expiry },
            Err(_) => Inspected::NotForThisJob,
        }
    }

    /// Checks `token` for `id` at `now_s`; returns its expiry time.
    pub fn verify(
        &self,
        token: Option<&str>,
        id: &ProcessId,
        now_s: u64,
    ) -> Result<u64, TokenError> {
        match self.inspect(token, id) {
            Inspected::Missing => Err(TokenError::Missing),
            Inspected::Malformed | Inspected::NotForThisJob => Err(TokenError::Invalid),
            Inspected::Signed { expiry_s } if expiry_s <= now_s => Err(TokenError::Expired),
            Inspected::Signed { expiry_s } => Ok(expiry_s),
        }
    }
}

/// Which of the two credentials a MAC is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Access,
    Refresh,
}

/// A presented credential, checked against one job but not yet against the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inspected {
    /// Nothing was presented.
    Missing,
    /// Not in the token shape at all.
    Malformed,
    /// Well formed, but not signed by this server for this job (another
    /// job's token, or a forgery).
    NotForThisJob,
    /// Signed by this server for this job; valid until `expiry_s`.
    Signed {
        /// Unix seconds at which it stops being valid.
        expiry_s: u64,
    },
}

/// The token of an `Authorization: Bearer <t>` header, if present.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Compares two secrets without an early exit, so timing reveals nothing.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Result of an admin check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminCheck {
    /// The bearer matches the admin token.
    Allowed,
    /// The server has no admin token: admin endpoints are off.
    Disabled,
    /// Missing or wrong bearer.
    Unauthorized,
}

/// Checks the request's bearer against the configured admin token.
pub fn check_admin(admin_token: Option<&str>, headers: &HeaderMap) -> AdminCheck {
    match (admin_token, bearer(headers)) {
        (None, _) => AdminCheck::Disabled,
        (Some(want), Some(got)) if secrets_equal(want, got) => AdminCheck::Allowed,
        _ => AdminCheck::Unauthorized,
    }
}

/// `uri` as text with the value of any `token` query parameter replaced, for logs.
pub fn redact_uri(uri: &axum::http::Uri) -> String {
    let Some(query) = uri.query() else {
        return uri.path().to_owned();
    };
    let redacted: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("token") => format!("{k}=REDACTED"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{}?{}", uri.path(), redacted.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> ProcessId {
        ProcessId::parse(s).expect("valid")
    }

    #[test]
    fn token_round_trip_and_binding() {
        let signer = TokenSigner::new(Some("k"));
        let t = signer.issue(&id("a"), 100, 10);
        assert_eq!(signer.verify(Some(&t), &id("a"), 105), Ok(110));
        assert_eq!(
            signer.verify(Some(&t), &id("b"), 105),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            signer.verify(Some(&t), &id("a"), 110),
            Err(TokenError::Expired)
        );
        assert_eq!(signer.verify(None, &id("a"), 1), Err(TokenError::Missing));
        assert_eq!(
            signer.verify(Some("x.y"), &id("a"), 1),
            Err(TokenError::Invalid)
        );
        let forged = t.replacen("110", "999", 1);
        assert_eq!(
            signer.verify(Some(&forged), &id("a"), 1),
            Err(TokenError::Invalid)
        );
        let other = TokenSigner::new(Some("other"));
        assert_eq!(
            other.verify(Some(&t), &id("a"), 105),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn refresh_credentials_are_a_separate_kind() {
        let signer = TokenSigner::new(Some("k"));
        let refresh = signer.issue_refresh(&id("a"), 100, 10);
        let access = signer.issue(&id("a"), 100, 10);
        assert_eq!(
            signer.inspect_refresh(Some(&refresh), &id("a")),
            Inspected::Signed { expiry_s: 110 }
        );
        assert_eq!(
            signer.inspect(Some(&refresh), &id("a")),
            Inspected::NotForThisJob
        );
        assert_eq!(
            signer.inspect_refresh(Some(&access), &id("a")),
            Inspected::NotForThisJob
        );
        assert_eq!(
            signer.inspect_refresh(Some(&refresh), &id("b")),
            Inspected::NotForThisJob
        );
        assert_eq!(signer.inspect(Some("nope"), &id("a")), Inspected::Malformed);
        assert_eq!(signer.inspect(Some(""), &id("a")), Inspected::Missing);
    }

    #[test]
    fn redacts_token_query() {
        let uri: axum::http::Uri = "/ws/progress/a?x=1&token=secret".parse().expect("uri");
        assert_eq!(redact_uri(&uri), "/ws/progress/a?x=1&token=REDACTED");
    }
}
