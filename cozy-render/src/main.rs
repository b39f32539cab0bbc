use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(cozy_render::cli::run(std::env::args_os()) as u8)
}
