//! The ouroboros controller: keeps one DNS rewrite per public hostname in CoreDNS, a hosts file
//! or external-dns records, so in-cluster clients reach the PROXY-protocol proxy.
//!
//! Pure core (no I/O): `corefile` (owned block editor, reload detection, cleanup removal,
//! syntax checker), `externaldns` (record builders, naming, prune guard, status lag),
//! `host_index` (the desired host set, kept incrementally per source object), `hostnames`
//! (normalisation and refusal of non-DNS names), `hosts_file` (hosts-file block editor and the
//! on-disk writer), `import_snippet` (the coredns-import snippet and key-change rule),
//! `markers` (the BEGIN/END marker lines), `reconcile` (desired + observed ConfigMap → write or
//! no change), `sources` (Ingress / Gateway / HTTPRoute → hostnames, class filters).
//!
//! Configuration and the thin layers that talk to the API: `cleanup` (the uninstall cleanup),
//! `cli` (the `controller` and `cleanup` entry points), `config` (flags, environment twins,
//! validation), `logfmt` (log lines), `runtime` (informers, debounce, leader election, targets,
//! health and metrics).

pub mod corefile;
pub mod externaldns;
pub mod host_index;
pub mod hostnames;
pub mod hosts_file;
pub mod import_snippet;
pub mod markers;
pub mod reconcile;
pub mod sources;

pub mod cleanup;
pub mod cli;
pub mod config;
pub mod logfmt;
pub mod runtime;
