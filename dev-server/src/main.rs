//! Dev server.
fn main() {}
