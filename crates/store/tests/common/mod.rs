//! Test helpers: the shared per-test database (`store::testing`) and alert fixtures.
#![allow(dead_code)] // each test binary uses a different subset

pub mod fixtures;

#[allow(unused_imports)] // each test binary uses a different subset
pub use store::testing::{TestDb, admin_url, shared_data};
