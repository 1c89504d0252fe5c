//! `[lab]`: how `tern lab` emulates this network on one host (read by tern-lab only).
//!
//! The section is optional and only shapes the emulated Internet around the sites; it never
//! changes what a site announces. It lives in its own module so that the rest of the model stays
//! independent of the lab: `tern check` rejects unknown keys in it (deny_unknown_fields), and
//! tern-lab reads it with [`section`].

use serde::Deserialize;

use crate::policy::Region;

/// Transit networks of the lab's small Internet when `[lab] transits` is absent: two global
/// carriers whose community dictionaries ship with tern.
pub const DEFAULT_TRANSITS: &[&str] = &["cogent", "gtt"];
/// Eyeball networks (each with one client probe) per probe region when not given.
pub const DEFAULT_EYEBALLS_PER_REGION: u8 = 2;
/// Constant one-way delay added to every lab link, in milliseconds (switching, serialisation).
pub const DEFAULT_BASE_DELAY_MS: f64 = 0.5;

/// `[lab]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLab {
    /// Transit carriers (provider dictionary ids or AS numbers), each with a router in every
    /// lab region. Default: [`DEFAULT_TRANSITS`].
    #[serde(default)]
    pub transits: Vec<String>,
    /// Regions with client probes. Default: the regions of the sites.
    #[serde(default)]
    pub probe_regions: Vec<Region>,
    /// Eyeball networks per probe region (1–3). Default: [`DEFAULT_EYEBALLS_PER_REGION`].
    pub eyeballs_per_region: Option<u8>,
    /// Constant one-way delay per link in ms. Default: [`DEFAULT_BASE_DELAY_MS`].
    pub base_delay_ms: Option<f64>,
    /// The anycast address probes measure. Default: `::1` of the first IPv6 anycast prefix.
    pub target: Option<String>,
}

/// The `[lab]` section of tern.toml text, if any. Other sections are not looked at (the model
/// validates them); a malformed `[lab]` is an error.
pub fn section(text: &str) -> Result<Option<RawLab>, toml::de::Error> {
    #[derive(Deserialize)]
    struct Only {
        lab: Option<RawLab>,
    }
    Ok(toml::from_str::<Only>(text)?.lab)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_section_and_refuses_unknown_keys() {
        let t =
            "[network]\nasn = 1\n[lab]\ntransits = [\"cogent\"]\nprobe_regions = [\"europe\"]\n";
        let l = section(t).unwrap().unwrap();
        assert_eq!(l.transits, vec!["cogent".to_string()]);
        assert_eq!(l.probe_regions, vec![Region::Europe]);
        assert!(section("[network]\nasn = 1\n").unwrap().is_none());
        assert!(section("[lab]\nbogus = 1\n").is_err());
    }
}
