//! The embedded DNS server a task sees at `127.0.0.11:53` (docker's address), one UDP socket
//! opened inside each task's network namespace. It holds no rule: each question goes to the
//! daemon loop, which asks core (`Node::resolve`: `NAME` → the service's VIP on a network
//! the task shares with it, `tasks.NAME` → the addresses of its running tasks; nothing on
//! ingress). A name core does not know gets NXDOMAIN (there is no upstream resolver to ask).

use crate::transport::BoxFuture;
use std::net::Ipv4Addr;
use std::sync::Arc;
#[cfg(not(madsim))]
use tracing::debug;

/// Asks the node: `(container, name)` → addresses.
pub type Resolve = Arc<dyn Fn(String, String) -> BoxFuture<Vec<Ipv4Addr>> + Send + Sync>;

/// Where tasks find the server, as in docker.
pub const SERVER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);
/// What `/etc/resolv.conf` says inside a task.
pub const RESOLV_CONF: &str = "nameserver 127.0.0.11\noptions ndots:0\n";

const TYPE_A: u16 = 1;
const CLASS_IN: u16 = 1;
/// Answers are cached briefly: tasks come and go.
const TTL_S: u32 = 5;

/// One question: `(id, name in lower case, type, class, end of the question section)`.
#[derive(Debug, PartialEq, Eq)]
pub struct Question {
    pub id: u16,
    pub name: String,
    pub qtype: u16,
    pub qclass: u16,
    end: usize,
}

/// Parses a standard query with exactly one question; anything else is `None` (dropped).
pub fn parse_query(packet: &[u8]) -> Option<Question> {
    if packet.len() < 12 {
        return None;
    }
    let id = u16::from_be_bytes([packet[0], packet[1]]);
    let is_query = packet[2] & 0x80 == 0 && (packet[2] >> 3) & 0x0f == 0;
    let qdcount = u16::from_be_bytes([packet[4], packet[5]]);
    if !is_query || qdcount != 1 {
        return None;
    }
    let mut at = 12;
    let mut labels: Vec<String> = Vec::new();
    loop {
        let len = *packet.get(at)? as usize;
        at += 1;
        if len == 0 {
            break;
        }
        if len > 63 || labels.len() > 127 {
            return None; // compression pointers do not occur in a question; long names are bogus
        }
        let label = packet.get(at..at + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        at += len;
    }
    let qtype = u16::from_be_bytes([*packet.get(at)?, *packet.get(at + 1)?]);
    let qclass = u16::from_be_bytes([*packet.get(at + 2)?, *packet.get(at + 3)?]);
    Some(Question { id, name: labels.join("."), qtype, qclass, end: at + 4 })
}

/// The response to `query` (whose question is `q`): A records for `ips` when the question asks
/// for A, none for other types of a known name, NXDOMAIN for an unknown name.
pub fn answer(query: &[u8], q: &Question, ips: &[Ipv4Addr]) -> Vec<u8> {
    let wants_a = q.qtype == TYPE_A && q.qclass == CLASS_IN;
    let records: &[Ipv4Addr] = if wants_a { ips } else { &[] };
    let rcode: u8 = if ips.is_empty() { 3 } else { 0 };
    let mut out = Vec::with_capacity(q.end + 16 * records.len());
    out.extend_from_slice(&q.id.to_be_bytes());
    // QR, opcode 0, AA, RD copied from the query; RA; rcode.
    out.push(0x80 | 0x04 | (query[2] & 0x01));
    out.push(0x80 | rcode);
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(records.len() as u16).to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&query[12..q.end]);
    for ip in records {
        out.extend_from_slice(&[0xc0, 12]); // the name: a pointer to the question's
        out.extend_from_slice(&TYPE_A.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&TTL_S.to_be_bytes());
        out.extend_from_slice(&4u16.to_be_bytes());
        out.extend_from_slice(&ip.octets());
    }
    out
}

/// Serves one task's questions until the task is removed (the caller aborts this future).
#[cfg(not(madsim))]
pub async fn serve(socket: tokio::net::UdpSocket, container: String, resolve: Resolve) {
    let mut buf = [0u8; 512];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf).await else { return };
        let query = &buf[..n];
        let Some(q) = parse_query(query) else { continue };
        let ips = resolve(container.clone(), q.name.clone()).await;
        debug!(%container, name = %q.name, ?ips, "dns");
        let _ = socket.send_to(&answer(query, &q, &ips), from).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query as busybox's nslookup sends it.
    fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
        let mut q = id.to_be_bytes().to_vec();
        q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&CLASS_IN.to_be_bytes());
        q
    }

    #[test]
    fn a_question_gets_its_a_records() {
        let packet = query(0x1234, "Tasks.Web", TYPE_A);
        let q = parse_query(&packet).unwrap();
        assert_eq!((q.id, q.name.as_str(), q.qtype), (0x1234, "tasks.web", TYPE_A));
        let ips = [Ipv4Addr::new(198, 18, 1, 3), Ipv4Addr::new(198, 18, 1, 4)];
        let r = answer(&packet, &q, &ips);
        assert_eq!(&r[..2], &[0x12, 0x34]);
        assert_eq!(r[3] & 0x0f, 0, "NOERROR");
        assert_eq!(u16::from_be_bytes([r[6], r[7]]), 2, "two answers");
        assert_eq!(&r[r.len() - 4..], &[198, 18, 1, 4]);
        assert_eq!(r.len(), packet.len() + 2 * 16);
    }

    #[test]
    fn unknown_names_are_nxdomain_and_other_types_get_no_records() {
        let packet = query(7, "nowhere", TYPE_A);
        let r = answer(&packet, &parse_query(&packet).unwrap(), &[]);
        assert_eq!(r[3] & 0x0f, 3);
        let aaaa = query(8, "web", 28);
        let r = answer(&aaaa, &parse_query(&aaaa).unwrap(), &[Ipv4Addr::new(198, 18, 1, 2)]);
        assert_eq!((r[3] & 0x0f, u16::from_be_bytes([r[6], r[7]])), (0, 0));
    }

    #[test]
    fn garbage_is_dropped() {
        assert_eq!(parse_query(&[1, 2, 3]), None);
        let mut response = query(1, "web", TYPE_A);
        response[2] |= 0x80;
        assert_eq!(parse_query(&response), None);
        let mut truncated = query(1, "web", TYPE_A);
        truncated.truncate(15);
        assert_eq!(parse_query(&truncated), None);
    }
}
