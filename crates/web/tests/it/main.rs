//! HTTP tests in process through the router, and one browser test in headless Chromium.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod advisor;
mod api;
mod browser;
mod client;
mod credit;
mod index;
mod lab;
mod money_bounds;
mod openapi;
mod products;
mod security;
mod ui;
#[allow(dead_code)] // shared with the role walks in crates/kebao, which use the rest
mod webdriver;
