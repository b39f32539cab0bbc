//! Property tests of the PROXY header over random address pairs.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ouroboros_proxy::header::{ClientAddr, LocalAddr, ProxyHeader, ProxyVersion, V1_MAX_LEN};
use proptest::prelude::*;

fn any_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|n| IpAddr::V4(Ipv4Addr::from(n))),
        any::<u128>().prop_map(|n| IpAddr::V6(Ipv6Addr::from(n))),
        // IPv4-mapped IPv6, as a dual-stack listener reports IPv4 clients.
        any::<u32>().prop_map(|n| IpAddr::V6(Ipv4Addr::from(n).to_ipv6_mapped())),
    ]
}

fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

proptest! {
    #[test]
    fn encode_then_decode_is_identity(src in any_ip(), dst in any_ip(), sport: u16, dport: u16, trailing in proptest::collection::vec(any::<u8>(), 0..64)) {
        let header = ProxyHeader::for_connection(
            Some(ClientAddr(SocketAddr::new(src, sport))),
            Some(LocalAddr(SocketAddr::new(dst, dport))),
        );
        for version in [ProxyVersion::V1, ProxyVersion::V2] {
            let mut bytes = header.encode(version);
            let length = bytes.len();
            if version == ProxyVersion::V1 {
                prop_assert!(length <= V1_MAX_LEN);
                prop_assert!(bytes.is_ascii() && bytes.ends_with(b"\r\n"));
            }
            bytes.extend_from_slice(&trailing);
            prop_assert_eq!(ProxyHeader::decode(&bytes), Ok((header, length)));
        }
    }

    #[test]
    fn family_follows_the_unmapped_addresses(src in any_ip(), dst in any_ip(), sport: u16, dport: u16) {
        let header = ProxyHeader::for_connection(
            Some(ClientAddr(SocketAddr::new(src, sport))),
            Some(LocalAddr(SocketAddr::new(dst, dport))),
        );
        match (unmapped(src), unmapped(dst), header) {
            (IpAddr::V4(s), IpAddr::V4(d), ProxyHeader::Tcp4 { source, destination }) => {
                prop_assert_eq!((*source.ip(), source.port()), (s, sport));
                prop_assert_eq!((*destination.ip(), destination.port()), (d, dport));
            }
            (IpAddr::V6(s), IpAddr::V6(d), ProxyHeader::Tcp6 { source, destination }) => {
                prop_assert_eq!((*source.ip(), source.port()), (s, sport));
                prop_assert_eq!((*destination.ip(), destination.port()), (d, dport));
            }
            (IpAddr::V4(_), IpAddr::V6(_), ProxyHeader::Unknown) | (IpAddr::V6(_), IpAddr::V4(_), ProxyHeader::Unknown) => {}
            (s, d, h) => prop_assert!(false, "{s} -> {d} gave {h:?}"),
        }
    }

    #[test]
    fn decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = ProxyHeader::decode(&bytes);
    }
}
