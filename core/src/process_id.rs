//! The job identifier and its validation.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest accepted `process_id`, in characters.
pub const MAX_PROCESS_ID_LEN: usize = 128;

/// A validated job identifier: 1..=128 characters of `[A-Za-z0-9_-]`.
///
/// The narrow alphabet is what makes an id safe to put in a URL path, a log
/// line or a file name without escaping, so `../x` or `a/b` can never reach
/// the server's routing or storage.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProcessId(String);

/// Why a string is not a valid [`ProcessId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidProcessId {
    /// The id was empty.
    #[error("process_id is empty")]
    Empty,
    /// The id was longer than [`MAX_PROCESS_ID_LEN`].
    #[error("process_id is {len} characters long; at most {MAX_PROCESS_ID_LEN} are allowed")]
    TooLong {
        /// Length of the rejected id, in characters.
        len: usize,
    },
    /// The id held a character outside `[A-Za-z0-9_-]`.
    #[error("process_id contains {} at position {position}; only A-Z, a-z, 0-9, '_' and '-' are allowed", shown(*found))]
    BadCharacter {
        /// The first offending character.
        found: char,
        /// Its position, counted in characters from 0.
        position: usize,
    },
}

/// A rejected character for the error message: quoted when printable,
/// else its code point. Not `{:?}`: char's `Debug` brings Unicode
/// printability tables into every browser bundle that parses ids.
fn shown(c: char) -> String {
    if c.is_ascii_graphic() {
        format!("'{c}'")
    } else {
        format!("U+{:04X}", u32::from(c))
    }
}

impl ProcessId {
    /// Validates `raw` and wraps it.
    pub fn parse(raw: &str) -> Result<Self, InvalidProcessId> {
        if raw.is_empty() {
            return Err(InvalidProcessId::Empty);
        }
        let len = raw.chars().count();
        if len > MAX_PROCESS_ID_LEN {
            return Err(InvalidProcessId::TooLong { len });
        }
        if let Some((position, found)) = raw
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        {
            return Err(InvalidProcessId::BadCharacter { found, position });
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProcessId {
    type Error = InvalidProcessId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ProcessId> for String {
    fn from(id: ProcessId) -> Self {
        id.0
    }
}

impl std::str::FromStr for ProcessId {
    type Err = InvalidProcessId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ProcessId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod message_tests {
    use super::ProcessId;

    fn message(raw: &str) -> String {
        ProcessId::parse(raw).unwrap_err().to_string()
    }

    #[test]
    fn a_rejected_character_is_quoted_or_named_by_its_code_point() {
        assert!(message("ab!c").starts_with("process_id contains '!' at position 2;"));
        assert!(message("a b").starts_with("process_id contains U+0020 at position 1;"));
        assert!(message("é").starts_with("process_id contains U+00E9 at position 0;"));
    }
}
