//! `trustcore audit verify`: check a signer's audit log entry by entry.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use trustcore_core::signer::verify_audit_log;
use trustcore_core::*;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the chain and every signature; print OK with the count, or the first broken entry.
    ///
    /// Without --expect-head it proves that the entries present are whole, in order and signed: it
    /// cannot tell that entries were cut off the end (or that an empty file once held some). Pass a
    /// head recorded elsewhere (from `health`, or an earlier verify) to prove nothing was cut.
    Verify(Verify),
}

#[derive(Args)]
pub struct Verify {
    /// The audit log (`signer serve --audit-log`).
    file: PathBuf,
    /// The issuer public key (hex) that signed it.
    #[arg(long, value_name = "HEX")]
    issuer_public: String,
    /// A head hash recorded earlier (from `health` or a previous verify): it must still be in the log.
    #[arg(long, value_name = "HASH")]
    expect_head: Option<String>,
}

/// Ok(true) when the log is whole, Ok(false) (after printing where) when it is not.
pub fn run(command: &AuditCommand) -> Result<bool> {
    let AuditCommand::Verify(args) = command;
    let issuer = PublicKey::from_hex(&args.issuer_public)?;
    let file = File::open(&args.file)
        .map_err(|e| Error::malformed(format!("cannot read audit log {}: {e}", args.file.display())))?;
    match verify_audit_log(BufReader::new(file), &issuer, args.expect_head.as_deref()) {
        Ok(summary) => {
            println!("OK: {} entries, head {}", summary.entries, summary.head);
            if summary.torn_tail > 0 {
                println!(
                    "note: after the last whole entry, {} bytes end mid-entry: a write cut short by a crash, \
                     whose answer was never sent; a restarted signer cuts them off",
                    summary.torn_tail
                );
            }
            if args.expect_head.is_none() {
                println!(
                    "note: without --expect-head this cannot show that no entries were cut off the end \
                     (record the head elsewhere and pass it next time)"
                );
            }
            Ok(true)
        }
        Err(broken) => {
            println!("BROKEN: {broken}");
            Ok(false)
        }
    }
}
