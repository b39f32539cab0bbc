//! Two properties at once: arbitrary bytes never make the decoder panic, and any header
//! the encoder produces from arbitrary addresses decodes back to itself.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use libfuzzer_sys::fuzz_target;
use ouroboros_proxy::header::{ClientAddr, LocalAddr, ProxyHeader, ProxyVersion};

fn address(bytes: &[u8]) -> Option<SocketAddr> {
    let (&kind, rest) = bytes.split_first()?;
    let port = u16::from_be_bytes([*rest.first()?, *rest.get(1)?]);
    let rest = &rest[2..];
    let ip = match kind % 3 {
        0 => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(rest.get(..4)?).ok()?)),
        1 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(rest.get(..16)?).ok()?)),
        _ => IpAddr::V6(Ipv4Addr::from(<[u8; 4]>::try_from(rest.get(..4)?).ok()?).to_ipv6_mapped()),
    };
    Some(SocketAddr::new(ip, port))
}

fuzz_target!(|data: &[u8]| {
    let _ = ProxyHeader::decode(data);
    let (client_part, local_part) = data.split_at(data.len() / 2);
    let header = ProxyHeader::for_connection(
        address(client_part).map(ClientAddr),
        address(local_part).map(LocalAddr),
    );
    for version in [ProxyVersion::V1, ProxyVersion::V2] {
        let mut bytes = header.encode(version);
        let length = bytes.len();
        bytes.extend_from_slice(data);
        assert_eq!(ProxyHeader::decode(&bytes), Ok((header, length)));
    }
});
