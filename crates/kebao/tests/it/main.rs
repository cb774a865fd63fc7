//! Whole-binary tests: the CLI with good and bad input, and the tidy checks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod backup;
mod cli;
mod crash;
mod index_options;
mod tidy;
mod walks;
#[allow(dead_code)] // the role walks use part of the shared driver
#[path = "../../../web/tests/it/webdriver.rs"]
mod webdriver;
