//! `ouroboros proxy`: parse, log, run, map the outcome to an exit code.
//!
//! Exit codes: 0 after a signal-driven shutdown; 1 for a configuration, bind or runtime
//! error (logged as `fatal` first) and for `--help`, which is reported as a parse error
//! like the Go `flag` package does.

use std::path::Path;

use ouroboros_common::cluster_domain::RESOLV_CONF_PATH;
use ouroboros_common::flags::FlagError;

use crate::config::{ConfigError, ProxyConfig, ProxyFlags};
use crate::cpu_policy;
use crate::descriptor_limit;
use crate::server::Server;

/// Entry point of `ouroboros proxy`; `args` exclude the subcommand word. Returns the
/// process exit code.
pub fn main(args: Vec<String>) -> i32 {
    let flags = ProxyFlags::default();
    let config = match flags.parse(
        &args,
        |name| std::env::var(name).ok(),
        Path::new(RESOLV_CONF_PATH),
    ) {
        Ok(config) => config,
        Err(ConfigError::Flags(FlagError::HelpRequested)) => {
            eprint!("{}", flags.set.usage());
            return 1;
        }
        Err(error) => {
            init_logging(tracing::Level::INFO);
            tracing::error!(error = %error, "fatal");
            return 1;
        }
    };
    init_logging(config.log_level);
    match run(config) {
        Ok(()) => 0,
        Err(error) => {
            tracing::error!(error = %error, "fatal");
            1
        }
    }
}

fn init_logging(level: tracing::Level) {
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(false)
        .try_init();
}

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("start runtime: {0}")]
    Runtime(std::io::Error),
    #[error("install signal handler: {0}")]
    Signal(std::io::Error),
    #[error(transparent)]
    Server(#[from] crate::server::ServerError),
}

fn run(config: ProxyConfig) -> Result<(), RunError> {
    // First of all, so that its WARN comes before the listeners' lines.
    let open_files = match descriptor_limit::raise() {
        Ok(limits) => {
            let needed = descriptor_limit::needed(config.max_connections);
            if limits.soft < needed {
                tracing::warn!(
                    limit = limits.soft,
                    needed,
                    max_connections = config.max_connections,
                    "descriptor limit is below what --max-connections needs (two per connection); past it, accepts back off until descriptors are free"
                );
            }
            descriptor_limit::describe(limits.soft)
        }
        Err(error) => {
            tracing::warn!(%error, "cannot read the descriptor limit");
            "unknown".to_string()
        }
    };
    // Set before any other thread exists, so every event loop inherits it.
    if let Err(error) = cpu_policy::apply(config.cpu_policy) {
        tracing::warn!(policy = %config.cpu_policy, %error, "cannot set the CPU policy; keeping the system default");
    }
    // One event loop on this thread; the server starts the other `--worker-threads - 1`
    // itself, each a single-threaded loop of its own (no work stealing, no cross-thread
    // wake-ups inside a connection).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    runtime.block_on(async move {
        let shutdown = shutdown_signal().map_err(RunError::Signal)?;
        let backend = config.backend_host.clone();
        let cluster_domain = config.cluster_domain.clone();
        let (version, max_connections) = (config.proxy_version, config.max_connections);
        let cpu_policy = config.cpu_policy;
        let server = Server::bind(config)?;
        let bound = server.local_addrs();
        let show = |a: Option<std::net::SocketAddr>| a.map(|a| a.to_string()).unwrap_or_default();
        tracing::info!(
            http = %show(bound.http),
            https = %show(bound.https),
            health = %show(bound.health),
            backend = %backend,
            cluster_domain = %cluster_domain,
            proxy_protocol_version = %version,
            max_connections,
            max_open_files = %open_files,
            %cpu_policy,
            "proxy starting"
        );
        server.run(shutdown).await?;
        tracing::info!("proxy stopped");
        Ok(())
    })
}

/// Resolves on the first SIGTERM or SIGINT. The handlers stay installed afterwards, so a
/// second signal neither kills the process nor cuts the drain short.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        let name = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutting down: draining connections");
        // Keep the streams alive (and so the handlers registered) for the process life.
        std::mem::forget(terminate);
        std::mem::forget(interrupt);
    })
}
