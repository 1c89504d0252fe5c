//! Address planning for `tern plan`: splitting a block into equal subnets, and mapping a
//! network's allocations to what each prefix is used for and what is still free.

use tern_types::Prefix;

use crate::network::{Network, PlannedPrefix};

/// Why a split is impossible.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SplitError {
    /// The target length is shorter than the prefix or longer than the family allows.
    #[error("cannot split {prefix} into /{len}: the length must be between {} and {max}", prefix.len())]
    Length {
        /// The block.
        prefix: Prefix,
        /// The asked length.
        len: u8,
        /// The address width.
        max: u8,
    },
}

/// The `/len` subnets of `prefix` in address order, and how many there are (saturating).
pub fn split(prefix: Prefix, len: u8) -> Result<(u128, impl Iterator<Item = Prefix>), SplitError> {
    let max = prefix.afi().bits();
    let err = SplitError::Length { prefix, len, max };
    if len < prefix.len() || len > max {
        return Err(err);
    }
    let count = 1u128
        .checked_shl(u32::from(len - prefix.len()))
        .unwrap_or(u128::MAX);
    let it = prefix.as_ipnet().subnets(len).map_err(|_| err)?;
    Ok((
        count,
        it.filter_map(|n| Prefix::truncating(n.addr(), n.prefix_len())),
    ))
}

/// The parts of `block` not covered by any of `used`, as the fewest CIDR blocks, in order.
pub fn free(block: Prefix, used: &[Prefix]) -> Vec<Prefix> {
    let mut out = Vec::new();
    free_into(block, used, &mut out);
    out
}

fn free_into(block: Prefix, used: &[Prefix], out: &mut Vec<Prefix>) {
    let relevant: Vec<Prefix> = used
        .iter()
        .copied()
        .filter(|u| u.overlaps(&block))
        .collect();
    if relevant.is_empty() {
        out.push(block);
        return;
    }
    if relevant.iter().any(|u| u.contains(&block)) {
        return;
    }
    if let Some(halves) = block.subnets(block.len() + 1) {
        for h in halves {
            free_into(h, &relevant, out);
        }
    }
}

/// One allocation: what uses it and what is left.
#[derive(Debug)]
pub struct Usage<'a> {
    /// The allocation.
    pub allocation: Prefix,
    /// Plan entries inside it, in address order.
    pub used: Vec<&'a PlannedPrefix>,
    /// Free space, fewest CIDR blocks.
    pub free: Vec<Prefix>,
}

/// Maps each allocation of `net` to its use; the second value lists plan entries that lie in no
/// allocation.
pub fn usage(net: &Network) -> (Vec<Usage<'_>>, Vec<&PlannedPrefix>) {
    let mut out = Vec::new();
    for a in &net.allocations {
        let mut used: Vec<&PlannedPrefix> = net
            .prefixes
            .iter()
            .filter(|p| a.value.contains(&p.prefix))
            .collect();
        used.sort_by_key(|p| p.prefix);
        let blocks: Vec<Prefix> = used.iter().map(|p| p.prefix).collect();
        out.push(Usage {
            allocation: a.value,
            free: free(a.value, &blocks),
            used,
        });
    }
    let outside = net
        .prefixes
        .iter()
        .filter(|p| !net.allocations.iter().any(|a| a.value.contains(&p.prefix)))
        .collect();
    (out, outside)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        s.parse().unwrap()
    }

    #[test]
    fn splits() {
        let (n, it) = split(p("2001:db8:a0::/44"), 48).unwrap();
        let v: Vec<Prefix> = it.collect();
        assert_eq!(n, 16);
        assert_eq!(v.len(), 16);
        assert_eq!(v[0], p("2001:db8:a0::/48"));
        assert_eq!(v[15], p("2001:db8:af::/48"));
        assert!(split(p("2001:db8::/48"), 44).is_err());
        assert!(split(p("192.0.2.0/24"), 33).is_err());
        assert_eq!(split(p("::/0"), 128).unwrap().0, u128::MAX);
    }

    #[test]
    fn free_space_is_minimal() {
        let f = free(
            p("2001:db8:a0::/44"),
            &[p("2001:db8:a0::/48"), p("2001:db8:a1::/48")],
        );
        assert_eq!(
            f,
            vec![
                p("2001:db8:a2::/47"),
                p("2001:db8:a4::/46"),
                p("2001:db8:a8::/45")
            ]
        );
        assert!(free(p("192.0.2.0/24"), &[p("192.0.2.0/24")]).is_empty());
        assert!(free(p("192.0.2.0/24"), &[p("192.0.0.0/16")]).is_empty());
        assert_eq!(free(p("192.0.2.0/24"), &[]), vec![p("192.0.2.0/24")]);
    }
}
