//! The app's own work on an upload, in the stages of [`crate::app::STAGES`]:
//! a SHA-256 checksum, a gzip compression (to learn how well the file
//! compresses) and a line count. Each stage reads the stored file again
//! in chunks, so memory stays flat whatever the upload's size, and reports
//! how far it is [`STEPS`] times.

use std::io::Write as _;
use std::time::Duration;

use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt as _;
use upload_progress_server::{FinishedUpload, JobHandle};

/// Progress reports per stage.
pub const STEPS: u64 = 10;

/// Bytes read at once.
const CHUNK: usize = 256 * 1024;

/// What the stages found; [`Summary::message`] is the job's final message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Bytes in the upload.
    pub size: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// Size of the gzip stream (default level).
    pub gzip_size: u64,
    /// Lines (a last line without a newline counts).
    pub lines: u64,
}

impl Summary {
    /// The job's final message, which the page shows as the result.
    pub fn message(&self) -> String {
        format!(
            "sha256 {}, gzip {} of {} bytes, {} lines",
            self.sha256, self.gzip_size, self.size, self.lines
        )
    }
}

/// One pass over the bytes: fed every chunk in order, then asked for its
/// result.
trait Pass {
    fn feed(&mut self, chunk: &[u8]) -> std::io::Result<()>;
}

impl Pass for Sha256 {
    fn feed(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.update(chunk);
        Ok(())
    }
}

/// Counts the bytes written to it and keeps none.
#[derive(Default)]
struct Counted(u64);

impl std::io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Pass for GzEncoder<Counted> {
    fn feed(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.write_all(chunk)
    }
}

/// Newlines seen, and whether the last byte was one.
#[derive(Default)]
struct LineCount {
    newlines: u64,
    ends_open: bool,
}

impl Pass for LineCount {
    fn feed(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.newlines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        if let Some(last) = chunk.last() {
            self.ends_open = *last != b'\n';
        }
        Ok(())
    }
}

impl LineCount {
    fn lines(&self) -> u64 {
        self.newlines + u64::from(self.ends_open)
    }
}

/// The upload handler: runs the three stages on `upload`, reporting to
/// `job`, waiting `pace` after each report (zero in production; the demo
/// and the tests slow the work down to watch it), and completes the job
/// with the summary.
pub async fn process(
    upload: FinishedUpload,
    mut job: JobHandle,
    pace: Duration,
) -> Result<(), String> {
    let size = upload.size();
    let mut sha = Sha256::new();
    run_stage(&upload, &mut job, &mut sha, pace, "Checksummed").await?;
    let sha256 = hex(&sha.finalize());

    job.next_stage("Compressing...")
        .map_err(|e| e.to_string())?;
    let mut gzip = GzEncoder::new(Counted::default(), Compression::default());
    run_stage(&upload, &mut job, &mut gzip, pace, "Compressed").await?;
    let gzip_size = gzip.finish().map_err(|e| e.to_string())?.0;

    job.next_stage("Counting lines...")
        .map_err(|e| e.to_string())?;
    let mut lines = LineCount::default();
    run_stage(&upload, &mut job, &mut lines, pace, "Counted lines in").await?;

    let summary = Summary {
        size,
        sha256,
        gzip_size,
        lines: lines.lines(),
    };
    job.complete(&summary.message())
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Feeds every byte of `upload` to `pass`, reporting the current stage's
/// progress [`STEPS`] times (`"{verb} n of m bytes"`).
async fn run_stage(
    upload: &FinishedUpload,
    job: &mut JobHandle,
    pass: &mut impl Pass,
    pace: Duration,
    verb: &str,
) -> Result<(), String> {
    let size = upload.size();
    let mut reader = upload.reader().await.map_err(|e| e.to_string())?;
    let mut buf = vec![0; CHUNK];
    let mut done: u64 = 0;
    let mut step: u64 = 0;
    loop {
        let n = reader.read(&mut buf).await.map_err(|e| e.to_string())?;
        done += n as u64;
        if n > 0 {
            pass.feed(&buf[..n]).map_err(|e| e.to_string())?;
        }
        // Report each time another tenth is done (every tenth at the end
        // for an empty or tiny file), so every stage shows the same steps.
        let reached = if n == 0 {
            STEPS
        } else {
            steps_done(done, size)
        };
        while step < reached {
            step += 1;
            let fraction = step as f64 / STEPS as f64;
            job.stage_progress(fraction, &format!("{verb} {done} of {size} bytes"))
                .map_err(|e| e.to_string())?;
            tokio::time::sleep(pace).await;
        }
        if n == 0 {
            return Ok(());
        }
        // Hashing and compressing are CPU work: let other tasks run
        // between chunks.
        tokio::task::yield_now().await;
    }
}

/// Whole tenths of `size` that `done` bytes make.
fn steps_done(done: u64, size: u64) -> u64 {
    if size == 0 {
        return 0;
    }
    (done.min(size) * STEPS / size).min(STEPS)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_an_open_last_line() {
        let mut count = LineCount::default();
        count.feed(b"a\nb\n").unwrap();
        assert_eq!(count.lines(), 2);
        count.feed(b"c").unwrap();
        assert_eq!(count.lines(), 3);
        assert_eq!(LineCount::default().lines(), 0);
    }

    #[test]
    fn steps_are_whole_tenths() {
        assert_eq!(steps_done(0, 100), 0);
        assert_eq!(steps_done(19, 100), 1);
        assert_eq!(steps_done(100, 100), 10);
        assert_eq!(steps_done(5, 0), 0);
    }

    #[test]
    fn the_message_carries_every_result() {
        let s = Summary {
            size: 10,
            sha256: "ab".into(),
            gzip_size: 30,
            lines: 2,
        };
        assert_eq!(s.message(), "sha256 ab, gzip 30 of 10 bytes, 2 lines");
    }
}
