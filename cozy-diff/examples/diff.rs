//! `diff` as a standalone program (the same arguments as `cozy-render diff`), for trying the
//! command before it is wired into a binary.

use clap::Parser;

#[derive(Parser)]
#[command(name = "diff")]
struct Cmd {
    #[command(flatten)]
    args: cozy_diff::DiffArgs,
}

fn main() {
    let cmd = Cmd::parse();
    let code = cozy_diff::main_with(
        cmd.args,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    std::process::exit(code);
}
