//! Stand-alone entry point of the relay, equivalent to `ouroboros proxy <args>`.

fn main() -> std::process::ExitCode {
    let code = ouroboros_proxy::cli::main(std::env::args().skip(1).collect());
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}
