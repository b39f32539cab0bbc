//! Stand-alone controller binary: `ouroboros-controller <controller|cleanup> [flags]`.
//! The product ships the multi-call `ouroboros` binary; this one exists so the crate's own
//! integration tests can run the real entry points.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let code = match args.next().as_deref() {
        Some("controller") => ouroboros_controller::cli::controller_main(args.collect()),
        Some("cleanup") => ouroboros_controller::cli::cleanup_main(args.collect()),
        Some(other) => {
            eprintln!("unknown subcommand: {other}\nusage: ouroboros-controller <controller|cleanup> [flags]");
            2
        }
        None => {
            eprintln!("usage: ouroboros-controller <controller|cleanup> [flags]");
            2
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
