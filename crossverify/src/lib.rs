//! # crossverify: rebuild, manifest, compare, explain, replay
//!
//! This crate will own hexroot's main job: rebuilding the bundled seeds by every
//! independent path, writing and comparing manifests across machines, explaining where
//! two artifacts differ, and replaying a bootstrap chain's kaem scripts with hexroot's
//! tools. It is not written yet (issues 7 and 8).
#![forbid(unsafe_code)]

pub mod kaem;
pub mod replay;
