//! `Upload-Metadata`: comma-separated `key base64(value)` pairs (tus 1.0.0).

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= group.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The `Upload-Metadata` value for `pairs`. Keys must be non-empty ASCII
/// without spaces or commas; pairs whose key is not are left out.
pub fn encode_metadata(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .filter(|(key, _)| {
            !key.is_empty() && key.bytes().all(|b| b.is_ascii_graphic() && b != b',')
        })
        .map(|(key, value)| {
            if value.is_empty() {
                key.clone()
            } else {
                format!("{key} {}", base64(value.as_bytes()))
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn pairs_are_joined_and_bad_keys_dropped() {
        let pairs = vec![
            ("filename".to_owned(), "a b.txt".to_owned()),
            ("empty".to_owned(), String::new()),
            ("bad key".to_owned(), "x".to_owned()),
        ];
        assert_eq!(encode_metadata(&pairs), "filename YSBiLnR4dA==,empty");
    }
}
