//! Result format variants the readers must accept (RIPE Atlas result documentation, firmware
//! layouts 1 … 5000), and the real files in ../shared/data/atlas.
#![allow(clippy::unwrap_used)]

mod common;

use tern_atlas::record::Proto;
use tern_atlas::{Body, parse_record, read_probes, read_results};

#[test]
fn ping_variants() {
    let r = parse_record(r#"{"fw":5080,"type":"ping","prb_id":1,"msm_id":2,"timestamp":3,"af":6,"dst_addr":"2001:db8::1","proto":"ICMP","sent":3,"rcvd":2,"dup":0,"min":1.5,"avg":2.0,"max":2.5,"size":48,"step":null,"ttl":55,"result":[{"rtt":1.5},{"x":"*"},{"rtt":2.5,"ttl":55,"dup":1},{"error":"sendto failed"}]}"#).unwrap();
    let Body::Ping(p) = r.body else { panic!() };
    assert_eq!((p.sent, p.rcvd, p.min, p.rtts.len()), (3, 2, Some(1.5), 2));
    // Nothing came back: -1 summaries become None.
    let r = parse_record(r#"{"type":"ping","prb_id":1,"sent":3,"rcvd":0,"min":-1,"avg":-1,"max":-1,"result":[{"x":"*"},{"x":"*"},{"x":"*"}]}"#).unwrap();
    let Body::Ping(p) = r.body else { panic!() };
    assert_eq!((p.min, p.avg), (None, None));
    // Built-in measurements without per-packet results; old layout with `addr` and no `type`.
    let r = parse_record(r#"{"fw":4400,"msm_name":"Ping","prb_id":9,"addr":"192.0.2.9","name":"x.example","min":4.0,"avg":4.0,"max":4.0,"sent":1,"rcvd":1}"#).unwrap();
    assert_eq!(r.dst_addr, Some("192.0.2.9".parse().unwrap()));
    assert_eq!(r.dst_name.as_deref(), Some("x.example"));
    assert!(matches!(r.body, Body::Ping(ref p) if p.min == Some(4.0)));
}

#[test]
fn traceroute_variants() {
    // UDP over IPv6 with an error hop, numeric err, late reply, MPLS extension, legacy `pf`.
    let r = parse_record(r#"{"fw":4450,"type":"traceroute","prb_id":5,"pf":6,"dst_addr":"2001:db8::1","proto":"UDP","result":[
      {"hop":1,"result":[{"from":"2001:db8:ff::1","rtt":1.0,"size":96,"ttl":64,"hbhoptsize":0}]},
      {"hop":2,"error":"connect failed: Network is unreachable"},
      {"hop":3,"result":[{"from":"2001:db8:ff::3","rtt":3.0,"err":1,"icmpext":{"version":2,"rfc4884":0,"obj":[{"class":1,"type":1,"mpls":[{"label":24001,"exp":0,"s":1,"ttl":1}]}]}}]},
      {"hop":4,"result":[{"from":"2001:db8::1","rtt":9.0},{"from":"2001:db8::1","rtt":7.0,"late":2},{"x":"*"}]}]}"#).unwrap();
    assert_eq!(r.af, Some(6));
    let Body::Traceroute(t) = &r.body else {
        panic!()
    };
    assert_eq!(t.proto, Some(Proto::Udp));
    assert_eq!(
        t.hops[1].error.as_deref(),
        Some("connect failed: Network is unreachable")
    );
    assert_eq!(t.hops[2].replies[0].err.as_deref(), Some("1"));
    assert_eq!(t.hops[2].replies[0].mpls, vec![24001]);
    assert!(t.destination_responded(r.dst_addr));
    // The late reply is ignored, as sagan does.
    assert_eq!(t.last_median_rtt(), Some(9.0));
    assert_eq!(t.min_rtt_from(r.dst_addr.unwrap()), Some(9.0));
    // TCP; destination silent.
    let r = parse_record(r#"{"type":"traceroute","prb_id":6,"af":4,"dst_addr":"192.0.2.1","proto":"TCP","result":[{"hop":1,"result":[{"from":"198.51.100.1","rtt":1.25}]},{"hop":255,"result":[{"x":"*"},{"x":"*"},{"x":"*"}]}]}"#).unwrap();
    let Body::Traceroute(t) = &r.body else {
        panic!()
    };
    assert_eq!(t.proto, Some(Proto::Tcp));
    assert!(!t.destination_responded(r.dst_addr));
    assert_eq!(t.last_median_rtt(), Some(1.25));
    // Resolution failure: no dst_addr, no hops.
    let r = parse_record(r#"{"type":"traceroute","prb_id":7,"dst_name":"x.example","error":"non-recoverable failure in name resolution"}"#).unwrap();
    assert!(r.dst_addr.is_none());
    // fw 1 text traceroute: broken (reported), not a panic.
    assert!(
        parse_record(r#"{"type":"traceroute","prb_id":8,"result":"1 198.51.100.1 1.0ms"}"#)
            .is_err()
    );
}

#[test]
fn dns_variants_and_http_trace() {
    // use_probe_resolver: resultset with one error entry and one answer.
    let r = parse_record(r#"{"fw":5080,"type":"dns","prb_id":3,"resultset":[
      {"time":1,"lts":5,"subid":1,"submax":2,"af":4,"dst_addr":"192.0.2.53","proto":"UDP","error":{"timeout":5000}},
      {"time":1,"lts":5,"subid":2,"submax":2,"af":4,"dst_addr":"192.0.2.54","proto":"UDP","result":{"rt":3.0,"size":60,"ANCOUNT":1,"answers":[{"TYPE":"TXT","NAME":"hostname.bind","RDATA":"ams1.example"}]}}]}"#).unwrap();
    let Body::Dns(d) = &r.body else { panic!() };
    assert_eq!(d.responses.len(), 2);
    assert_eq!(d.responses[0].error.as_deref(), Some(r#"{"timeout":5000}"#));
    assert_eq!(
        d.responses[1].server_names(),
        vec!["ams1.example".to_string()]
    );
    // A bad abuf is kept as a per-response error, not a broken record.
    let r = parse_record(r#"{"type":"dns","prb_id":4,"result":{"rt":1.0,"abuf":"AAAA"}}"#).unwrap();
    let Body::Dns(d) = &r.body else { panic!() };
    assert!(
        d.responses[0]
            .abuf_error
            .as_deref()
            .unwrap()
            .contains("truncated")
    );
    // HTTP with a trace body (tern's "which site" endpoint, lab output).
    let r = parse_record(r#"{"type":"http","prb_id":5,"result":[{"method":"GET","res":200,"rt":12.5,"body":"fl=1\nh=x\nip=192.0.2.7\ncolo=FRA\nsite=fra1\n"}]}"#).unwrap();
    let Body::Http(h) = &r.body else { panic!() };
    assert_eq!(h.results[0].trace_site().as_deref(), Some("fra1"));
    // Unknown types are kept, not analysed.
    let r = parse_record(r#"{"type":"sslcert","prb_id":5}"#).unwrap();
    assert!(matches!(r.body, Body::Other { ref kind } if kind == "sslcert"));
}

#[test]
fn real_files_read_without_loss() {
    let Some(d) = common::full_data("atlas") else {
        return;
    };
    for (f, n) in [
        ("traceroute/RIPE-Atlas-measurement-44104396.json", 911),
        ("dns/RIPE-Atlas-measurement-29083406.json", 96),
        ("dns/RIPE-Atlas-measurement-29096558.json", 96),
        ("dns/RIPE-Atlas-measurement-24980149.json", 14),
        ("dns/RIPE-Atlas-measurement-24980204.json", 14),
    ] {
        let r = read_results(&d.join(f)).unwrap();
        assert_eq!((r.records.len(), r.skipped.count), (n, 0), "{f}");
    }
    for f in common::traceroute_files() {
        let r = read_results(&f).unwrap();
        assert!(
            r.records.len() > 900 && r.skipped.count == 0,
            "{}",
            f.display()
        );
        assert!(
            r.records
                .iter()
                .all(|r| matches!(r.body, Body::Traceroute(ref t) if t.proto == Some(Proto::Icmp)))
        );
    }
    let p = read_probes(&d.join("probes/20171103.json.bz2")).unwrap();
    assert_eq!(p.probes.len(), 23_810);
    let one = p.get(1).unwrap();
    assert_eq!(
        (one.country.as_deref(), one.location()),
        (Some("NL"), Some((52.3875, 4.8875)))
    );
}
