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
    if !force {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .mode(0o600)
            .open(path)
            .map_err(|e| io_error(path, "cannot create key file", e))?;
        return write_and_sync(&mut file, path, secret_hex);
    }
    // --force: a new file beside the old one, renamed over it. Rewriting the old file in place would
    // keep its inode, owner and mode, and any descriptor already open on it would read the new seed.
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| Error::malformed(format!("{} is not a file name", path.display())))?;
    let mut random = [0u8; 8];
    getrandom::getrandom(&mut random).map_err(|_| Error::new(ErrorCode::Internal, "no randomness"))?;
    let temporary = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), hex::encode(random)));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true) // exclusive, and never through a link someone planted
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(&temporary)
        .map_err(|e| io_error(&temporary, "cannot create key file", e))
        .and_then(|mut file| write_and_sync(&mut file, &temporary, secret_hex))
        .and_then(|_| fs::rename(&temporary, path).map_err(|e| io_error(path, "cannot replace key file", e)));
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

fn write_and_sync(file: &mut fs::File, path: &Path, secret_hex: &str) -> Result<()> {
    // `mode` applies under the umask: make sure of 0600
    file.set_permissions(fs::Permissions::from_mode(0o600)).map_err(|e| io_error(path, "cannot set mode of", e))?;
    let line = zeroize::Zeroizing::new(format!("{secret_hex}\n"));
    file.write_all(line.as_bytes()).map_err(|e| io_error(path, "cannot write key file", e))?;
    file.sync_all().map_err(|e| io_error(path, "cannot write key file", e))
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
