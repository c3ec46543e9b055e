//! Sets of (protocol, port range), for "which ports are allowed".

use std::fmt;

use smallvec::SmallVec;

use super::model::Protocol;

/// Ranges held inline: a policy's ports are a handful, and reachability makes sets by the
/// million (a heap allocation for each was a fifth of a cluster-wide matrix's time).
type Ranges = SmallVec<[PortRange; 4]>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PortRange {
    pub protocol: Protocol,
    pub start: u16,
    pub end: u16,
}

/// Allowed ports: everything, or a normalized list of ranges (empty: nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortSet {
    All,
    Ranges(Ranges),
}

impl PortSet {
    pub fn none() -> Self {
        PortSet::Ranges(Ranges::new())
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, PortSet::Ranges(r) if r.is_empty())
    }

    /// Sorts and merges `ranges` in place (overlapping or adjacent ranges of a protocol are one).
    fn normalized(mut ranges: Ranges) -> Self {
        ranges.sort_unstable();
        let mut kept: usize = 0;
        for i in 0..ranges.len() {
            let range = ranges[i];
            match kept.checked_sub(1).map(|last| &mut ranges[last]) {
                Some(last)
                    if last.protocol == range.protocol
                        && u32::from(range.start) <= u32::from(last.end) + 1 =>
                {
                    last.end = last.end.max(range.end);
                }
                _ => {
                    ranges[kept] = range;
                    kept += 1;
                }
            }
        }
        ranges.truncate(kept);
        let full = [
            super::model::Protocol::Tcp,
            super::model::Protocol::Udp,
            super::model::Protocol::Sctp,
        ]
        .iter()
        .all(|p| {
            ranges
                .iter()
                .any(|r| r.protocol == *p && r.start <= 1 && r.end == u16::MAX)
        });
        if full {
            PortSet::All
        } else {
            PortSet::Ranges(ranges)
        }
    }

    pub fn ranges(ranges: Vec<PortRange>) -> Self {
        Self::normalized(Ranges::from_vec(ranges))
    }

    pub fn union(&self, other: &PortSet) -> PortSet {
        match (self, other) {
            (PortSet::All, _) | (_, PortSet::All) => PortSet::All,
            (PortSet::Ranges(a), PortSet::Ranges(b)) => {
                Self::normalized(a.iter().chain(b).copied().collect())
            }
        }
    }

    pub fn intersect(&self, other: &PortSet) -> PortSet {
        match (self, other) {
            (PortSet::All, x) | (x, PortSet::All) => x.clone(),
            (PortSet::Ranges(a), PortSet::Ranges(b)) => {
                let mut out = Ranges::new();
                for x in a {
                    for y in b.iter().filter(|y| y.protocol == x.protocol) {
                        let start = x.start.max(y.start);
                        let end = x.end.min(y.end);
                        if start <= end {
                            out.push(PortRange {
                                protocol: x.protocol,
                                start,
                                end,
                            });
                        }
                    }
                }
                Self::normalized(out)
            }
        }
    }

    /// Every port of every protocol, as ranges.
    fn all_ranges() -> Ranges {
        [Protocol::Tcp, Protocol::Udp, Protocol::Sctp]
            .into_iter()
            .map(|protocol| PortRange {
                protocol,
                start: 1,
                end: u16::MAX,
            })
            .collect()
    }

    /// The ports of `self` that are not in `other`.
    pub fn subtract(&self, other: &PortSet) -> PortSet {
        let mine = match (self, other) {
            (_, PortSet::All) => return PortSet::none(),
            (PortSet::All, _) => Self::all_ranges(),
            (PortSet::Ranges(r), _) => r.clone(),
        };
        let PortSet::Ranges(theirs) = other else {
            return PortSet::none();
        };
        let mut out: SmallVec<[(Protocol, u32, u32); 4]> = SmallVec::new();
        for range in mine {
            // Cut every range of `other` out of `range`, left to right (both are sorted).
            let mut start = u32::from(range.start);
            let end = u32::from(range.end);
            for cut in theirs.iter().filter(|c| c.protocol == range.protocol) {
                let (cut_start, cut_end) = (u32::from(cut.start), u32::from(cut.end));
                if cut_end < start || cut_start > end {
                    continue;
                }
                if cut_start > start {
                    out.push((range.protocol, start, cut_start - 1));
                }
                start = cut_end + 1;
            }
            if start <= end {
                out.push((range.protocol, start, end));
            }
        }
        Self::normalized(
            out.into_iter()
                .filter_map(|(protocol, start, end)| {
                    Some(PortRange {
                        protocol,
                        start: u16::try_from(start).ok()?,
                        end: u16::try_from(end).ok()?,
                    })
                })
                .collect(),
        )
    }

    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        match self {
            PortSet::All => true,
            PortSet::Ranges(r) => r
                .iter()
                .any(|r| r.protocol == protocol && r.start <= port && port <= r.end),
        }
    }
}

impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortSet::All => f.write_str("all ports"),
            PortSet::Ranges(r) if r.is_empty() => f.write_str("no ports"),
            PortSet::Ranges(r) => {
                for (i, r) in r.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    let protocol = r.protocol.as_str();
                    match (r.start, r.end) {
                        (1, u16::MAX) | (0, u16::MAX) => write!(f, "{protocol}/*")?,
                        (s, e) if s == e => write!(f, "{s}/{protocol}")?,
                        (s, e) => write!(f, "{s}-{e}/{protocol}")?,
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(start: u16, end: u16) -> PortRange {
        PortRange {
            protocol: Protocol::Tcp,
            start,
            end,
        }
    }

    #[test]
    fn sets_are_sorted_merged_and_whole_when_every_port_is_in() {
        let udp = |start, end| PortRange {
            protocol: Protocol::Udp,
            start,
            end,
        };
        // Overlapping and adjacent ranges of a protocol merge; other protocols stay apart.
        let set = PortSet::ranges(vec![tcp(90, 95), udp(53, 53), tcp(80, 89), tcp(85, 86)]);
        assert_eq!(set.to_string(), "80-95/TCP, 53/UDP");
        assert_eq!(
            set.union(&PortSet::ranges(vec![
                tcp(97, 99),
                tcp(96, 96),
                udp(54, 60)
            ]))
            .to_string(),
            "80-99/TCP, 53-60/UDP"
        );
        assert_eq!(
            set.intersect(&PortSet::ranges(vec![
                tcp(70, 81),
                tcp(94, 100),
                udp(1, 52)
            ]))
            .to_string(),
            "80-81/TCP, 94-95/TCP"
        );
        // More ranges than are held inline.
        let many: Vec<PortRange> = (0..10).map(|i| tcp(i * 10, i * 10 + 2)).collect();
        assert_eq!(
            PortSet::ranges(many.clone())
                .to_string()
                .matches(", ")
                .count(),
            9
        );
        assert_eq!(
            PortSet::ranges(many)
                .union(&PortSet::ranges(vec![tcp(0, 100)]))
                .to_string(),
            "0-100/TCP"
        );
        // Every port of every protocol is all ports.
        let every = PortSet::ranges(vec![
            tcp(1, 65535),
            udp(1, 30000),
            udp(30001, 65535),
            PortRange {
                protocol: Protocol::Sctp,
                start: 1,
                end: 65535,
            },
        ]);
        assert_eq!(every, PortSet::All);
        assert_eq!(PortSet::none().to_string(), "no ports");
    }

    #[test]
    fn subtract_cuts_ranges_and_keeps_other_protocols() {
        let some = PortSet::ranges(vec![tcp(80, 90), tcp(443, 443)]);
        let cut = PortSet::ranges(vec![tcp(85, 85), tcp(443, 500)]);
        assert_eq!(some.subtract(&cut).to_string(), "80-84/TCP, 86-90/TCP");
        assert_eq!(
            PortSet::All
                .subtract(&PortSet::ranges(vec![tcp(1, 79), tcp(81, 65535)]))
                .to_string(),
            "80/TCP, UDP/*, SCTP/*"
        );
        assert!(some.subtract(&PortSet::All).is_empty());
        assert_eq!(some.subtract(&PortSet::none()), some);
        assert_eq!(PortSet::All.subtract(&PortSet::none()), PortSet::All);
    }
}
