//! The ouroboros controller: keeps one DNS rewrite per public hostname in CoreDNS, a hosts file
//! or external-dns records, so in-cluster clients reach the PROXY-protocol proxy.
//!
//! Pure core (no I/O):
pub mod corefile; // owned block editor, reload detection, cleanup removal, syntax checker
pub mod externaldns; // record builders, naming, prune guard, status lag
pub mod hostnames; // the host set: normalisation and refusal of non-DNS names
pub mod hosts_file; // hosts-file block editor and the on-disk writer
pub mod import_snippet; // the coredns-import snippet and key-change rule
pub mod markers; // the BEGIN/END marker lines
pub mod reconcile;
pub mod sources; // Ingress / Gateway / HTTPRoute → hostnames, class filters // (desired, observed ConfigMap) → write or no change
                 //
                 // Configuration and the thin layers that talk to the API:
pub mod cleanup; // the uninstall cleanup
pub mod cli;
pub mod config; // flags, environment twins, validation
pub mod logfmt; // logfmt log lines
pub mod runtime; // informers, debounce, leader election, targets, health and metrics // the `controller` and `cleanup` entry points
