//! Openslot's server and command line.
//!
//! - [`cli`]: the `openslot` command line (clap), one module per command under
//!   [`commands`].

pub mod cli;
pub mod commands;
