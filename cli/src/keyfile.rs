//! Key files: one hex seed, mode 0600. A key file others can read is refused, not just warned about.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use trustcore_core::{Error, ErrorCode, Result};

fn io_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::new(ErrorCode::MalformedInput, format!("{what} {}: {e}", path.display()))
}

/// Create `path` with mode 0600 and write `secret_hex` to it; an existing file is kept unless `force`.
pub fn write_secret(path: &Path, secret_hex: &str, force: bool) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).mode(0o600);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| io_error(path, "cannot create key file", e))?;
    // `mode` applies only on creation; a forced overwrite must not keep looser permissions
    file.set_permissions(fs::Permissions::from_mode(0o600)).map_err(|e| io_error(path, "cannot set mode of", e))?;
    file.write_all(format!("{secret_hex}\n").as_bytes()).map_err(|e| io_error(path, "cannot write key file", e))
}

/// Read a seed (hex) from a key file that neither group nor others can read.
pub fn read_secret(path: &Path) -> Result<zeroize::Zeroizing<String>> {
    let meta = fs::metadata(path).map_err(|e| io_error(path, "cannot read key file", e))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(Error::malformed(format!(
            "key file {} is readable by group or others (chmod 600 it)",
            path.display()
        )));
    }
    let text =
        zeroize::Zeroizing::new(fs::read_to_string(path).map_err(|e| io_error(path, "cannot read key file", e))?);
    Ok(zeroize::Zeroizing::new(text.trim().to_owned()))
}
