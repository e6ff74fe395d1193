//! The binary's command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How the binary runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Where to listen. Default `127.0.0.1:3000`; port 0 picks a free one.
    pub addr: SocketAddr,
    /// The browser build (wasm-bindgen output), served at `/pkg/`.
    /// Default `pkg` in the current directory.
    pub pkg_dir: PathBuf,
    /// Where tus keeps uploads while they arrive. Default: a directory
    /// under the system's temp directory.
    pub upload_dir: PathBuf,
    /// Wait after each progress report of a stage. Default 0.
    pub pace: Duration,
    /// Browser origins allowed besides loopback ones (another host name
    /// in front of the app).
    pub origins: Vec<String>,
}

/// The usage text, printed for `--help` and with every error.
pub const USAGE: &str = "usage: upload-progress-fullstack [--addr HOST:PORT] [--pkg DIR] \
[--upload-dir DIR] [--pace-ms N] [--allow-origin URL]...";

impl Default for Options {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            pkg_dir: PathBuf::from("pkg"),
            upload_dir: std::env::temp_dir().join("upload-progress-fullstack"),
            pace: Duration::ZERO,
            origins: Vec::new(),
        }
    }
}

impl Options {
    /// Parses the arguments after the program name; `Err` is the message
    /// to print (with [`USAGE`]).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut options = Self::default();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--addr" => {
                    let v = value()?;
                    options.addr = v
                        .parse()
                        .map_err(|_| format!("--addr: not HOST:PORT: {v}"))?;
                }
                "--pkg" => options.pkg_dir = value()?.into(),
                "--upload-dir" => options.upload_dir = value()?.into(),
                "--pace-ms" => {
                    let v = value()?;
                    let ms: u64 = v
                        .parse()
                        .map_err(|_| format!("--pace-ms: not a number: {v}"))?;
                    options.pace = Duration::from_millis(ms);
                }
                "--allow-origin" => options.origins.push(value()?),
                other => return Err(format!("unknown argument {other}")),
            }
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn flags_set_their_option() {
        let o = parse(&["--addr", "127.0.0.1:0", "--pkg", "/p", "--pace-ms", "50"]).unwrap();
        assert_eq!(o.addr.port(), 0);
        assert_eq!(o.pkg_dir, PathBuf::from("/p"));
        assert_eq!(o.pace, Duration::from_millis(50));
        assert_eq!(parse(&[]).unwrap(), Options::default());
    }

    #[test]
    fn bad_arguments_are_named() {
        assert_eq!(
            parse(&["--pace-ms"]).unwrap_err(),
            "--pace-ms needs a value"
        );
        assert!(parse(&["--addr", "nowhere"])
            .unwrap_err()
            .contains("nowhere"));
        assert!(parse(&["--frobnicate"])
            .unwrap_err()
            .contains("--frobnicate"));
    }
}
