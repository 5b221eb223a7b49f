//! Outgoing webhooks.
//!
//! A target must be `http` or `https` with a host name or address; unless the operator
//! allows it, every address the name resolves to must be public: loopback, private,
//! link-local, shared (100.64/10), unique-local, multicast and unspecified addresses are
//! refused, so a webhook cannot reach into the network Nansen runs in. The check is made
//! again when sending, and the connection goes to the addresses checked, so a name that
//! changes its answer in between (DNS rebinding) gains nothing.
//!
//! Each POST carries `X-Nansen-Signature: sha256=HEX`, the HMAC-SHA256 under the
//! subscription's secret of `TIMESTAMP.BODY`, with the timestamp (Unix seconds) in
//! `X-Nansen-Timestamp`; a receiver recomputes it and refuses old timestamps.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WebhookError {
    #[error("{0:?} is not a web address: write http://HOST/PATH or https://HOST/PATH")]
    BadUrl(String),
    #[error("{host} resolves to {addr}, a loopback or private address; the operator has not allowed those")]
    Private { host: String, addr: IpAddr },
    #[error("cannot resolve {0}")]
    Unresolved(String),
    #[error("the receiver answered {0}")]
    Status(u16),
    #[error("{0}")]
    Transport(String),
}

/// The host and port of a target, after checking its form.
fn host_port(url: &str) -> Result<(String, u16), WebhookError> {
    let bad = || WebhookError::BadUrl(url.to_string());
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let default = match scheme.to_ascii_lowercase().as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err(bad()),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty()
        || authority.contains('@')
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(bad)?;
        (
            h.to_string(),
            after
                .strip_prefix(':')
                .map(str::parse)
                .transpose()
                .map_err(|_| bad())?,
        )
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p.parse().map_err(|_| bad())?)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host, port.unwrap_or(default)))
}

/// Whether an address is reachable only from inside a network or machine.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast()
                || v4.is_documentation() || (a == 100 && (64..128).contains(&b)) || a == 0 || a >= 240
                // Benchmarking (198.18.0.0/15) and IETF protocol assignments (192.0.0.0/24).
                || (a == 198 && (b == 18 || b == 19)) || (a == 192 && b == 0 && c == 0)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            // IPv4-compatible (::a.b.c.d), an old way to write an IPv4 address.
            if s[..6] == [0; 6] {
                return true;
            }
            // Addresses that translate to IPv4 somewhere else (NAT64 64:ff9b::/96 and
            // 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32) and documentation
            // (2001:db8::/32): a webhook has no business there.
            let translated = (s[0] == 0x64 && s[1] == 0xff9b)
                || s[0] == 0x2002
                || (s[0] == 0x2001 && (s[1] == 0 || s[1] == 0xdb8));
            translated
                || v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Checks a target and returns the addresses it may be sent to.
pub fn check_target(url: &str, allow_private: bool) -> Result<Vec<SocketAddr>, WebhookError> {
    let (host, port) = host_port(url)?;
    let addrs: Vec<SocketAddr> = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|_| WebhookError::Unresolved(host.clone()))?
        .collect();
    if addrs.is_empty() {
        return Err(WebhookError::Unresolved(host));
    }
    if !allow_private {
        if let Some(a) = addrs.iter().find(|a| is_private(a.ip())) {
            return Err(WebhookError::Private { host, addr: a.ip() });
        }
    }
    Ok(addrs)
}

/// `sha256=HEX` of `TIMESTAMP.BODY` under `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// One delivery attempt.
pub struct Delivery<'a> {
    pub url: &'a str,
    pub secret: &'a str,
    pub event: &'a str,
    pub id: i64,
    pub body: &'a str,
    pub timestamp: i64,
}

/// POSTs a signed delivery, connecting only to addresses that pass [`check_target`] now.
/// Any 2xx answer is success; redirects are not followed.
pub fn send(d: &Delivery, allow_private: bool, timeout: Duration) -> Result<u16, WebhookError> {
    let checked = check_target(d.url, allow_private)?;
    let agent = ureq::AgentBuilder::new()
        .timeout(timeout)
        .redirects(0)
        .resolver(move |_: &str| Ok(checked.clone()))
        .build();
    let result = agent
        .post(d.url)
        .set("Content-Type", "application/json")
        .set("User-Agent", "Nansen-Webhooks/1")
        .set("X-Nansen-Event", d.event)
        .set("X-Nansen-Delivery", &d.id.to_string())
        .set("X-Nansen-Timestamp", &d.timestamp.to_string())
        .set(
            "X-Nansen-Signature",
            &signature(d.secret, d.timestamp, d.body),
        )
        .send_string(d.body);
    match result {
        Ok(r) if (200..300).contains(&r.status()) => Ok(r.status()),
        Ok(r) => Err(WebhookError::Status(r.status())),
        Err(ureq::Error::Status(code, _)) => Err(WebhookError::Status(code)),
        Err(e) => Err(WebhookError::Transport(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_private_and_link_local_targets_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1/hook",
            "http://10.1.2.3/x",
            "https://192.168.0.5",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:8080/",
            "http://100.64.0.1/",
            "http://[fd00::1]/",
            "http://localhost:9/",
            "http://[::127.0.0.1]/",
            "http://[::a9fe:a9fe]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[2002:7f00:1::]/",
            "http://198.18.0.1/",
            "http://198.19.255.1/",
            "http://192.0.0.8/",
            "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
        ] {
            assert!(
                matches!(check_target(url, false), Err(WebhookError::Private { .. })),
                "{url}"
            );
        }
        assert!(check_target("http://127.0.0.1:9/hook", true).is_ok());
        assert!(
            check_target("https://8.8.8.8/hook", false).is_ok(),
            "a public address"
        );
    }

    #[test]
    fn targets_must_be_plain_web_addresses() {
        for url in [
            "ftp://example.org/",
            "example.org",
            "http://user@127.0.0.1/",
            "http:///path",
            "http://h:port/",
        ] {
            assert!(
                matches!(check_target(url, true), Err(WebhookError::BadUrl(_))),
                "{url}"
            );
        }
    }

    /// The expected value is Python's `hmac.new(b"Jefe", b"0.what do ya want for nothing?",
    /// hashlib.sha256).hexdigest()`.
    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        let sig = signature("Jefe", 0, "what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=37f471929915ccd2cbbe79feb84ffcff4f2bb25e15fc41c2506687331ae179cc"
        );
        assert_ne!(
            sig,
            signature("Jefe", 1, "what do ya want for nothing?"),
            "the timestamp is signed"
        );
    }
}
