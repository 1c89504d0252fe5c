//! Framing (RFC 4271 §4.1) and the bodies of OPEN, NOTIFICATION, KEEPALIVE and ROUTE-REFRESH.
//! UPDATE bodies are in `update_decode.rs` and `update_encode.rs`.

use std::net::Ipv4Addr;

use tern_types::Asn;

use super::error::{DecodeError, DecodeErrorKind as K, EncodeError};
use super::notification::subcode;
use super::open::cap_code;
use super::reader::Reader;
use super::{
    AS_TRANS, BGP_VERSION, Capability, Codec, ErrorCode, HEADER_LEN, MAX_MESSAGE_LEN, Message,
    Notification, Open, Role, RouteRefresh, RouteRefreshSubtype, message_type, update_decode,
    update_encode,
};

/// OPEN optional parameter type for capabilities (RFC 5492 §4).
const PARAM_CAPABILITIES: u8 = 2;
/// RFC 9072 §2: an optional parameters length of 255 followed by this type means the
/// extended format (2-octet lengths).
const PARAM_EXTENDED_LENGTH: u8 = 255;

/// Decodes one message from the front of `buf`.
///
/// Returns `Ok(None)` when `buf` does not yet hold a whole message, `Ok(Some((message,
/// consumed)))` when it does. On `Err`, [`DecodeError::consumed`] is the message length when the
/// framing was sound, so the caller can skip the message when the error is not session-fatal.
pub fn decode(buf: &[u8], ctx: &Codec) -> Result<Option<(Message, usize)>, DecodeError> {
    let mut r = Reader::new(buf);
    let (Some(marker), Some(length), Some(ty)) = (r.take(16), r.u16(), r.u8()) else {
        // Report a broken marker as soon as we have it, even before the rest of the header.
        if buf.iter().take(16).any(|&b| b != 0xff) {
            return Err(header_error(
                K::BadMarker,
                subcode::header::CONNECTION_NOT_SYNCHRONIZED,
                vec![],
            ));
        }
        return Ok(None);
    };
    if marker.iter().any(|&b| b != 0xff) {
        return Err(header_error(
            K::BadMarker,
            subcode::header::CONNECTION_NOT_SYNCHRONIZED,
            vec![],
        ));
    }
    let len = usize::from(length);
    // RFC 8654 §4: OPEN and KEEPALIVE stay within 4096 octets even with extended messages.
    let max = match ty {
        message_type::OPEN | message_type::KEEPALIVE => MAX_MESSAGE_LEN,
        _ => ctx.max_message_len(),
    };
    let min = match ty {
        message_type::OPEN => HEADER_LEN + 10,
        message_type::UPDATE => HEADER_LEN + 4,
        message_type::NOTIFICATION => HEADER_LEN + 2,
        message_type::KEEPALIVE => HEADER_LEN,
        message_type::ROUTE_REFRESH => HEADER_LEN,
        other => {
            return Err(header_error(
                K::BadType(other),
                subcode::header::BAD_MESSAGE_TYPE,
                vec![other],
            ));
        }
    };
    let bad_len = len < min || len > max || (ty == message_type::KEEPALIVE && len != HEADER_LEN);
    if bad_len {
        return Err(header_error(
            K::BadLength {
                length,
                message_type: ty,
            },
            subcode::header::BAD_MESSAGE_LENGTH,
            length.to_be_bytes().to_vec(),
        ));
    }
    let Some(msg) = buf.get(..len) else {
        return Ok(None);
    };
    let body = msg.get(HEADER_LEN..).unwrap_or_default();
    let decoded = match ty {
        message_type::OPEN => decode_open(body).map(Message::Open),
        message_type::UPDATE => update_decode::decode_update(body, ctx).map(Message::Update),
        message_type::NOTIFICATION => Ok(decode_notification(body)),
        message_type::KEEPALIVE => Ok(Message::Keepalive),
        _ => decode_route_refresh(msg, length),
    };
    decoded.map(|m| Some((m, len))).map_err(|mut e| {
        e.consumed = len;
        e
    })
}

fn header_error(kind: K, sub: u8, data: Vec<u8>) -> DecodeError {
    DecodeError::reset(kind, ErrorCode::MessageHeader, sub, data)
}

fn open_error(kind: K, sub: u8, data: Vec<u8>) -> DecodeError {
    DecodeError::reset(kind, ErrorCode::Open, sub, data)
}

fn decode_open(body: &[u8]) -> Result<Open, DecodeError> {
    let mut r = Reader::new(body);
    let short = || {
        open_error(
            K::MalformedOpen("fixed part"),
            subcode::open::UNSPECIFIC,
            vec![],
        )
    };
    let version = r.u8().ok_or_else(short)?;
    let as2 = r.u16().ok_or_else(short)?;
    let hold_time = r.u16().ok_or_else(short)?;
    let bgp_id = r.ipv4().ok_or_else(short)?;
    let opt_len = r.u8().ok_or_else(short)?;
    if version != BGP_VERSION {
        return Err(open_error(
            K::UnsupportedVersion(version),
            subcode::open::UNSUPPORTED_VERSION,
            u16::from(BGP_VERSION).to_be_bytes().to_vec(),
        ));
    }
    let mut capabilities = Vec::new();
    // RFC 9072 §2: non-extended length 255 and a first parameter type of 255.
    let rest = r.rest();
    let extended = opt_len == 255 && rest.first() == Some(&PARAM_EXTENDED_LENGTH);
    let mut params = Reader::new(rest);
    let params_len = if extended {
        params.u8();
        usize::from(params.u16().ok_or_else(short)?)
    } else {
        usize::from(opt_len)
    };
    let malformed = || {
        open_error(
            K::MalformedOpen("optional parameters"),
            subcode::open::UNSPECIFIC,
            vec![],
        )
    };
    if params.remaining() != params_len {
        return Err(malformed());
    }
    while !params.is_empty() {
        let ty = params.u8().ok_or_else(malformed)?;
        let len = if extended {
            params.u16()
        } else {
            params.u8().map(u16::from)
        };
        let value = params
            .take(usize::from(len.ok_or_else(malformed)?))
            .ok_or_else(malformed)?;
        if ty != PARAM_CAPABILITIES {
            return Err(open_error(
                K::UnsupportedOptionalParameter(ty),
                subcode::open::UNSUPPORTED_OPTIONAL_PARAMETER,
                vec![],
            ));
        }
        decode_capabilities(value, &mut capabilities)?;
    }
    let open = Open {
        version,
        my_as: Asn(u32::from(as2)),
        hold_time,
        bgp_id,
        capabilities,
    };
    let my_as = open.four_octet_as().unwrap_or(open.my_as);
    if my_as.0 == 0 || as2 == 0 {
        return Err(open_error(
            K::BadPeerAs(my_as),
            subcode::open::BAD_PEER_AS,
            vec![],
        ));
    }
    if hold_time == 1 || hold_time == 2 {
        return Err(open_error(
            K::UnacceptableHoldTime(hold_time),
            subcode::open::UNACCEPTABLE_HOLD_TIME,
            vec![],
        ));
    }
    if bgp_id == Ipv4Addr::UNSPECIFIED {
        return Err(open_error(
            K::BadBgpId,
            subcode::open::BAD_BGP_IDENTIFIER,
            vec![],
        ));
    }
    Ok(Open { my_as, ..open })
}

/// Capabilities of one optional parameter (RFC 5492 §4). A known code with an unexpected
/// value length is kept as [`Capability::Unknown`] rather than failing the session.
fn decode_capabilities(value: &[u8], out: &mut Vec<Capability>) -> Result<(), DecodeError> {
    let mut r = Reader::new(value);
    let malformed = || {
        open_error(
            K::MalformedOpen("capability"),
            subcode::open::UNSPECIFIC,
            vec![],
        )
    };
    while !r.is_empty() {
        let code = r.u8().ok_or_else(malformed)?;
        let len = r.u8().ok_or_else(malformed)?;
        let data = r.take(usize::from(len)).ok_or_else(malformed)?;
        let mut d = Reader::new(data);
        let cap = match (code, data.len()) {
            (cap_code::MULTIPROTOCOL, 4) => match (d.u16(), d.u8(), d.u8()) {
                (Some(afi), Some(_reserved), Some(safi)) => Capability::Multiprotocol { afi, safi },
                _ => return Err(malformed()),
            },
            (cap_code::ROUTE_REFRESH, 0) => Capability::RouteRefresh,
            (cap_code::ENHANCED_ROUTE_REFRESH, 0) => Capability::EnhancedRouteRefresh,
            (cap_code::EXTENDED_MESSAGE, 0) => Capability::ExtendedMessage,
            (cap_code::FOUR_OCTET_AS, 4) => {
                Capability::FourOctetAs(Asn(d.u32().ok_or_else(malformed)?))
            }
            (cap_code::ROLE, 1) => Capability::Role(Role::from_code(d.u8().ok_or_else(malformed)?)),
            (cap_code::GRACEFUL_RESTART, _) => Capability::GracefulRestart(data.to_vec()),
            (cap_code::ADD_PATH, _) => Capability::AddPath(data.to_vec()),
            _ => Capability::Unknown {
                code,
                data: data.to_vec(),
            },
        };
        out.push(cap);
    }
    Ok(())
}

fn decode_notification(body: &[u8]) -> Message {
    // The header check guarantees at least two octets.
    let mut r = Reader::new(body);
    let code = r.u8().unwrap_or_default();
    let subcode = r.u8().unwrap_or_default();
    Message::Notification(Notification {
        code,
        subcode,
        data: r.rest().to_vec(),
    })
}

fn decode_route_refresh(msg: &[u8], length: u16) -> Result<Message, DecodeError> {
    let mut r = Reader::new(msg.get(HEADER_LEN..).unwrap_or_default());
    match (r.u16(), r.u8(), r.u8(), r.is_empty()) {
        (Some(afi), Some(subtype), Some(safi), true) => Ok(Message::RouteRefresh(RouteRefresh {
            afi,
            safi,
            subtype: RouteRefreshSubtype::from_code(subtype),
        })),
        // RFC 7313 §5: the data is the whole message.
        _ => Err(DecodeError::reset(
            K::RouteRefreshLength(length),
            ErrorCode::RouteRefresh,
            subcode::route_refresh::INVALID_MESSAGE_LENGTH,
            msg.to_vec(),
        )),
    }
}

/// Appends one encoded message to `out`. On error nothing is appended.
pub fn encode(msg: &Message, ctx: &Codec, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let start = out.len();
    out.extend_from_slice(&[0xff; 16]);
    out.extend_from_slice(&[0, 0, msg.type_code()]);
    let body = match msg {
        Message::Open(o) => encode_open(o, out),
        Message::Update(u) => update_encode::encode_update(u, ctx, out),
        Message::Notification(n) => {
            out.extend_from_slice(&[n.code, n.subcode]);
            out.extend_from_slice(&n.data);
            Ok(())
        }
        Message::Keepalive => Ok(()),
        Message::RouteRefresh(rr) => {
            out.extend_from_slice(&rr.afi.to_be_bytes());
            out.extend_from_slice(&[rr.subtype.code(), rr.safi]);
            Ok(())
        }
    };
    let len = out.len() - start;
    let max = match msg {
        Message::Open(_) | Message::Keepalive => MAX_MESSAGE_LEN,
        _ => ctx.max_message_len(),
    };
    let result = body.and_then(|()| {
        if len > max {
            return Err(EncodeError::TooLong { length: len, max });
        }
        // len <= max <= 65535.
        let [hi, lo] = (len as u16).to_be_bytes();
        out[start + 16] = hi;
        out[start + 17] = lo;
        Ok(())
    });
    if result.is_err() {
        out.truncate(start);
    }
    result
}

fn encode_open(o: &Open, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let as2 = if o.my_as.is_two_octet() {
        o.my_as.0 as u16
    } else {
        if o.four_octet_as().is_none() {
            return Err(EncodeError::MissingFourOctetAs(o.my_as));
        }
        AS_TRANS.0 as u16
    };
    out.push(o.version);
    out.extend_from_slice(&as2.to_be_bytes());
    out.extend_from_slice(&o.hold_time.to_be_bytes());
    out.extend_from_slice(&o.bgp_id.octets());
    let len_at = out.len();
    out.push(0);
    // One capability per optional parameter, as BIRD, GoBGP and FRR do.
    for cap in &o.capabilities {
        let (code, value) = capability_value(cap);
        if value.len() > 253 {
            return Err(EncodeError::FieldTooLong {
                what: "capability",
                length: value.len(),
                max: 253,
            });
        }
        out.extend_from_slice(&[
            PARAM_CAPABILITIES,
            value.len() as u8 + 2,
            code,
            value.len() as u8,
        ]);
        out.extend_from_slice(&value);
    }
    let params_len = out.len() - len_at - 1;
    // RFC 9072 extended parameters are not generated; 254 keeps clear of their escape value.
    if params_len > 254 {
        return Err(EncodeError::FieldTooLong {
            what: "OPEN optional parameters",
            length: params_len,
            max: 254,
        });
    }
    out[len_at] = params_len as u8;
    Ok(())
}

fn capability_value(cap: &Capability) -> (u8, Vec<u8>) {
    match cap {
        Capability::Multiprotocol { afi, safi } => {
            let [a, b] = afi.to_be_bytes();
            (cap_code::MULTIPROTOCOL, vec![a, b, 0, *safi])
        }
        Capability::RouteRefresh => (cap_code::ROUTE_REFRESH, vec![]),
        Capability::EnhancedRouteRefresh => (cap_code::ENHANCED_ROUTE_REFRESH, vec![]),
        Capability::ExtendedMessage => (cap_code::EXTENDED_MESSAGE, vec![]),
        Capability::FourOctetAs(asn) => (cap_code::FOUR_OCTET_AS, asn.0.to_be_bytes().to_vec()),
        Capability::Role(role) => (cap_code::ROLE, vec![role.code()]),
        Capability::GracefulRestart(v) => (cap_code::GRACEFUL_RESTART, v.clone()),
        Capability::AddPath(v) => (cap_code::ADD_PATH, v.clone()),
        Capability::Unknown { code, data } => (*code, data.clone()),
    }
}
