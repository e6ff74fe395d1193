//! The asynchronous token provider the session asks for fresh credentials.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// The future a [`TokenProvider`] returns.
pub type TokenFuture = Pin<Box<dyn Future<Output = Option<String>>>>;

/// Produces a fresh token when the server says the current one is missing
/// or expired (close code 4401 or HTTP 401).
///
/// The provider answers `None` when it has no token to give; the session
/// then stops with an authentication error.
///
/// # Usage
/// ```no_run
/// use upload_progress_robust::TokenProvider;
/// let provider = TokenProvider::new(|| async { Some("fresh-token".to_owned()) });
/// ```
#[derive(Clone)]
pub struct TokenProvider(Rc<dyn Fn() -> TokenFuture>);

impl TokenProvider {
    /// Wraps an async function returning a token.
    pub fn new<F, Fut>(provider: F) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Option<String>> + 'static,
    {
        Self(Rc::new(move || Box::pin(provider())))
    }

    /// Asks for a token.
    pub fn fetch(&self) -> TokenFuture {
        (self.0)()
    }
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenProvider(..)")
    }
}
