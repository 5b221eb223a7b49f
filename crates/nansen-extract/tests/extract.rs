//! Extraction from real files: PDFs printed by Chromium (see fixtures/make.sh), PDFs and
//! archives built here, and hostile files that must be refused within bounds.

use nansen_extract::{extract, ExtractError, Extracted, Format, Limits};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

fn read(name: &str, bytes: &[u8]) -> Result<Extracted, ExtractError> {
    extract(Format::detect(name, bytes)?, bytes, &Limits::default())
}

/// A PDF of the given page content streams, Flate-compressed, with a correct cross-reference table.
fn pdf(pages: &[&[u8]]) -> Vec<u8> {
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let n = pages.len();
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes());
    objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec());
    for (i, content) in pages.iter().enumerate() {
        objects.push(format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>", 5 + 2 * i).into_bytes());
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(content).unwrap();
        let data = z.finish().unwrap();
        let mut obj = format!(
            "<< /Length {} /Filter /FlateDecode >>\nstream\n",
            data.len()
        )
        .into_bytes();
        obj.extend_from_slice(&data);
        obj.extend_from_slice(b"\nendstream");
        objects.push(obj);
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn archive(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in parts {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn a_pdf_report_gives_its_pages_columns_and_tables_in_reading_order() {
    let out = read("report.pdf", &fixture("report.pdf")).unwrap();
    let pages: Vec<&str> = out.text.split('\x0c').collect();
    assert_eq!(pages.len(), 3, "{:?}", out.text);
    assert!(pages[2].contains("Lampedusa hotspot"), "{:?}", pages[2]);
    // The left column is read whole before the right one.
    let left_end = pages[1].find("first interview").unwrap();
    let right = pages[1].find("Rightcolumn").unwrap();
    assert!(left_end < right, "{:?}", pages[1]);
    assert!(
        pages[1].contains("Pozzallo") && pages[1].contains("612"),
        "{:?}",
        pages[1]
    );
    assert_eq!(out.language.as_deref(), Some("en"));
    assert_eq!(
        out.title.as_deref(),
        Some("Reception conditions at Mediterranean arrival points")
    );
    assert_eq!(out.no_text, None);
}

#[test]
fn arabic_pdf_text_comes_out_without_direction_marks() {
    let out = read("arabic.pdf", &fixture("arabic.pdf")).unwrap();
    assert!(out.text.contains("سوريا وأفغانستان"), "{:?}", out.text);
    assert!(!out.text.contains('\u{202b}'), "{:?}", out.text);
    assert_eq!(out.language.as_deref(), Some("ar"));
}

#[test]
fn a_pdf_without_text_is_kept_and_marked() {
    let out = read("scan.pdf", &pdf(&[b"0 0 1 rg 100 100 300 300 re f"])).unwrap();
    assert_eq!(out.text, "");
    assert!(out.no_text.unwrap().contains("no text layer"));
}

#[test]
fn a_pdf_that_keeps_the_reader_busy_is_refused_within_its_time() {
    // Seventy megabytes of text drawn over itself, which compress to almost nothing: poppler
    // takes seconds and gigabytes to lay it out.
    let busy = b"BT /F1 12 Tf 100 100 Td (aaaaaaaaaa) Tj ET\n".repeat(1_600_000);
    let file = pdf(&[&busy]);
    assert!(file.len() < 1 << 20, "{}", file.len());
    let started = Instant::now();
    let err = extract(
        Format::Pdf,
        &file,
        &Limits {
            seconds: 1,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert!(
        started.elapsed().as_secs_f64() < 5.0,
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, ExtractError::Refused(_)), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("within 1 s") || msg.contains("processor time"),
        "{msg}"
    );
}

#[test]
fn a_pdf_that_needs_too_much_memory_is_refused() {
    let err = extract(
        Format::Pdf,
        &fixture("report.pdf"),
        &Limits {
            memory: 8 << 20,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, ExtractError::Refused(_)), "{err}");
}

#[test]
fn a_broken_pdf_is_refused_with_the_readers_reason() {
    let err = read("x.pdf", b"%PDF-1.4\nnot really").unwrap_err();
    assert!(
        err.to_string().starts_with("the PDF cannot be read"),
        "{err}"
    );
}

#[test]
fn docx_and_odt_give_their_text_and_title() {
    let docx = archive(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", b"<w:document><w:body><w:p><w:r><w:t>Voluntary return counselling</w:t></w:r></w:p></w:body></w:document>"),
        ("docProps/core.xml", b"<cp:coreProperties><dc:title>AVR guide</dc:title></cp:coreProperties>"),
    ]);
    let out = read("guide.docx", &docx).unwrap();
    assert_eq!(out.text, "Voluntary return counselling");
    assert_eq!(out.title.as_deref(), Some("AVR guide"));
    let odt = archive(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", b"<office:document-content><office:body><office:text><text:p>Compte rendu de la r\xc3\xa9union</text:p></office:text></office:body></office:document-content>"),
    ]);
    assert_eq!(Format::detect("minutes", &odt).unwrap(), Format::Odt);
    assert_eq!(
        read("minutes.odt", &odt).unwrap().text,
        "Compte rendu de la réunion"
    );
}

#[test]
fn a_zip_bomb_is_refused_after_the_limit_not_after_the_disk() {
    let huge = vec![b'a'; 20 << 20];
    let mut xml = b"<w:document><w:body><w:p><w:r><w:t>".to_vec();
    xml.extend_from_slice(&huge);
    xml.extend_from_slice(b"</w:t></w:r></w:p></w:body></w:document>");
    let bomb = archive(&[("word/document.xml", &xml)]);
    assert!(bomb.len() < 100 << 10, "{}", bomb.len());
    let err = extract(
        Format::Docx,
        &bomb,
        &Limits {
            unpacked: 4 << 20,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("unpacks to more than 4 MB"),
        "{err}"
    );
}

#[test]
fn a_docx_that_is_not_a_word_document_is_refused() {
    let err = read("x.docx", &archive(&[("hello.txt", b"hi")])).unwrap_err();
    assert!(err.to_string().contains("no word/document.xml"), "{err}");
    let err = read("x.docx", b"PK\x03\x04garbage").unwrap_err();
    assert!(
        err.to_string().contains("not a readable zip archive"),
        "{err}"
    );
}
