//! `fanout-floor [--addr 127.0.0.1:0]`: the fan-out floor (see
//! `upload_progress_bench::floor`), started by `bench/loadgen` as
//! `--target floor`.

use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    let mut addr = "127.0.0.1:0".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().context("--addr needs a value")?,
            other => bail!("unknown argument {other:?}; usage: fanout-floor [--addr HOST:PORT]"),
        }
    }
    let addr = addr
        .parse()
        .with_context(|| format!("--addr {addr:?} is not HOST:PORT"))?;
    upload_progress_bench::floor::serve(addr)
}
