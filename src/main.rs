//! Demo page: mounts the component.
fn main() {}
