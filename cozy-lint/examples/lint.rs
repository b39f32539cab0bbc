//! `lint` as a standalone program (the same arguments as `cozy-render lint`), for benchmarks and
//! for trying the command before it is wired into a binary.

use clap::Parser;

#[derive(Parser)]
#[command(name = "lint")]
struct Cmd {
    #[command(flatten)]
    args: cozy_lint::LintArgs,
}

fn main() {
    let cmd = Cmd::parse();
    let code = cozy_lint::main_with(
        cmd.args,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    std::process::exit(code);
}
