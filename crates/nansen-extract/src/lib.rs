//! The text of an uploaded document, with its title and language where the file says them.
//!
//! PDF goes through poppler's `pdftotext` in a child process under a wall-clock timeout
//! and an address-space limit (`prlimit`), so a PDF built to loop or to eat memory costs
//! at most those bounds. DOCX and ODT are zip archives whose unpacked size is counted as it
//! is read, so a zip bomb is refused after the limit, not after the disk is full.
//!
//! Two outcomes are kept apart: a file that is hostile or not what it claims to be is
//! refused ([`ExtractError`]); a genuine file without extractable text (a scanned PDF, a
//! password-protected one) is accepted, with [`Extracted::no_text`] saying why.

mod markup;
mod pdf;

use std::io::{Cursor, Read};

/// The kinds of file a document may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Docx,
    Odt,
    Html,
    Markdown,
    Text,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Pdf,
        Format::Docx,
        Format::Odt,
        Format::Html,
        Format::Markdown,
        Format::Text,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Odt => "odt",
            Format::Html => "html",
            Format::Markdown => "markdown",
            Format::Text => "text",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Odt => "application/vnd.oasis.opendocument.text",
            Format::Html => "text/html; charset=utf-8",
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Text => "text/plain; charset=utf-8",
        }
    }

    /// The format of a file, from its first bytes where they say, else from its name.
    pub fn detect(file_name: &str, bytes: &[u8]) -> Result<Format, ExtractError> {
        let ext = file_name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        if bytes.starts_with(b"%PDF-") {
            return Ok(Format::Pdf);
        }
        if bytes.starts_with(b"PK\x03\x04") {
            // Part names are stored unpacked, so they can be looked for in the raw bytes.
            let has = |name: &[u8]| bytes.windows(name.len()).any(|w| w == name);
            return match ext.as_str() {
                "docx" => Ok(Format::Docx),
                "odt" => Ok(Format::Odt),
                _ if !has(b"word/document.xml") && has(b"content.xml") => Ok(Format::Odt),
                _ => Ok(Format::Docx),
            };
        }
        match ext.as_str() {
            "pdf" => Err(ExtractError::Refused(format!(
                "{file_name} is named .pdf but is not a PDF (it does not start with %PDF-)"
            ))),
            "docx" | "odt" => Err(ExtractError::Refused(format!(
                "{file_name} is named .{ext} but is not a zip archive, as every .{ext} file is"
            ))),
            "html" | "htm" | "xhtml" => Ok(Format::Html),
            "md" | "markdown" => Ok(Format::Markdown),
            "txt" | "text" | "csv" | "tsv" => Ok(Format::Text),
            _ => {
                let head =
                    String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
                if head.contains("<!doctype html") || head.contains("<html") {
                    Ok(Format::Html)
                } else if !ext.is_empty() {
                    Err(ExtractError::UnknownFormat(format!(
                        "{file_name}: .{ext} files are not taken; upload PDF, DOCX, ODT, HTML, Markdown (.md) or plain text (.txt)"
                    )))
                } else {
                    Ok(Format::Text)
                }
            }
        }
    }
}

/// How much time and memory extraction may take.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Wall-clock seconds for one PDF.
    pub seconds: u64,
    /// Address space of the PDF reader, in bytes.
    pub memory: u64,
    /// Bytes a zip archive may unpack to (the parts read).
    pub unpacked: u64,
    /// Bytes of text kept; the rest is cut, and said so.
    pub text: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            seconds: 30,
            memory: 1 << 30,
            unpacked: 256 << 20,
            text: 16 << 20,
        }
    }
}

/// What was read out of a file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Extracted {
    /// The text; pages of a PDF are separated by form feeds (`\x0c`).
    pub text: String,
    /// The title the file gives itself, if any.
    pub title: Option<String>,
    /// The language the file declares (HTML `lang`), else the one its text is written in.
    pub language: Option<String>,
    /// Why there is no text, when there is none: the file is kept, but cannot be searched.
    pub no_text: Option<String>,
    /// Set when the text was longer than the limit and was cut.
    pub truncated: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("{0}")]
    UnknownFormat(String),
    /// Malformed or hostile: the file is not stored.
    #[error("{0}")]
    Refused(String),
}

/// Reads the text of a file of the given format.
pub fn extract(format: Format, bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let mut out = match format {
        Format::Pdf => pdf::extract(bytes, limits)?,
        Format::Docx => {
            let mut zip = Archive::open(bytes, "DOCX", limits)?;
            let body = zip.part("word/document.xml")?.ok_or_else(|| {
                ExtractError::Refused(
                    "the DOCX has no word/document.xml: it is not a Word document".into(),
                )
            })?;
            let title = zip
                .part("docProps/core.xml")?
                .and_then(|x| markup::xml_element_text(&x, b"dc:title"));
            Extracted {
                text: markup::xml_text(&body, &markup::DOCX, limits.text * 2)?,
                title,
                ..Default::default()
            }
        }
        Format::Odt => {
            let mut zip = Archive::open(bytes, "ODT", limits)?;
            let body = zip.part("content.xml")?.ok_or_else(|| {
                ExtractError::Refused(
                    "the ODT has no content.xml: it is not an OpenDocument text".into(),
                )
            })?;
            let title = zip
                .part("meta.xml")?
                .and_then(|x| markup::xml_element_text(&x, b"dc:title"));
            Extracted {
                text: markup::xml_text(&body, &markup::ODT, limits.text * 2)?,
                title,
                ..Default::default()
            }
        }
        Format::Html => markup::html(&decode(bytes)),
        Format::Markdown => markup::markdown(&decode(bytes)),
        Format::Text => Extracted {
            text: decode(bytes),
            ..Default::default()
        },
    };
    out.text = tidy(&out.text);
    if out.text.len() > limits.text {
        let mut cut = limits.text;
        while !out.text.is_char_boundary(cut) {
            cut -= 1;
        }
        out.text.truncate(cut);
        out.truncated = true;
    }
    if out.text.trim().is_empty() && out.no_text.is_none() {
        out.no_text = Some(match format {
            Format::Pdf => "the PDF has no text layer (a scanned image?): it is kept, but its words cannot be searched".into(),
            _ => "the file holds no text".into(),
        });
    }
    out.title = out
        .title
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty());
    if out.language.is_none() {
        out.language = detect_language(&out.text);
    }
    Ok(out)
}

/// The language a text is written in, as an ISO 639-1 code where there is one, when the
/// guess is reliable.
pub fn detect_language(text: &str) -> Option<String> {
    let mut end = text.len().min(20_000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let info = whatlang::detect(&text[..end])?;
    if !info.is_reliable() {
        return None;
    }
    use whatlang::Lang::*;
    let two = match info.lang() {
        Eng => "en",
        Fra => "fr",
        Spa => "es",
        Ara => "ar",
        Deu => "de",
        Ita => "it",
        Por => "pt",
        Rus => "ru",
        Ukr => "uk",
        Tur => "tr",
        Nld => "nl",
        Pol => "pl",
        Ell => "el",
        Hun => "hu",
        Swe => "sv",
        Pes => "fa",
        Urd => "ur",
        other => other.code(),
    };
    Some(two.to_string())
}

/// Bytes as text: UTF-8 (with or without a byte-order mark), UTF-16 with one, else Windows-1252.
pub fn decode(bytes: &[u8]) -> String {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc
            .decode_without_bom_handling(&bytes[bom..])
            .0
            .into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
    }
}

/// Runs of spaces become one, trailing spaces go, and no more than one blank line is kept
/// in a row; page breaks stay. Bidirectional controls go too: PDF readers wrap right-to-left
/// runs in them, and they would split words in the index.
fn tidy(text: &str) -> String {
    let text: String = text.chars().filter(|c| !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')).collect();
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.split('\n') {
        let mut clean = String::with_capacity(line.len());
        for (i, word) in line
            .split([' ', '\t', '\r', '\u{a0}'])
            .filter(|w| !w.is_empty())
            .enumerate()
        {
            if i > 0 {
                clean.push(' ');
            }
            clean.push_str(word);
        }
        if clean.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(&clean);
        out.push('\n');
    }
    out.trim().to_string()
}

/// A zip archive whose parts are read with their unpacked size counted against the limit.
struct Archive<'a> {
    zip: zip::ZipArchive<Cursor<&'a [u8]>>,
    kind: &'static str,
    limit: u64,
    left: u64,
}

impl<'a> Archive<'a> {
    fn open(
        bytes: &'a [u8],
        kind: &'static str,
        limits: &Limits,
    ) -> Result<Archive<'a>, ExtractError> {
        let zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
            ExtractError::Refused(format!("the {kind} is not a readable zip archive: {e}"))
        })?;
        if zip.len() > 10_000 {
            return Err(ExtractError::Refused(format!(
                "the {kind} holds {} files; a document holds a few dozen",
                zip.len()
            )));
        }
        Ok(Archive {
            zip,
            kind,
            limit: limits.unpacked,
            left: limits.unpacked,
        })
    }

    /// One part's bytes, or none if the archive has no such part.
    fn part(&mut self, name: &str) -> Result<Option<Vec<u8>>, ExtractError> {
        let kind = self.kind;
        let mut f = match self.zip.by_name(name) {
            Ok(f) => f,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => {
                return Err(ExtractError::Refused(format!(
                    "the {kind}'s {name} cannot be read: {e}"
                )))
            }
        };
        // The sizes in the archive's directory may lie: count what actually comes out.
        let mut out = Vec::new();
        let read = (&mut f)
            .take(self.left + 1)
            .read_to_end(&mut out)
            .map_err(|e| {
                ExtractError::Refused(format!("the {kind}'s {name} cannot be unpacked: {e}"))
            })?;
        if read as u64 > self.left {
            return Err(ExtractError::Refused(format!(
                "the {kind} unpacks to more than {} MB (a zip bomb?); it was not stored",
                self.limit >> 20
            )));
        }
        self.left -= read as u64;
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_bytes_before_their_names() {
        assert_eq!(
            Format::detect("x.txt", b"%PDF-1.7 ...").unwrap(),
            Format::Pdf
        );
        assert_eq!(
            Format::detect("notes.md", b"# Minutes").unwrap(),
            Format::Markdown
        );
        assert_eq!(
            Format::detect("page", b"<!DOCTYPE html><html>").unwrap(),
            Format::Html
        );
        let fake = Format::detect("report.pdf", b"hello")
            .unwrap_err()
            .to_string();
        assert!(fake.contains("not a PDF"), "{fake}");
        let exe = Format::detect("setup.exe", b"MZ").unwrap_err().to_string();
        assert!(exe.contains(".exe files are not taken"), "{exe}");
    }

    #[test]
    fn text_is_decoded_from_utf8_utf16_and_windows_1252() {
        assert_eq!(decode("Bogotá".as_bytes()), "Bogotá");
        assert_eq!(decode(b"\xff\xfeB\x00o\x00"), "Bo");
        assert_eq!(decode(b"Bogot\xe1"), "Bogotá");
    }

    #[test]
    fn spaces_and_blank_lines_are_tidied_but_pages_stay() {
        assert_eq!(tidy("a   b \n\n\n\nc\x0cd"), "a b\n\nc\x0cd");
    }

    #[test]
    fn the_language_is_guessed_only_when_the_text_says_it_clearly() {
        let en =
            "The number of asylum applications lodged in the European Union rose again this year, \
                  with most applicants coming from Syria and Afghanistan.";
        let fr = "Le nombre de demandes d'asile introduites dans l'Union européenne a de nouveau augmenté \
                  cette année, la plupart des demandeurs venant de Syrie et d'Afghanistan.";
        let ar = "ارتفع عدد طلبات اللجوء المقدمة في الاتحاد الأوروبي مرة أخرى هذا العام";
        assert_eq!(detect_language(en).as_deref(), Some("en"));
        assert_eq!(detect_language(fr).as_deref(), Some("fr"));
        assert_eq!(detect_language(ar).as_deref(), Some("ar"));
        assert_eq!(detect_language("1234"), None);
    }
}
