//! For tests: an SMTP server on a local port that accepts every message and keeps it, so a
//! test reads what Nansen sent through a real SMTP conversation.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// A message as the server received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body, as sent.
    pub data: String,
}

impl Received {
    /// The value of header `name` (unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// The body as text, quoted-printable undone.
    pub fn text(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        let quoted = self
            .header("Content-Transfer-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"));
        if !quoted {
            return body.replace("\r\n", "\n");
        }
        let joined = body.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match (bytes[i], hex) {
                (b'=', Some(b)) => {
                    out.push(b);
                    i += 3;
                }
                (b, _) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).replace("\r\n", "\n")
    }
}

/// The server; it runs until the process ends.
pub struct SmtpServer {
    /// `smtp://127.0.0.1:PORT`, as `--smtp-url` takes it.
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        let url = format!("smtp://{}", listener.local_addr().expect("a bound address"));
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let keep = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let keep = keep.clone();
                std::thread::spawn(move || {
                    let _ = converse(stream, &keep);
                });
            }
        });
        SmtpServer { url, received }
    }

    /// Every message received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

fn converse(stream: TcpStream, keep: &Mutex<Vec<Received>>) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    out.write_all(b"220 localhost ESMTP test server\r\n")?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let verb = command.get(..4).unwrap_or("").to_ascii_uppercase();
        let address = || {
            command
                .split_once(':')
                .map(|(_, a)| a.trim().trim_start_matches('<'))
                .and_then(|a| a.split('>').next())
                .unwrap_or("")
                .to_string()
        };
        match verb.as_str() {
            "EHLO" => out.write_all(b"250-localhost\r\n250 8BITMIME\r\n")?,
            "HELO" | "NOOP" => out.write_all(b"250 OK\r\n")?,
            "MAIL" => {
                from = address();
                to.clear();
                out.write_all(b"250 OK\r\n")?;
            }
            "RCPT" => {
                to.push(address());
                out.write_all(b"250 OK\r\n")?;
            }
            "RSET" => {
                to.clear();
                out.write_all(b"250 OK\r\n")?;
            }
            "DATA" => {
                out.write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if input.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    // Dot-stuffing undone.
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                keep.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(Received {
                        from: from.clone(),
                        to: std::mem::take(&mut to),
                        data,
                    });
                out.write_all(b"250 OK kept\r\n")?;
            }
            "QUIT" => {
                out.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => out.write_all(b"502 not implemented\r\n")?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Mail, MailError, Mailer};
    use std::time::Duration;

    #[test]
    fn a_message_goes_through_a_real_smtp_conversation_to_every_addressee() {
        let server = SmtpServer::start();
        let mailer = Mailer::new(
            &server.url,
            "Nansen <nansen@euaa.europa.eu>",
            Duration::from_secs(5),
        )
        .unwrap();
        let long_link = format!(
            "http://127.0.0.1:8080/templates/euaa/eps/form?period=2026-11&reporter=bamf&{}",
            "x".repeat(40)
        );
        mailer
            .send(&Mail {
                to: vec!["a@bamf.de".into(), "b@bamf.de".into()],
                subject: "Reminder: EPS 2026-11 — due on 17 December".into(),
                body: format!("Dear colleague,\n\nFill it in at\n{long_link}\n"),
            })
            .unwrap();
        let got = server.received();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].from, "nansen@euaa.europa.eu");
        assert_eq!(got[0].to, vec!["a@bamf.de", "b@bamf.de"]);
        assert!(got[0].text().contains(&long_link), "{}", got[0].data);
        assert!(got[0].header("Subject").is_some());
    }

    #[test]
    fn an_address_that_is_not_one_is_refused_before_anything_is_sent() {
        let server = SmtpServer::start();
        let mailer =
            Mailer::new(&server.url, "nansen@euaa.europa.eu", Duration::from_secs(5)).unwrap();
        let e = mailer
            .send(&Mail {
                to: vec!["not an address".into()],
                subject: "x".into(),
                body: "y".into(),
            })
            .unwrap_err();
        assert!(matches!(e, MailError::Address(_)), "{e}");
        assert!(server.received().is_empty());
        assert!(matches!(
            Mailer::new("ftp://x", "nansen@euaa.europa.eu", Duration::from_secs(1)),
            Err(MailError::Url(_))
        ));
    }
}
