//! Fan-out benchmark: placeholder replaced below.
fn main() {}
