//! One module per `openslot` command.

pub mod check;
pub mod gen_clinic;
pub mod slots;

use std::io::Read;
use std::path::Path;

use crate::cli::Failure;

/// Reads a scenario file, or standard input for `-`.
pub(crate) fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::BadInput(format!("cannot read standard input: {e}")))?;
        Ok(bytes)
    } else {
        std::fs::read(path)
            .map_err(|e| Failure::BadInput(format!("cannot read {}: {e}", path.display())))
    }
}
