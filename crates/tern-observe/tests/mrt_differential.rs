//! Differential test: our MRT reader against bgpkit-parser, element by element (kind, peer,
//! peer AS, prefix, path id, AS path), on the committed fixtures (every record type we read)
//! and, when ../shared/data is there, on the whole 2002 RIS bview and 2016 RIS update dump.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

fn agree(path: &std::path::Path) -> usize {
    let (mut ours, counts) = ours(path);
    let mut theirs = bgpkit(path);
    // bgpkit-parser's elements carry no path id for TABLE_DUMP_V2 ADD-PATH entries (its
    // RibEntry has it); path ids are checked against bgpdump's output below instead.
    for r in ours.iter_mut().chain(theirs.iter_mut()) {
        r.4 = None;
    }
    ours.sort();
    theirs.sort();
    assert_eq!(
        counts.malformed,
        0,
        "{}: {:?}",
        path.display(),
        counts.first_malformed
    );
    if ours != theirs {
        let only_ours: Vec<_> = ours
            .iter()
            .filter(|r| !theirs.contains(r))
            .take(5)
            .collect();
        let only_theirs: Vec<_> = theirs
            .iter()
            .filter(|r| !ours.contains(r))
            .take(5)
            .collect();
        panic!(
            "{}: {} rows here, {} from bgpkit-parser\nonly ours: {only_ours:#?}\nonly theirs: {only_theirs:#?}",
            path.display(),
            ours.len(),
            theirs.len()
        );
    }
    eprintln!(
        "{}: {} elements agree ({counts})",
        path.display(),
        ours.len()
    );
    ours.len()
}

#[test]
fn fixtures_agree_with_bgpkit_parser() {
    // (file, elements): the counts are `bgpdump -m` line counts of the same files, STATE lines left out.
    for (name, n) in [
        ("bview.20020722.2337.head2000.gz", 2000), // TABLE_DUMP (v1) IPv4
        ("updates.20160811.1600.head1500.gz", 4361), // BGP4MP MESSAGE_AS4, IPv4 + IPv6
        ("updates.20020722.2238.gz", 3244),        // BGP4MP MESSAGE, 2-octet AS
        ("updates.20020722.2238.bz2", 3244),       // the same, bzip2
        ("bview.ipv4_unicast_add_path.gz", 62),    // TABLE_DUMP_V2 RIB_IPV4_UNICAST_ADDPATH
        ("bview.ipv6_unicast_add_path.gz", 62),    // TABLE_DUMP_V2 RIB_IPV6_UNICAST_ADDPATH
        ("mrtparse-bird-mrtdump_rib", 18),         // TABLE_DUMP_V2 by BIRD
        ("mrtparse-bird6-mrtdump_rib", 10),
        ("mrtparse-bird6-mrtdump_bgp", 12), // BGP4MP by BIRD, IPv6
        ("mrtparse-openbgpd_rib_table-v2", 31),
        ("mrtparse-quagga_rib", 9),
    ] {
        assert_eq!(agree(&fixture(name)), n, "{name}");
    }
}

#[test]
fn full_ris_files_agree_with_bgpkit_parser() {
    let Some(bview) = shared("mrt/bview.20020722.2337.gz") else {
        return;
    };
    assert_eq!(agree(&bview), 115_521);
    let Some(updates) = shared("mrt/updates.20160811.1600.gz") else {
        return;
    };
    assert_eq!(agree(&updates), 41_212);
}

#[test]
fn add_path_ids_are_those_bgpdump_prints() {
    // `bgpdump -m bview.ipv4_unicast_add_path.gz`: TABLE_DUMP2_AP|…|10.0.15.1|65015|10.0.10.0/24|36|…
    // and …|10.0.10.0/24|38|…; for the IPv6 file the same ids on 2001:db8:15::1 style peers.
    let (rows, _) = ours(&fixture("bview.ipv4_unicast_add_path.gz"));
    let ids: Vec<_> = rows
        .iter()
        .filter(|r| r.3 == "10.0.10.0/24" && r.1 == "10.0.15.1")
        .map(|r| (r.4, r.5.split(' ').count()))
        .collect();
    assert_eq!(ids, vec![(Some(36), 5), (Some(38), 6)]);
    assert!(rows.iter().all(|r| r.4.is_some()));
}

/// bgpdump's `updates.nlri_mask_trailing_bits`: an UPDATE whose NLRI field is `0d 0b 0d 0b`,
/// one /13 and then a /11 with its octets missing. bgpdump prints the /13 (unmasked, as
/// 11.13.0.0/13), bgpkit-parser nothing;
/// we follow RFC 7606 §5.3 (a malformed NLRI field makes the whole UPDATE unusable) and count
/// the record as malformed, with its offset and the reason.
#[test]
fn a_truncated_nlri_field_is_counted_malformed_not_half_read() {
    let path = fixture("updates.nlri_mask_trailing_bits.gz");
    let (rows, counts) = ours(&path);
    assert!(rows.is_empty());
    assert_eq!(counts.records, 1);
    assert_eq!(counts.malformed, 1);
    let (offset, why) = counts.first_malformed.unwrap();
    assert_eq!(offset, 0);
    assert!(why.contains("network field"), "{why}");
    eprintln!("bgpkit-parser: {:?}", bgpkit(&path));
}
