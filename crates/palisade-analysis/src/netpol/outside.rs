//! Addresses outside the cluster a workload can reach, or be reached from: the whole address
//! space of each family, cut at every boundary a policy of the input draws (NetworkPolicy
//! `ipBlock` CIDRs and their `except`s, administrator `networks`, Cilium CIDRs). Between two
//! cuts every policy treats each address alike, so one address judges the whole piece; pieces
//! side by side with the same ports are joined into maximal ranges.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::admin::AdminPeer;
use super::model::{Cidr, IpBlock};
use super::{Detail, Direction, Endpoint, NetWorkload, Network, PortSet};

/// A range of outside addresses, first to last, and the ports allowed with them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutsideRange {
    pub first: IpAddr,
    pub last: IpAddr,
    pub ports: PortSet,
}

/// An address family's space as numbers: IPv4 in the low 32 bits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

impl Family {
    fn bits(self) -> u32 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    fn last(self) -> u128 {
        match self {
            Family::V4 => u128::from(u32::MAX),
            Family::V6 => u128::MAX,
        }
    }

    fn address(self, n: u128) -> IpAddr {
        match self {
            // Within the family's space by construction (at most `last()`).
            Family::V4 => IpAddr::V4(Ipv4Addr::from(u32::try_from(n).unwrap_or(u32::MAX))),
            Family::V6 => IpAddr::V6(Ipv6Addr::from(n)),
        }
    }
}

/// A block's first and last address, as numbers of its family.
fn bounds(cidr: &Cidr) -> (Family, u128, u128) {
    match cidr.addr {
        IpAddr::V4(a) => {
            let prefix = u32::from(cidr.prefix.min(32));
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix)
            };
            let first = u32::from(a) & mask;
            (Family::V4, u128::from(first), u128::from(first | !mask))
        }
        IpAddr::V6(a) => {
            let prefix = u32::from(cidr.prefix.min(128));
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - prefix)
            };
            let first = u128::from(a) & mask;
            (Family::V6, first, first | !mask)
        }
    }
}

impl OutsideRange {
    /// `10.0.0.0/8` when the range is one CIDR block, else `10.0.0.0-10.0.0.5`.
    pub fn label(&self) -> String {
        let Some((family, first, last)) = numbered(self.first, self.last) else {
            return format!("{}-{}", self.first, self.last);
        };
        let bits = family.bits();
        // A block: its size (last - first + 1) a power of two, and first aligned to it.
        let span = last - first;
        let block = span
            .checked_add(1)
            .map_or(bits == 128, u128::is_power_of_two);
        if block {
            let host_bits = 128 - span.leading_zeros();
            let aligned = host_bits == 128 || first & ((1u128 << host_bits) - 1) == 0;
            if aligned {
                return format!("{}/{}", self.first, bits - host_bits.min(bits));
            }
        }
        format!("{}-{}", self.first, self.last)
    }

    /// The CIDR blocks that make up the range, largest first from its start.
    pub fn blocks(&self) -> Vec<Cidr> {
        let Some((family, mut at, last)) = numbered(self.first, self.last) else {
            return Vec::new();
        };
        let bits = family.bits();
        // The last address of the block of 2^size addresses starting at `start` (aligned).
        let end_of = |start: u128, size: u32| {
            if size >= 128 {
                u128::MAX
            } else {
                start + ((1u128 << size) - 1)
            }
        };
        let mut blocks = Vec::new();
        loop {
            // The largest aligned block starting at `at` that ends by `last`.
            let mut size = if at == 0 {
                bits
            } else {
                at.trailing_zeros().min(bits)
            };
            while size > 0 && end_of(at, size) > last {
                size -= 1;
            }
            blocks.push(Cidr {
                addr: family.address(at),
                prefix: u8::try_from(bits - size).unwrap_or(0),
            });
            let end = end_of(at, size);
            if end >= last {
                break;
            }
            at = end + 1;
        }
        blocks
    }

    /// Parses `10.0.0.0/8`, `10.1.2.3` or `10.0.0.1-10.0.0.9` (both ends of one family, in
    /// order).
    pub fn parse(text: &str) -> Option<OutsideRange> {
        if let Some((first, last)) = text.split_once('-') {
            let (first, last): (IpAddr, IpAddr) =
                (first.trim().parse().ok()?, last.trim().parse().ok()?);
            let ordered = numbered(first, last).is_some_and(|(_, a, b)| a <= b);
            return ordered.then_some(OutsideRange {
                first,
                last,
                ports: PortSet::none(),
            });
        }
        let cidr = Cidr::parse(text)?;
        let (family, first, last) = bounds(&cidr);
        Some(OutsideRange {
            first: family.address(first),
            last: family.address(last),
            ports: PortSet::none(),
        })
    }
}

impl Network {
    /// Every address where what some policy decides may change, per family: the first
    /// address of each block and the one after its last.
    pub(crate) fn address_cuts(&self) -> [BTreeSet<u128>; 2] {
        let mut cuts = [BTreeSet::from([0u128]), BTreeSet::from([0u128])];
        let mut cut = |cidr: &Cidr| {
            let (family, first, last) = bounds(cidr);
            let set = &mut cuts[usize::from(family == Family::V6)];
            set.insert(first);
            if last < family.last() {
                set.insert(last + 1);
            }
        };
        let mut block = |b: &IpBlock| {
            cut(&b.cidr);
            b.except.iter().for_each(&mut cut);
        };
        for policy in &self.policies {
            for rule in policy.ingress.iter().chain(&policy.egress) {
                for peer in rule.peers.iter().flatten() {
                    if let Some(b) = &peer.ip_block {
                        block(b);
                    }
                }
            }
        }
        for rule in &self.cilium {
            for section in rule.sections() {
                if let Some(peers) = &section.peers {
                    peers.cidrs.iter().for_each(&mut block);
                }
            }
        }
        // A node's address is judged apart: `nodes` peers hold it.
        for node in &self.nodes {
            for address in &node.addresses {
                cut(&Cidr {
                    addr: *address,
                    prefix: if address.is_ipv4() { 32 } else { 128 },
                });
            }
        }
        for policy in &self.admin {
            for rule in policy.ingress.iter().chain(&policy.egress) {
                for peer in &rule.peers {
                    if let AdminPeer::Networks(networks) = peer {
                        networks.iter().for_each(&mut cut);
                    }
                }
            }
        }
        cuts
    }

    /// The outside ranges `pod` may open connections to (`Egress`) or accept them from
    /// (`Ingress`), each maximal, with its ports; ranges with no port are left out.
    pub fn outside(&self, pod: &NetWorkload, direction: Direction) -> Vec<OutsideRange> {
        let mut ranges = join(self.outside_pieces(pod, direction, &self.address_cuts()));
        ranges.retain(|r| !r.ports.is_empty());
        ranges
    }

    /// Each piece of the address space between `cuts` (both families) with the ports `pod`
    /// has with it, pieces with no port included.
    pub(crate) fn outside_pieces(
        &self,
        pod: &NetWorkload,
        direction: Direction,
        cuts: &[BTreeSet<u128>; 2],
    ) -> Vec<OutsideRange> {
        let selected = self.selected(pod, direction);
        let mut pieces = Vec::new();
        for (family, cuts) in [Family::V4, Family::V6].into_iter().zip(cuts) {
            let starts: Vec<u128> = cuts
                .iter()
                .copied()
                .filter(|c| *c <= family.last())
                .collect();
            for (i, start) in starts.iter().enumerate() {
                let last = starts.get(i + 1).map_or(family.last(), |next| next - 1);
                let probe = Cidr {
                    addr: family.address(*start),
                    prefix: if family == Family::V4 { 32 } else { 128 },
                };
                pieces.push(OutsideRange {
                    first: family.address(*start),
                    last: family.address(last),
                    ports: self
                        .judge(
                            pod,
                            direction,
                            Endpoint::External(&probe),
                            &selected,
                            Detail::Ports,
                        )
                        .ports,
                });
            }
        }
        pieces
    }
}

/// Whether `next` starts right after `previous` ends, in one family.
pub(crate) fn adjacent(previous: &IpAddr, next: &IpAddr) -> bool {
    numbered(*previous, *next).is_some_and(|(_, a, b)| a.checked_add(1) == Some(b))
}

/// Two addresses of one family as numbers of it (IPv4 in the low 32 bits); `None` across
/// families.
fn numbered(a: IpAddr, b: IpAddr) -> Option<(Family, u128, u128)> {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => Some((
            Family::V4,
            u128::from(u32::from(a)),
            u128::from(u32::from(b)),
        )),
        (IpAddr::V6(a), IpAddr::V6(b)) => Some((Family::V6, u128::from(a), u128::from(b))),
        _ => None,
    }
}

/// Pieces side by side with the same ports joined.
fn join(pieces: Vec<OutsideRange>) -> Vec<OutsideRange> {
    let mut ranges: Vec<OutsideRange> = Vec::new();
    for piece in pieces {
        match ranges.last_mut() {
            Some(previous)
                if previous.ports == piece.ports && adjacent(&previous.last, &piece.first) =>
            {
                previous.last = piece.last;
            }
            _ => ranges.push(piece),
        }
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> OutsideRange {
        OutsideRange::parse(text).expect(text)
    }

    #[test]
    fn ranges_read_and_print_as_blocks_when_they_are_one() {
        assert_eq!(range("10.0.0.0/8").label(), "10.0.0.0/8");
        assert_eq!(
            range("10.1.2.3/8").label(),
            "10.0.0.0/8",
            "host bits cleared"
        );
        assert_eq!(range("0.0.0.0/0").label(), "0.0.0.0/0");
        assert_eq!(range("::/0").label(), "::/0");
        assert_eq!(range("192.168.1.7").label(), "192.168.1.7/32");
        assert_eq!(range("10.0.0.0-10.0.0.255").label(), "10.0.0.0/24");
        assert_eq!(range("10.0.0.1-10.0.0.9").label(), "10.0.0.1-10.0.0.9");
        assert!(
            OutsideRange::parse("10.0.0.9-10.0.0.1").is_none(),
            "out of order"
        );
        assert!(
            OutsideRange::parse("10.0.0.1-::1").is_none(),
            "two families"
        );
        assert!(OutsideRange::parse("10.0.0.0/33").is_none());
    }

    #[test]
    fn a_range_is_the_blocks_it_is_made_of() {
        let labels = |text: &str| -> Vec<String> {
            range(text)
                .blocks()
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(labels("10.0.0.0/8"), ["10.0.0.0/8"]);
        assert_eq!(
            labels("10.0.0.1-10.0.0.9"),
            ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/30", "10.0.0.8/31"]
        );
        assert_eq!(labels("0.0.0.0/0"), ["0.0.0.0/0"]);
        assert_eq!(labels("::/0"), ["::/0"]);
        assert_eq!(
            labels("255.255.255.254-255.255.255.255"),
            ["255.255.255.254/31"]
        );
    }
}
