//! `kube-standin serve`: run the API stand-in until interrupted.

use clap::{Parser, Subcommand};
use kube_standin::{StandIn, StandInError};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "kube-standin",
    version,
    about = "A stand-in Kubernetes API server for tests (plain HTTP on 127.0.0.1)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve until SIGINT or SIGTERM. Prints `listening on <url>` once ready.
    Serve {
        /// Port on 127.0.0.1; 0 picks a free one.
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Write a kubeconfig pointing at the server here.
        #[arg(long)]
        kubeconfig_out: Option<PathBuf>,
        /// Multi-document YAML of objects to create at start (repeatable).
        #[arg(long)]
        seed: Vec<PathBuf>,
        /// User named in 403 messages.
        #[arg(long)]
        user: Option<String>,
        /// Change events kept for watches and continue tokens.
        #[arg(long, default_value_t = 10_000)]
        history_limit: usize,
        /// Interval between watch bookmarks, in milliseconds.
        #[arg(long, default_value_t = 5_000)]
        bookmark_interval_ms: u64,
        /// Delay before a deployment's status follows spec.replicas, in milliseconds.
        #[arg(long, default_value_t = 200)]
        rollout_delay_ms: u64,
    },
}

async fn serve(command: Command) -> Result<(), StandInError> {
    let Command::Serve {
        port,
        kubeconfig_out,
        seed,
        user,
        history_limit,
        bookmark_interval_ms,
        rollout_delay_ms,
    } = command;
    let mut builder = StandIn::builder()
        .port(port)
        .history_limit(history_limit)
        .bookmark_interval(Duration::from_millis(bookmark_interval_ms))
        .rollout_delay(Duration::from_millis(rollout_delay_ms));
    if let Some(user) = user {
        builder = builder.user(&user);
    }
    let server = builder.start().await?;
    for path in &seed {
        server.seed_file(path)?;
    }
    if let Some(path) = &kubeconfig_out {
        server.write_kubeconfig(path)?;
    }
    println!("listening on {}", server.base_url());
    wait_for_signal().await;
    server.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kube-standin: cannot start the runtime: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = runtime.block_on(serve(cli.command)) {
        eprintln!("kube-standin: {e}");
        std::process::exit(2);
    }
}
