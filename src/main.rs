//! `ouroboros`: one binary, one image. The first argument picks the role.

use std::process::ExitCode;

const USAGE: &str = "usage: ouroboros <controller|proxy|cleanup|version> [flags]";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(cmd) = args.next() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest: Vec<String> = args.collect();
    let code = match cmd.as_str() {
        "proxy" => ouroboros_proxy::cli::main(rest),
        "controller" => ouroboros_controller::cli::controller_main(rest),
        "cleanup" => ouroboros_controller::cli::cleanup_main(rest),
        "version" | "--version" => {
            println!(
                "ouroboros {} ({})",
                env!("CARGO_PKG_VERSION"),
                option_env!("OUROBOROS_REVISION").unwrap_or("unknown")
            );
            0
        }
        other => {
            eprintln!("unknown subcommand {other:?}\n{USAGE}");
            2
        }
    };
    ExitCode::from(code as u8)
}
