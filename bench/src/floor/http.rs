//! Just enough HTTP/1.1 for the floor: a request head read from a blocking
//! socket, the WebSocket upgrade answered by hand, and small JSON replies.

use std::io::{self, Read, Write};
use std::net::TcpStream;

use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// Longest request head accepted; the generator's are a few hundred bytes.
const MAX_HEAD: usize = 8 * 1024;

/// A request line and the one header the floor needs.
#[derive(Debug)]
pub struct Head {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    /// `Sec-WebSocket-Key`, present on an upgrade.
    pub ws_key: Option<String>,
}

/// Reads one request head (through the blank line). Any body is ignored:
/// the generator's requests have none. `Ok(None)` when the peer closed first.
pub fn read_head(stream: &mut TcpStream) -> io::Result<Option<Head>> {
    let mut buf = Vec::with_capacity(512);
    let mut byte = [0u8; 512];
    loop {
        // Byte-exact reading is not needed: a client sends its next request
        // only after our answer, so a read never takes part of the next head.
        let n = stream.read(&mut byte)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&byte[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too long",
            ));
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let target = first.next().unwrap_or_default().to_owned();
    let ws_key = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("sec-websocket-key"))
        .map(|(_, v)| v.trim().to_owned());
    Ok(Some(Head {
        method,
        target,
        ws_key,
    }))
}

/// The `101 Switching Protocols` answer to an upgrade with `key`.
pub fn upgrade_response(key: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    )
}

/// Writes a keep-alive JSON response.
pub fn respond(stream: &mut TcpStream, status: &str, body: &str) -> io::Result<()> {
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(reply.as_bytes())
}

/// A server-to-client frame (unmasked, FIN set) with `opcode` around `payload`.
pub fn frame(opcode: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.push(0x80 | opcode);
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
}

/// Text frame opcode.
pub const TEXT: u8 = 1;
/// Close frame opcode.
pub const CLOSE: u8 = 8;

/// A close frame with `code` and `reason`.
pub fn close_frame(code: u16, reason: &str, out: &mut Vec<u8>) {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    frame(CLOSE, &payload, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_use_the_length_form_their_size_needs() {
        let mut out = Vec::new();
        frame(TEXT, b"hi", &mut out);
        assert_eq!(out, [0x81, 2, b'h', b'i']);
        let mut out = Vec::new();
        frame(TEXT, &[b'x'; 300], &mut out);
        assert_eq!(&out[..4], &[0x81, 126, 1, 44]);
        assert_eq!(out.len(), 304);
    }

    #[test]
    fn the_accept_key_is_rfc_6455s_example() {
        let r = upgrade_response("dGhlIHNhbXBsZSBub25jZQ==");
        assert!(r.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    }
}
