//! Integration tests of the `openslot` binary and (later) the server.

mod cli;
