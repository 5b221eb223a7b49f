//! Bytes to text: encoding detection (UTF-8, UTF-8 with BOM, Windows-1252 / Latin-1), a
//! streaming pre-scan that bounds line length, and delimiter sniffing.

use crate::{ImportError, Problem};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

/// The longest line we accept; a longer one is almost always a file with no line ends.
pub const MAX_LINE: usize = 16 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Windows1252,
}

/// Reads the whole file once in fixed-size blocks: is it UTF-8, and is any line too long?
pub fn prescan(path: &Path) -> Result<Encoding, ImportError> {
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = Vec::new();
    let (mut line_len, mut line_no, mut utf8, mut first, mut bom) =
        (0usize, 1u64, true, true, false);
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let block = &buf[..n];
        if first {
            bom = block.starts_with(&[0xEF, 0xBB, 0xBF]);
            first = false;
        }
        let mut last = 0usize;
        let too_long = |line_no| {
            ImportError::refused(
                "the file has a line longer than 16 MiB with no line end",
                vec![Problem::new(
                    line_no,
                    "",
                    "",
                    "line longer than 16 MiB: this is not a table of records",
                )],
            )
        };
        for nl in memchr::memchr_iter(b'\n', block) {
            if line_len + (nl - last) > MAX_LINE {
                return Err(too_long(line_no));
            }
            line_len = 0;
            line_no += 1;
            last = nl + 1;
        }
        line_len += block.len() - last;
        if line_len > MAX_LINE {
            return Err(too_long(line_no));
        }
        if utf8 {
            carry.extend_from_slice(block);
            match std::str::from_utf8(&carry) {
                Ok(_) => carry.clear(),
                Err(e) if e.error_len().is_none() => {
                    let keep = carry.split_off(e.valid_up_to());
                    carry = keep;
                }
                Err(_) => utf8 = false,
            }
        }
    }
    Ok(match (utf8 && carry.is_empty(), bom) {
        (true, true) => Encoding::Utf8Bom,
        (true, false) => Encoding::Utf8,
        _ => Encoding::Windows1252,
    })
}

/// A reader yielding UTF-8, whatever the file's encoding.
pub fn utf8_reader(path: &Path, enc: Encoding) -> io::Result<Box<dyn Read>> {
    let mut f = BufReader::with_capacity(1 << 20, File::open(path)?);
    Ok(match enc {
        Encoding::Utf8 => Box::new(f),
        Encoding::Utf8Bom => {
            let mut bom = [0u8; 3];
            f.read_exact(&mut bom)?;
            Box::new(f)
        }
        Encoding::Windows1252 => Box::new(Transcode {
            inner: f,
            decoder: encoding_rs::WINDOWS_1252.new_decoder_without_bom_handling(),
            raw: vec![0u8; 1 << 16],
            out: String::new(),
            pos: 0,
            done: false,
        }),
    })
}

struct Transcode<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    raw: Vec<u8>,
    out: String,
    pos: usize,
    done: bool,
}

impl<R: Read> Read for Transcode<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.out.len() {
            if self.done {
                return Ok(0);
            }
            let n = self.inner.read(&mut self.raw)?;
            self.out.clear();
            self.pos = 0;
            let last = n == 0;
            self.out.reserve(n * 3 + 16);
            let (_, _, _) = self
                .decoder
                .decode_to_string(&self.raw[..n], &mut self.out, last);
            self.done = last;
        }
        let bytes = &self.out.as_bytes()[self.pos..];
        let k = bytes.len().min(buf.len());
        buf[..k].copy_from_slice(&bytes[..k]);
        self.pos += k;
        Ok(k)
    }
}

/// Picks the delimiter (comma, semicolon, tab or pipe) that splits the first lines into
/// the most columns, consistently.
pub fn sniff_delimiter(head: &str) -> u8 {
    let lines: Vec<&str> = head
        .lines()
        .take(30)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let mut best = (b',', 0usize);
    for d in [b',', b';', b'\t', b'|'] {
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(d)
            .has_headers(false)
            .flexible(true)
            .from_reader(head.as_bytes());
        let counts: Vec<usize> = rdr
            .records()
            .take(lines.len().max(1))
            .filter_map(Result::ok)
            .map(|r| r.len())
            .collect();
        let Some(&min) = counts.iter().min() else {
            continue;
        };
        if min > best.1 {
            best = (d, min);
        }
    }
    best.0
}

/// The first `limit` bytes of the file as text (for detection), cut at a line end.
pub fn head(path: &Path, enc: Encoding, limit: usize) -> io::Result<String> {
    let mut r = utf8_reader(path, enc)?.take(limit as u64);
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes)?;
    let mut s = String::from_utf8_lossy(&bytes).into_owned();
    if bytes.len() == limit {
        if let Some(cut) = s.rfind('\n') {
            s.truncate(cut + 1);
        }
    }
    Ok(s)
}
