//! Service tests: the contract suite, run on SQLite always and on PostgreSQL when
//! `KEBAO_TEST_POSTGRES_URL` is set (CI sets it and `KEBAO_TEST_REQUIRE_POSTGRES=1`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod harness;

mod attachments;
mod audit;
mod auth;
mod authz;
mod authz_c4_c6;
mod consent;
mod credentials;
mod group;
mod ids;
mod import;
mod jobs;
mod lab;
mod ledger;
mod loans;
mod policies;
mod privacy;
mod products;
mod rating;
mod registry;
mod schema;
mod subsidies;
