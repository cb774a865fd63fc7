//! Whole-binary tests: the CLI with good and bad input, and the tidy checks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod cli;
mod crash;
mod index_options;
mod tidy;
