//! The `etc-hosts` mode (spec §10): the owned block in a hosts file, and how the file is
//! replaced on disk.

mod edit;
mod write;

pub use edit::{apply_hosts_block, HostsEdit, HostsEditError};
pub use write::{check_hosts_path, write_hosts_file, HostsWriteError, WriteMethod};
