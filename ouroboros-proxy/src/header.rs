//! The PROXY-protocol header: what it says about a connection, its v1 text and v2 binary
//! encodings, and a decoder (used by tests and the fuzz target to check the encoders).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// The client's address as seen by the relay (the remote end of an accepted socket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// The relay's own address of an accepted socket (pod IP and listen port).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAddr(pub SocketAddr);

/// Which header encoding the backend expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyVersion {
    V1,
    V2,
}

/// What the header tells the backend about one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyHeader {
    Tcp4 {
        source: SocketAddrV4,
        destination: SocketAddrV4,
    },
    Tcp6 {
        source: SocketAddrV6,
        destination: SocketAddrV6,
    },
    /// Addresses missing or of mixed families: the backend must use the connection's own.
    Unknown,
}

/// The v2 signature, 12 bytes that cannot start a v1 line or an HTTP request.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

/// The longest v1 line the protocol allows, CRLF included.
pub const V1_MAX_LEN: usize = 107;

const V2_VERSION_PROXY: u8 = 0x21;
const V2_VERSION_LOCAL: u8 = 0x20;
const V2_FAMILY_UNSPEC: u8 = 0x00;
const V2_FAMILY_TCP4: u8 = 0x11;
const V2_FAMILY_TCP6: u8 = 0x21;

impl ProxyHeader {
    /// Builds the header for a connection from `client` to the relay's `local` address.
    /// IPv4-mapped IPv6 addresses are unwrapped first so that a v4 client on a
    /// dual-stack listener is reported as TCP4; scope ids are dropped.
    pub fn for_connection(client: Option<ClientAddr>, local: Option<LocalAddr>) -> Self {
        let (Some(ClientAddr(client)), Some(LocalAddr(local))) = (client, local) else {
            return ProxyHeader::Unknown;
        };
        match (unmap(client.ip()), unmap(local.ip())) {
            (IpAddr::V4(s), IpAddr::V4(d)) => ProxyHeader::Tcp4 {
                source: SocketAddrV4::new(s, client.port()),
                destination: SocketAddrV4::new(d, local.port()),
            },
            (IpAddr::V6(s), IpAddr::V6(d)) => ProxyHeader::Tcp6 {
                source: SocketAddrV6::new(s, client.port(), 0, 0),
                destination: SocketAddrV6::new(d, local.port(), 0, 0),
            },
            _ => ProxyHeader::Unknown,
        }
    }

    pub fn encode(&self, version: ProxyVersion) -> Vec<u8> {
        match version {
            ProxyVersion::V1 => self.encode_v1(),
            ProxyVersion::V2 => self.encode_v2(),
        }
    }

    /// `PROXY TCP4 <src> <dst> <sport> <dport>\r\n`, `PROXY TCP6 ...` or `PROXY UNKNOWN\r\n`.
    pub fn encode_v1(&self) -> Vec<u8> {
        let line = match self {
            ProxyHeader::Tcp4 {
                source,
                destination,
            } => format!(
                "PROXY TCP4 {} {} {} {}\r\n",
                source.ip(),
                destination.ip(),
                source.port(),
                destination.port()
            ),
            ProxyHeader::Tcp6 {
                source,
                destination,
            } => format!(
                "PROXY TCP6 {} {} {} {}\r\n",
                source.ip(),
                destination.ip(),
                source.port(),
                destination.port()
            ),
            ProxyHeader::Unknown => "PROXY UNKNOWN\r\n".to_string(),
        };
        line.into_bytes()
    }

    /// The binary v2 form: signature, version/command, family, length, addresses.
    /// `Unknown` is sent as a PROXY command with the UNSPEC family and no addresses.
    pub fn encode_v2(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 36);
        out.extend_from_slice(&V2_SIGNATURE);
        out.push(V2_VERSION_PROXY);
        match self {
            ProxyHeader::Tcp4 {
                source,
                destination,
            } => {
                out.push(V2_FAMILY_TCP4);
                out.extend_from_slice(&12u16.to_be_bytes());
                out.extend_from_slice(&source.ip().octets());
                out.extend_from_slice(&destination.ip().octets());
                out.extend_from_slice(&source.port().to_be_bytes());
                out.extend_from_slice(&destination.port().to_be_bytes());
            }
            ProxyHeader::Tcp6 {
                source,
                destination,
            } => {
                out.push(V2_FAMILY_TCP6);
                out.extend_from_slice(&36u16.to_be_bytes());
                out.extend_from_slice(&source.ip().octets());
                out.extend_from_slice(&destination.ip().octets());
                out.extend_from_slice(&source.port().to_be_bytes());
                out.extend_from_slice(&destination.port().to_be_bytes());
            }
            ProxyHeader::Unknown => {
                out.push(V2_FAMILY_UNSPEC);
                out.extend_from_slice(&0u16.to_be_bytes());
            }
        }
        out
    }

    /// Decodes one v1 or v2 header at the start of `input`, returning it and the number
    /// of bytes it occupied. v2 TLVs are skipped; a v2 LOCAL command decodes as `Unknown`.
    pub fn decode(input: &[u8]) -> Result<(ProxyHeader, usize), DecodeError> {
        if input.len() < V2_SIGNATURE.len() && V2_SIGNATURE.starts_with(input) {
            return Err(DecodeError::Incomplete);
        }
        if input.starts_with(&V2_SIGNATURE) {
            decode_v2(input)
        } else {
            decode_v1(input)
        }
    }
}

fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Why bytes are not a valid PROXY header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("incomplete header: more bytes needed")]
    Incomplete,
    #[error("not a PROXY header")]
    NotProxy,
    #[error("v1 line longer than {V1_MAX_LEN} bytes")]
    TooLong,
    #[error("malformed v1 line: {0}")]
    MalformedV1(String),
    #[error("malformed v2 header: {0}")]
    MalformedV2(String),
}

fn decode_v1(input: &[u8]) -> Result<(ProxyHeader, usize), DecodeError> {
    const PREFIX: &[u8] = b"PROXY ";
    let compared = input.len().min(PREFIX.len());
    if input[..compared] != PREFIX[..compared] {
        return Err(DecodeError::NotProxy);
    }
    let window = &input[..input.len().min(V1_MAX_LEN)];
    let Some(end) = window.windows(2).position(|pair| pair == b"\r\n") else {
        return Err(if input.len() >= V1_MAX_LEN {
            DecodeError::TooLong
        } else {
            DecodeError::Incomplete
        });
    };
    let malformed = |why: &str| DecodeError::MalformedV1(why.to_string());
    let line = std::str::from_utf8(&input[..end]).map_err(|_| malformed("not ASCII"))?;
    let fields: Vec<&str> = line.split(' ').collect();
    let header = match fields.as_slice() {
        ["PROXY", "UNKNOWN", ..] => ProxyHeader::Unknown,
        ["PROXY", "TCP4", src, dst, sport, dport] => ProxyHeader::Tcp4 {
            source: SocketAddrV4::new(parse_v4(src)?, parse_port(sport)?),
            destination: SocketAddrV4::new(parse_v4(dst)?, parse_port(dport)?),
        },
        ["PROXY", "TCP6", src, dst, sport, dport] => ProxyHeader::Tcp6 {
            source: SocketAddrV6::new(parse_v6(src)?, parse_port(sport)?, 0, 0),
            destination: SocketAddrV6::new(parse_v6(dst)?, parse_port(dport)?, 0, 0),
        },
        _ => {
            return Err(malformed(
                "expected PROXY TCP4|TCP6 <src> <dst> <sport> <dport> or PROXY UNKNOWN",
            ))
        }
    };
    Ok((header, end + 2))
}

fn parse_v4(text: &str) -> Result<Ipv4Addr, DecodeError> {
    text.parse()
        .map_err(|_| DecodeError::MalformedV1(format!("bad IPv4 address {text:?}")))
}

fn parse_v6(text: &str) -> Result<Ipv6Addr, DecodeError> {
    text.parse()
        .map_err(|_| DecodeError::MalformedV1(format!("bad IPv6 address {text:?}")))
}

/// Ports are plain decimal without leading zeros, as the protocol requires.
fn parse_port(text: &str) -> Result<u16, DecodeError> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical
        .then(|| text.parse().ok())
        .flatten()
        .ok_or_else(|| DecodeError::MalformedV1(format!("bad port {text:?}")))
}

fn decode_v2(input: &[u8]) -> Result<(ProxyHeader, usize), DecodeError> {
    let malformed = |why: String| DecodeError::MalformedV2(why);
    let Some(fixed) = input.get(..16) else {
        return Err(DecodeError::Incomplete);
    };
    let version_command = fixed[12];
    let family = fixed[13];
    let length = usize::from(u16::from_be_bytes([fixed[14], fixed[15]]));
    let total = 16 + length;
    let Some(body) = input.get(16..total) else {
        return Err(DecodeError::Incomplete);
    };
    if version_command >> 4 != 2 {
        return Err(malformed(format!(
            "version {} is not 2",
            version_command >> 4
        )));
    }
    match version_command {
        V2_VERSION_LOCAL => return Ok((ProxyHeader::Unknown, total)),
        V2_VERSION_PROXY => {}
        other => return Err(malformed(format!("unknown command {:#x}", other & 0x0f))),
    }
    let header = match family {
        V2_FAMILY_TCP4 => {
            let a = body
                .get(..12)
                .ok_or_else(|| malformed(format!("TCP4 needs 12 address bytes, got {length}")))?;
            ProxyHeader::Tcp4 {
                source: SocketAddrV4::new(
                    Ipv4Addr::new(a[0], a[1], a[2], a[3]),
                    u16::from_be_bytes([a[8], a[9]]),
                ),
                destination: SocketAddrV4::new(
                    Ipv4Addr::new(a[4], a[5], a[6], a[7]),
                    u16::from_be_bytes([a[10], a[11]]),
                ),
            }
        }
        V2_FAMILY_TCP6 => {
            let a = body
                .get(..36)
                .ok_or_else(|| malformed(format!("TCP6 needs 36 address bytes, got {length}")))?;
            let ip = |range: std::ops::Range<usize>| {
                let mut octets = [0u8; 16];
                octets.copy_from_slice(&a[range]);
                Ipv6Addr::from(octets)
            };
            ProxyHeader::Tcp6 {
                source: SocketAddrV6::new(ip(0..16), u16::from_be_bytes([a[32], a[33]]), 0, 0),
                destination: SocketAddrV6::new(
                    ip(16..32),
                    u16::from_be_bytes([a[34], a[35]]),
                    0,
                    0,
                ),
            }
        }
        // UDP, UNIX and UNSPEC carry nothing this relay could describe.
        _ => ProxyHeader::Unknown,
    };
    Ok((header, total))
}

impl fmt::Display for ProxyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProxyVersion::V1 => "1",
            ProxyVersion::V2 => "2",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    fn header(client: &str, local: &str) -> ProxyHeader {
        ProxyHeader::for_connection(Some(ClientAddr(addr(client))), Some(LocalAddr(addr(local))))
    }

    fn v1(h: ProxyHeader) -> String {
        String::from_utf8(h.encode_v1()).unwrap()
    }

    #[test]
    fn ipv4_pair() {
        assert_eq!(
            v1(header("192.0.2.1:12345", "198.51.100.2:443")),
            "PROXY TCP4 192.0.2.1 198.51.100.2 12345 443\r\n"
        );
    }

    #[test]
    fn ipv6_pair() {
        assert_eq!(
            v1(header("[2001:db8::1]:12345", "[2001:db8::2]:443")),
            "PROXY TCP6 2001:db8::1 2001:db8::2 12345 443\r\n"
        );
    }

    #[test]
    fn mapped_source_becomes_ipv4() {
        assert_eq!(
            v1(header("[::ffff:192.0.2.1]:12345", "198.51.100.2:443")),
            "PROXY TCP4 192.0.2.1 198.51.100.2 12345 443\r\n"
        );
        assert_eq!(
            v1(header(
                "[::ffff:192.0.2.1]:12345",
                "[::ffff:198.51.100.2]:443"
            )),
            "PROXY TCP4 192.0.2.1 198.51.100.2 12345 443\r\n"
        );
    }

    #[test]
    fn scope_ids_never_appear() {
        assert_eq!(
            v1(header("[fe80::1%2]:1", "[fe80::2%2]:2")),
            "PROXY TCP6 fe80::1 fe80::2 1 2\r\n"
        );
    }

    #[test]
    fn unknown_cases() {
        assert_eq!(
            v1(header("192.0.2.1:1", "[2001:db8::2]:443")),
            "PROXY UNKNOWN\r\n"
        );
        assert_eq!(
            v1(ProxyHeader::for_connection(None, None)),
            "PROXY UNKNOWN\r\n"
        );
        assert_eq!(
            v1(ProxyHeader::for_connection(
                Some(ClientAddr(addr("192.0.2.1:1"))),
                None
            )),
            "PROXY UNKNOWN\r\n"
        );
        assert_eq!(ProxyHeader::Unknown.encode_v1().len(), 15);
    }

    #[test]
    fn longest_v1_line_fits() {
        let full = "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe]:65535";
        let line = header(full, full).encode_v1();
        assert_eq!(line.len(), 104);
        assert!(line.len() <= V1_MAX_LEN);
    }

    #[test]
    fn v2_layout() {
        let bytes = header("192.0.2.1:12345", "198.51.100.2:443").encode_v2();
        assert_eq!(&bytes[..12], &V2_SIGNATURE);
        assert_eq!(bytes[12], 0x21);
        assert_eq!(bytes[13], 0x11);
        assert_eq!(&bytes[14..16], &[0, 12]);
        assert_eq!(&bytes[16..20], &[192, 0, 2, 1]);
        assert_eq!(&bytes[20..24], &[198, 51, 100, 2]);
        assert_eq!(&bytes[24..28], &[0x30, 0x39, 0x01, 0xbb]);
        assert_eq!(bytes.len(), 28);
        assert_eq!(header("[::1]:1", "[::2]:2").encode_v2().len(), 52);
        assert_eq!(ProxyHeader::Unknown.encode_v2().len(), 16);
    }

    #[test]
    fn round_trips() {
        for h in [
            header("192.0.2.1:12345", "198.51.100.2:443"),
            header("[2001:db8::1]:1", "[::]:0"),
            ProxyHeader::Unknown,
        ] {
            for version in [ProxyVersion::V1, ProxyVersion::V2] {
                let mut bytes = h.encode(version);
                let len = bytes.len();
                bytes.extend_from_slice(b"GET / HTTP/1.1\r\n");
                assert_eq!(ProxyHeader::decode(&bytes), Ok((h, len)), "{version}");
                for cut in 0..len {
                    assert_eq!(
                        ProxyHeader::decode(&bytes[..cut]),
                        Err(DecodeError::Incomplete),
                        "{version} cut {cut}"
                    );
                }
            }
        }
    }

    #[test]
    fn decoder_rejects_garbage() {
        assert_eq!(
            ProxyHeader::decode(b"GET / HTTP/1.1\r\n"),
            Err(DecodeError::NotProxy)
        );
        assert_eq!(
            ProxyHeader::decode(&[b'P'; 200]),
            Err(DecodeError::NotProxy)
        );
        let mut long = b"PROXY ".to_vec();
        long.resize(200, b'1');
        assert_eq!(ProxyHeader::decode(&long), Err(DecodeError::TooLong));
        assert!(matches!(
            ProxyHeader::decode(b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"),
            Err(DecodeError::MalformedV1(_))
        ));
        assert!(matches!(
            ProxyHeader::decode(b"PROXY TCP4 1.2.3.4 5.6.7.8 70000 2\r\n"),
            Err(DecodeError::MalformedV1(_))
        ));
        assert!(matches!(
            ProxyHeader::decode(b"PROXY TCP6 1.2.3.4 ::1 1 2\r\n"),
            Err(DecodeError::MalformedV1(_))
        ));
        let mut v2 = ProxyHeader::Unknown.encode_v2();
        v2[12] = 0x11;
        assert!(matches!(
            ProxyHeader::decode(&v2),
            Err(DecodeError::MalformedV2(_))
        ));
        let mut short = header("192.0.2.1:1", "192.0.2.2:2").encode_v2();
        short[15] = 4;
        short.truncate(20);
        assert!(matches!(
            ProxyHeader::decode(&short),
            Err(DecodeError::MalformedV2(_))
        ));
    }
}
