//! Everything the controller knows about Corefiles: the owned-block editor (spec §8.2–8.4), the
//! `reload` plugin detection (§8.6), the uninstall removal (§12.1) and a syntax checker.

mod block;
mod reload;
mod removal;
mod syntax;

pub use block::{
    apply_block, apply_block_tracked, BlockLayout, CorefileEdit, CorefileEditError, EditedCorefile,
};
pub use reload::has_reload_plugin;
pub use removal::{remove_block_for_cleanup, BlockRemoval, RemovalRefusal};
pub use syntax::{check_snippet_syntax, check_syntax, CorefileSyntaxError};

/// The rewrite line for one host, without indentation (shared by the block and the snippet).
pub fn rewrite_line(host: &str, target: &str) -> String {
    format!("rewrite name {host} {target}")
}

/// Validates a rewrite target: non-empty, absolute (trailing dot) and a DNS name, so that it
/// cannot carry Corefile syntax either.
pub fn validate_target(target: &str) -> Result<(), TargetError> {
    if target.is_empty() {
        return Err(TargetError::Empty);
    }
    if !target.ends_with('.') {
        return Err(TargetError::NotFqdn(target.to_string()));
    }
    crate::hostnames::validate_dns_name(&target.to_ascii_lowercase()).map_err(|reason| {
        TargetError::Invalid {
            target: target.to_string(),
            reason: reason.to_string(),
        }
    })
}

/// A rewrite target that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// No target at all.
    #[error("empty target")]
    Empty,
    /// Missing the trailing dot.
    #[error("target must be FQDN with trailing dot, got {0:?}")]
    NotFqdn(String),
    /// Not a DNS name.
    #[error("target {target:?} is not a DNS name: {reason}")]
    Invalid {
        /// The target as given.
        target: String,
        /// Why it is not a DNS name.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_validated() {
        assert_eq!(validate_target(""), Err(TargetError::Empty));
        assert!(matches!(
            validate_target("proxy.ns.svc.cluster.local"),
            Err(TargetError::NotFqdn(_))
        ));
        assert!(matches!(
            validate_target("a b.local."),
            Err(TargetError::Invalid { .. })
        ));
        assert!(matches!(
            validate_target("a.local.{."),
            Err(TargetError::Invalid { .. })
        ));
        assert_eq!(
            validate_target("ouroboros-proxy.ouroboros.svc.cluster.local."),
            Ok(())
        );
        assert_eq!(validate_target("Proxy.NS.svc.cluster.local."), Ok(()));
    }
}
