//! Sets of (protocol, port range), for "which ports are allowed".

use std::fmt;

use super::model::Protocol;

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
    Ranges(Vec<PortRange>),
}

impl PortSet {
    pub fn none() -> Self {
        PortSet::Ranges(Vec::new())
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, PortSet::Ranges(r) if r.is_empty())
    }

    fn normalized(mut ranges: Vec<PortRange>) -> Self {
        ranges.sort();
        let mut out: Vec<PortRange> = Vec::new();
        for range in ranges {
            match out.last_mut() {
                Some(last)
                    if last.protocol == range.protocol
                        && u32::from(range.start) <= u32::from(last.end) + 1 =>
                {
                    last.end = last.end.max(range.end);
                }
                _ => out.push(range),
            }
        }
        let full = [
            super::model::Protocol::Tcp,
            super::model::Protocol::Udp,
            super::model::Protocol::Sctp,
        ]
        .iter()
        .all(|p| {
            out.iter()
                .any(|r| r.protocol == *p && r.start <= 1 && r.end == u16::MAX)
        });
        if full {
            PortSet::All
        } else {
            PortSet::Ranges(out)
        }
    }

    pub fn ranges(ranges: Vec<PortRange>) -> Self {
        Self::normalized(ranges)
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
                let mut out = Vec::new();
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
                let parts: Vec<String> = r
                    .iter()
                    .map(|r| match (r.start, r.end) {
                        (1, u16::MAX) | (0, u16::MAX) => format!("{}/*", r.protocol.as_str()),
                        (s, e) if s == e => format!("{s}/{}", r.protocol.as_str()),
                        (s, e) => format!("{s}-{e}/{}", r.protocol.as_str()),
                    })
                    .collect();
                f.write_str(&parts.join(", "))
            }
        }
    }
}
