//! Simulated video-task providers over HTTP: one module per provider, plus
//! the media files their results point at.

#[path = "../common/mod.rs"]
mod common;

mod files;
