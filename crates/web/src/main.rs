//! The `openslot` binary: see `openslot --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    openslot_web::cli::main()
}
