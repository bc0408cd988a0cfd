//! `trustcore`: keys, tokens and proofs from the command line, and a narrated demo of the whole flow.

mod audit;
mod commands;
mod demo;
mod keyfile;
mod signer;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "trustcore", version, about = "Capability tokens with per-request proof of possession")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a new Ed25519 seed (hex) to a file with mode 0600 and print its public key.
    Keygen(commands::Keygen),
    /// Mint a token for a holder, signed by the issuer key in a key file.
    Mint(commands::Mint),
    /// Show a token's blocks, revocation ids and root key id (verified with --issuer-public).
    Inspect(commands::Inspect),
    /// Sign a request as the holder and print the four proof headers.
    Proof(commands::Proof),
    /// Authenticate and authorize one request; exit 0 when allowed, 1 with the error's name when not.
    Verify(commands::Verify),
    /// Run the whole flow in one process and narrate it: the accepted request and five refusals.
    Demo,
    /// The signer daemon: the issuer key in its own process.
    #[command(subcommand)]
    Signer(signer::SignerCommand),
    /// The signer's audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

fn main() -> ExitCode {
    // a bug must still end in one line, not a trace
    std::panic::set_hook(Box::new(|_| eprintln!("trustcore: INTERNAL: unexpected failure (a bug; please report it)")));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            print!("{e}"); // --help, --version
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("trustcore: {}", one_line(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    let outcome = match cli.command {
        Command::Keygen(args) => commands::keygen(&args),
        Command::Mint(args) => commands::mint(&args),
        Command::Inspect(args) => commands::inspect(&args),
        Command::Proof(args) => commands::proof(&args),
        Command::Verify(args) => commands::verify(&args),
        Command::Demo => demo::run(),
        Command::Signer(command) => signer::run(&command),
        Command::Audit(command) => match audit::run(&command) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trustcore: {e}");
            ExitCode::from(1)
        }
    }
}

/// clap's usage errors span several lines; keep what says what is wrong.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .collect::<Vec<_>>()
        .join(" ")
        .trim_start_matches("error: ")
        .to_owned()
}
