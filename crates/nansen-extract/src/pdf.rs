//! PDF text through poppler's `pdftotext`, in a child process bounded in time and memory.

use crate::{ExtractError, Extracted, Limits};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let mut file = tempfile::Builder::new()
        .suffix(".pdf")
        .tempfile()
        .map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.flush().map_err(io)?;
    // Reading order (not -layout), so the columns of a page come one after the other; with
    // the document's title and metadata ahead of the text.
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--as={}", limits.memory))
        .arg(format!("--cpu={}", limits.seconds))
        .arg("--")
        .arg("pdftotext")
        .args(["-htmlmeta", "-enc", "UTF-8", "-eol", "unix"])
        .arg(file.path())
        .arg("-")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Ok(Extracted {
                no_text: Some(format!(
                    "the PDF reader could not be started ({e}); the file is kept unread"
                )),
                ..Default::default()
            })
        }
    };
    let cap = limits.text as u64 * 2;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = (&mut stdout).take(cap).read_to_end(&mut out);
        // Drain the rest so the child never blocks on a full pipe.
        let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        out
    });
    let errors = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = (&mut stderr).take(64 << 10).read_to_end(&mut out);
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        out
    });
    let deadline = Instant::now() + Duration::from_secs(limits.seconds);
    let status = loop {
        if let Some(status) = child.try_wait().map_err(io)? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = reader.join().unwrap_or_default();
    let err = String::from_utf8_lossy(&errors.join().unwrap_or_default()).into_owned();
    let Some(status) = status else {
        return Err(ExtractError::Refused(format!(
            "the PDF could not be read within {} s: it is malformed or built to keep a reader busy; it was not stored",
            limits.seconds
        )));
    };
    if status.success() {
        return Ok(from_html_meta(&String::from_utf8_lossy(&out)));
    }
    let first = err
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string();
    if err.contains("Incorrect password") || status.code() == Some(3) {
        return Ok(Extracted {
            no_text: Some(
                "the PDF is password-protected: it is kept, but its text cannot be read".into(),
            ),
            ..Default::default()
        });
    }
    if status.code().is_none() || err.contains("bad_alloc") || err.contains("Out of memory") {
        return Err(ExtractError::Refused(format!(
            "reading the PDF needed more than {} MB of memory or {} s of processor time: it was not stored",
            limits.memory >> 20,
            limits.seconds
        )));
    }
    Err(ExtractError::Refused(format!(
        "the PDF cannot be read: {}",
        if first.is_empty() {
            "the reader gave up"
        } else {
            first.as_str()
        }
    )))
}

/// The text and title out of `pdftotext -htmlmeta`: a head with the title, the text in `<pre>`.
fn from_html_meta(out: &str) -> Extracted {
    let between = |from: &str, to: &str, last: bool| -> Option<&str> {
        let start = out.find(from)? + from.len();
        let end = if last {
            out.rfind(to)?
        } else {
            start + out[start..].find(to)?
        };
        out.get(start..end)
    };
    let unescape = |s: &str| {
        quick_xml::escape::unescape(s)
            .map(|c| c.into_owned())
            .unwrap_or_else(|_| s.to_string())
    };
    let head_end = out.find("</head>").unwrap_or(0);
    let title = between("<title>", "</title>", false)
        .filter(|_| out.find("<title>").is_some_and(|i| i < head_end))
        .map(unescape);
    let text = between("<pre>", "</pre>", true)
        .map(unescape)
        .unwrap_or_default();
    Extracted {
        text,
        title,
        ..Default::default()
    }
}

fn io(e: std::io::Error) -> ExtractError {
    ExtractError::Refused(format!("the PDF could not be handed to its reader: {e}"))
}
