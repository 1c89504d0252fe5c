//! RFC 9319 (BCP 185) advice on loose maxLength.
//!
//! A VRP whose maxLength is longer than what its AS actually announces makes the unannounced
//! more-specifics RPKI-valid for that AS: an attacker who announces such a more-specific with our
//! AS forged as the origin (a forged-origin sub-prefix hijack) wins by longest match and passes
//! route origin validation. RFC 9319 therefore asks for minimal ROAs: maxLength only where every
//! more-specific up to it is announced. `tern check` turns each finding into a warning.
//!
//! Two views: [`max_length_advice`] judges one announced prefix on its own (any covering VRP of
//! ours with a longer maxLength is loose); [`max_length_advice_for_plan`] knows every prefix we
//! announce and flags a VRP only if some of its maxLength-long more-specifics stay unannounced.

use std::collections::BTreeSet;
use std::fmt;

use tern_types::{Asn, Prefix};

use crate::vrp::{Vrp, VrpSet};

/// One VRP for our origin that authorises more than we announce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaxLenAdvice {
    /// The loose VRP.
    pub vrp: Vrp,
    /// The prefixes we announce that it covers, sorted.
    pub announced: Vec<Prefix>,
    /// How many of its more-specifics of length `vrp.max_len` we do not announce (saturating).
    pub unannounced: u128,
}

impl MaxLenAdvice {
    fn new(vrp: Vrp, announced: Vec<Prefix>) -> MaxLenAdvice {
        let total = 1u128
            .checked_shl(u32::from(vrp.max_len.saturating_sub(vrp.prefix.len())))
            .unwrap_or(u128::MAX);
        let at_max = announced.iter().filter(|a| a.len() == vrp.max_len).count();
        MaxLenAdvice {
            vrp,
            unannounced: total.saturating_sub(at_max as u128),
            announced,
        }
    }

    /// The maxLength that would authorise exactly what is announced, when one prefix is.
    pub fn suggested_max_len(&self) -> Option<u8> {
        match self.announced.as_slice() {
            [a] => Some(a.len()),
            _ => None,
        }
    }
}

impl fmt::Display for MaxLenAdvice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = &self.vrp;
        let list = |f: &mut fmt::Formatter<'_>, sep: &str, with_len: bool| -> fmt::Result {
            for (i, a) in self.announced.iter().enumerate() {
                f.write_str(if i == 0 { "" } else { sep })?;
                if with_len {
                    write!(f, "{a} maxLength {}", a.len())?;
                } else {
                    write!(f, "{a}")?;
                }
            }
            Ok(())
        };
        let k = v.max_len.saturating_sub(v.prefix.len());
        write!(f, "VRP {v} authorises ")?;
        if k > 32 {
            write!(f, "about 2^{k}")?;
        } else {
            write!(f, "{}", self.unannounced)?;
        }
        write!(f, " unannounced /{} more-specifics (announced: ", v.max_len)?;
        list(f, ", ", false)?;
        write!(
            f,
            "); a forged-origin sub-prefix hijack with {} as origin would be RPKI-valid there \
             (RFC 9319): ",
            v.asn
        )?;
        match self.announced.as_slice() {
            [a] if *a == v.prefix => write!(f, "set maxLength to {} in the ROA for {a}", a.len()),
            _ => {
                f.write_str("issue minimal ROAs instead, one per announced prefix (")?;
                list(f, "; ", true)?;
                write!(f, ") and lower the maxLength of the ROA for {}", v.prefix)
            }
        }
    }
}

/// The VRPs for `origin` that cover `announced` and allow longer prefixes than it (RFC 9319),
/// judging `announced` as if it were the only prefix announced from that space.
pub fn max_length_advice(vrps: &VrpSet, announced: &Prefix, origin: Asn) -> Vec<MaxLenAdvice> {
    vrps.covering(announced)
        .into_iter()
        .filter(|v| v.asn == origin && v.max_len > announced.len())
        .map(|v| MaxLenAdvice::new(*v, vec![*announced]))
        .collect()
}

/// The VRPs for `origin` that cover any of `announced` and authorise maxLength-long
/// more-specifics that none of `announced` is (RFC 9319). A /44 ROA with maxLength 48 passes only
/// when all sixteen /48s are announced.
pub fn max_length_advice_for_plan(
    vrps: &VrpSet,
    announced: &[Prefix],
    origin: Asn,
) -> Vec<MaxLenAdvice> {
    let ours: BTreeSet<Prefix> = announced.iter().copied().collect();
    let mut loose: BTreeSet<Vrp> = BTreeSet::new();
    for a in &ours {
        loose.extend(
            vrps.covering(a)
                .into_iter()
                .filter(|v| v.asn == origin && v.max_len > v.prefix.len()),
        );
    }
    loose
        .into_iter()
        .map(|v| {
            let covered = ours
                .iter()
                .filter(|a| v.prefix.contains(a) && a.len() <= v.max_len)
                .copied()
                .collect();
            MaxLenAdvice::new(v, covered)
        })
        .filter(|adv| adv.unannounced > 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        s.parse().unwrap()
    }
    fn vrp(prefix: &str, max_len: u16, asn: u32) -> Vrp {
        Vrp::new(p(prefix), max_len, Asn(asn)).unwrap()
    }

    #[test]
    fn loose_exact_vrp_suggests_announced_length() {
        let set = VrpSet::from_vrps([vrp("2001:db8:100::/48", 64, 64512)]);
        let advice = max_length_advice(&set, &p("2001:db8:100::/48"), Asn(64512));
        assert_eq!(advice.len(), 1);
        assert_eq!(advice[0].suggested_max_len(), Some(48));
        assert_eq!(advice[0].unannounced, 1 << 16);
        let text = advice[0].to_string();
        assert!(
            text.contains("VRP 2001:db8:100::/48 maxLength 64 AS64512"),
            "{text}"
        );
        assert!(text.contains("65536 unannounced /64"), "{text}");
        assert!(text.contains("set maxLength to 48"), "{text}");
        assert!(text.contains("RFC 9319"), "{text}");
    }

    #[test]
    fn other_origins_are_not_our_business() {
        let set = VrpSet::from_vrps([vrp("2001:db8::/44", 48, 64999)]);
        assert!(max_length_advice(&set, &p("2001:db8::/44"), Asn(64512)).is_empty());
    }

    #[test]
    fn single_view_of_an_aggregate_vrp() {
        let set = VrpSet::from_vrps([vrp("2001:db8::/44", 48, 64512)]);
        // Announcing the /44 itself under a 44-48 ROA leaves /45../48 open.
        let advice = max_length_advice(&set, &p("2001:db8::/44"), Asn(64512));
        assert_eq!(advice.len(), 1);
        // One /48 of it, judged alone, is at maxLength: nothing longer is authorised below it.
        assert!(max_length_advice(&set, &p("2001:db8:3::/48"), Asn(64512)).is_empty());
    }

    #[test]
    fn covering_shorter_vrp_gets_minimal_roa_suggestion() {
        let set = VrpSet::from_vrps([vrp("2001:db8::/32", 64, 64512)]);
        let advice = max_length_advice(&set, &p("2001:db8:1::/48"), Asn(64512));
        assert_eq!(advice.len(), 1);
        let text = advice[0].to_string();
        assert!(text.contains("4294967296 unannounced /64"), "{text}");
        assert!(text.contains("2001:db8:1::/48 maxLength 48"), "{text}");
        assert!(
            text.contains("lower the maxLength of the ROA for 2001:db8::/32"),
            "{text}"
        );
    }

    #[test]
    fn plan_view_counts_unannounced_more_specifics() {
        let set = VrpSet::from_vrps([vrp("2001:db8::/44", 48, 64512)]);
        let some: Vec<Prefix> = p("2001:db8::/44").subnets(48).unwrap().take(3).collect();
        let advice = max_length_advice_for_plan(&set, &some, Asn(64512));
        assert_eq!(advice.len(), 1);
        assert_eq!(advice[0].unannounced, 13);
        assert_eq!(advice[0].announced, some);
        assert_eq!(advice[0].suggested_max_len(), None);
        // All sixteen /48s announced: the maxLength is deliberate and harmless.
        let all: Vec<Prefix> = p("2001:db8::/44").subnets(48).unwrap().collect();
        assert!(max_length_advice_for_plan(&set, &all, Asn(64512)).is_empty());
    }

    #[test]
    fn minimal_roas_give_no_advice() {
        let set = VrpSet::from_vrps([
            vrp("2001:db8:1::/48", 48, 64512),
            vrp("192.0.2.0/24", 24, 64512),
        ]);
        let ours = [p("2001:db8:1::/48"), p("192.0.2.0/24"), p("3fff::/48")];
        for a in &ours {
            assert!(max_length_advice(&set, a, Asn(64512)).is_empty(), "{a}");
        }
        assert!(max_length_advice_for_plan(&set, &ours, Asn(64512)).is_empty());
    }
}
