//! Host name lookup through the system resolver (`getaddrinfo`), keeping the failure
//! kind that the standard library flattens into a message: `/readyz` must tell "no such
//! name" from "resolver unavailable".

use std::ffi::{CStr, CString};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// What kind of resolver failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupFailure {
    /// The name does not exist (NXDOMAIN) or has no addresses.
    NotFound,
    /// The resolver gave up waiting.
    Timeout,
    /// A temporary failure (SERVFAIL, resolver unreachable); retrying may help.
    Temporary,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("lookup {host}: {detail}")]
pub struct LookupError {
    pub host: String,
    pub failure: LookupFailure,
    pub detail: String,
}

/// Resolves `host` to socket addresses with `port`, off the async threads.
pub async fn lookup(host: &str, port: u16) -> Result<Vec<SocketAddr>, LookupError> {
    // RFC 6761 §6.4: name resolution APIs may answer names under `.invalid` negatively
    // without asking any server.
    let lower = host.trim_end_matches('.').to_ascii_lowercase();
    if lower == "invalid" || lower.ends_with(".invalid") {
        return Err(LookupError {
            host: host.to_string(),
            failure: LookupFailure::NotFound,
            detail: "no such host".into(),
        });
    }
    let owned = host.to_string();
    match tokio::task::spawn_blocking(move || lookup_blocking(&owned, port)).await {
        Ok(result) => result,
        Err(join_error) => Err(LookupError {
            host: host.to_string(),
            failure: LookupFailure::Other,
            detail: format!("resolver task failed: {join_error}"),
        }),
    }
}

fn lookup_blocking(host: &str, port: u16) -> Result<Vec<SocketAddr>, LookupError> {
    let fail = |failure, detail: String| LookupError {
        host: host.to_string(),
        failure,
        detail,
    };
    let c_host = CString::new(host).map_err(|_| {
        fail(
            LookupFailure::NotFound,
            "host name contains a NUL byte".into(),
        )
    })?;
    // SAFETY: addrinfo is a plain C struct for which all-zero is a valid "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = libc::AF_UNSPEC;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: c_host is NUL-terminated, hints and list are valid for the call.
    let code = unsafe { libc::getaddrinfo(c_host.as_ptr(), std::ptr::null(), &hints, &mut list) };
    if code != 0 {
        let detail = if code == libc::EAI_SYSTEM {
            std::io::Error::last_os_error().to_string()
        } else {
            // SAFETY: gai_strerror returns a static NUL-terminated string.
            unsafe { CStr::from_ptr(libc::gai_strerror(code)) }
                .to_string_lossy()
                .into_owned()
        };
        return Err(fail(failure_kind(code), detail));
    }
    let mut addresses = Vec::new();
    let mut cursor = list;
    while !cursor.is_null() {
        // SAFETY: cursor walks the list getaddrinfo returned; freed only after the loop.
        let entry = unsafe { &*cursor };
        if let Some(address) = socket_addr(entry, port) {
            if !addresses.contains(&address) {
                addresses.push(address);
            }
        }
        cursor = entry.ai_next;
    }
    // SAFETY: list came from a successful getaddrinfo and is freed exactly once.
    unsafe { libc::freeaddrinfo(list) };
    if addresses.is_empty() {
        return Err(fail(LookupFailure::NotFound, "no addresses".into()));
    }
    Ok(addresses)
}

fn socket_addr(entry: &libc::addrinfo, port: u16) -> Option<SocketAddr> {
    if entry.ai_addr.is_null() {
        return None;
    }
    let length = entry.ai_addrlen as usize;
    match entry.ai_family {
        libc::AF_INET if length >= std::mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: family and length say this is a sockaddr_in.
            let raw = unsafe { &*(entry.ai_addr as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(u32::from_be(raw.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(ip, port)))
        }
        libc::AF_INET6 if length >= std::mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: family and length say this is a sockaddr_in6.
            let raw = unsafe { &*(entry.ai_addr as *const libc::sockaddr_in6) };
            let ip = Ipv6Addr::from(raw.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                port,
                0,
                raw.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

fn failure_kind(code: i32) -> LookupFailure {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if code == libc::EAI_NODATA {
        return LookupFailure::NotFound;
    }
    match code {
        libc::EAI_NONAME => LookupFailure::NotFound,
        libc::EAI_AGAIN => LookupFailure::Temporary,
        _ => LookupFailure::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn localhost_resolves() {
        let addresses = lookup("localhost", 8080).await.unwrap();
        assert!(
            addresses
                .iter()
                .all(|a| a.port() == 8080 && a.ip().is_loopback()),
            "{addresses:?}"
        );
    }

    #[tokio::test]
    async fn invalid_names_are_not_found_without_a_query() {
        for name in ["x.invalid", "X.INVALID.", "invalid"] {
            let err = lookup(name, 80).await.unwrap_err();
            assert_eq!(err.failure, LookupFailure::NotFound);
            assert!(err.to_string().starts_with(&format!("lookup {name}: ")));
        }
    }

    #[tokio::test]
    async fn nul_byte_is_rejected() {
        assert_eq!(
            lookup("a\0b", 80).await.unwrap_err().failure,
            LookupFailure::NotFound
        );
    }

    #[test]
    fn failure_kinds() {
        assert_eq!(failure_kind(libc::EAI_NONAME), LookupFailure::NotFound);
        assert_eq!(failure_kind(libc::EAI_AGAIN), LookupFailure::Temporary);
        assert_eq!(failure_kind(libc::EAI_FAIL), LookupFailure::Other);
    }
}
