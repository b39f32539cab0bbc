//! Entry points called by the multi-call binary: parse, run one async function, map the
//! outcome to an exit code.

use std::path::Path;

use ouroboros_common::cluster_domain::RESOLV_CONF_PATH;
use ouroboros_common::flags::FlagError;
use tokio::sync::watch;

use crate::cleanup::{self, CleanupConfig, Outcome};
use crate::config::{parse_controller_config, ConfigError, ControllerFlags, LogLevel};
use crate::logfmt;
use crate::runtime::{self, Environment};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn revision() -> &'static str {
    option_env!("OUROBOROS_REVISION").unwrap_or("unknown")
}

fn tokio_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

/// Flips `tx` to true on SIGINT or SIGTERM.
async fn forward_signals(tx: watch::Sender<bool>) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
    tracing::info!("shutdown signal received");
    tx.send_replace(true);
}

/// Entry point of `ouroboros controller`; returns the process exit code.
pub fn controller_main(args: Vec<String>) -> i32 {
    let env = |k: &str| std::env::var(k).ok();
    let cfg = match parse_controller_config(&args, &env, Path::new(RESOLV_CONF_PATH)) {
        Ok(cfg) => cfg,
        Err(ConfigError::Flags(FlagError::HelpRequested)) => {
            eprint!("{}", ControllerFlags::declare().set.usage());
            return 0;
        }
        Err(e) => {
            logfmt::install(LogLevel::Info);
            tracing::error!(error = %e, "fatal");
            return 1;
        }
    };
    logfmt::install(cfg.log_level);
    tracing::info!(
        version = VERSION,
        revision = revision(),
        "controller subcommand"
    );
    let rt = match tokio_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "fatal");
            return 1;
        }
    };
    let result = rt.block_on(async move {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(forward_signals(tx));
        runtime::run(cfg, Environment::from_process(), rx).await
    });
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!(error = %e, "fatal");
            1
        }
    }
}

/// Entry point of `ouroboros cleanup`; returns the process exit code (0 done or nothing to do,
/// 1 refused or failed, 2 usage).
pub fn cleanup_main(args: Vec<String>) -> i32 {
    let env = |k: &str| std::env::var(k).ok();
    let cfg: CleanupConfig = match cleanup::parse_cleanup_config(&args, &env) {
        Ok(cfg) => cfg,
        Err(cleanup::CleanupUsageError::Flags(FlagError::HelpRequested)) => {
            eprint!("{}", cleanup::usage());
            return 0;
        }
        Err(e) => {
            eprintln!("cleanup: {e}\n{}", cleanup::usage());
            return 2;
        }
    };
    logfmt::install(cfg.log_level);
    let rt = match tokio_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "fatal");
            return 1;
        }
    };
    let result = rt.block_on(async {
        let client = runtime::run::client(&cfg.kubeconfig)
            .await
            .map_err(|e| cleanup::CleanupError::Failed(e.to_string()))?;
        cleanup::run(&cfg, &client).await
    });
    match result {
        Ok(Outcome::Cleaned(what)) => {
            tracing::info!(result = %what, "cleanup done");
            0
        }
        Ok(Outcome::NothingToDo(why)) => {
            tracing::info!(result = %why, "nothing to clean");
            0
        }
        Err(e) => {
            tracing::error!(error = %e, "cleanup failed");
            e.exit_code()
        }
    }
}
