//! Files made to hurt the server: each is refused quickly, with a reason, and without
//! inflating what it hides.

use nansen_formats::{read, ImportOptions};
use std::io::Write;

/// A zip whose one sheet inflates to `real` bytes of XML, with every size field patched to
/// say it is `claimed` bytes: the declared sizes are a lie.
fn lying_xlsx(real: usize, claimed: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("[Content_Types].xml", opts).unwrap();
        zip.write_all(br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#).unwrap();
        zip.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
        let row = b"<row><c t=\"inlineStr\"><is><t>x</t></is></c></row>".repeat(1000);
        let mut left = real;
        while left > 0 {
            let n = left.min(row.len());
            zip.write_all(&row[..n]).unwrap();
            left -= n;
        }
        zip.finish().unwrap();
    }
    let mut bytes = out.into_inner();
    // Local headers (PK 3 4) keep the inflated size at byte 22, central entries (PK 1 2) at 24.
    let mut i = 0;
    while i + 30 < bytes.len() {
        match &bytes[i..i + 4] {
            b"PK\x03\x04" => bytes[i + 22..i + 26].copy_from_slice(&claimed.to_le_bytes()),
            b"PK\x01\x02" => bytes[i + 24..i + 28].copy_from_slice(&claimed.to_le_bytes()),
            _ => {}
        }
        i += 1;
    }
    bytes
}

#[test]
fn a_spreadsheet_that_lies_about_its_size_is_refused_before_it_inflates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("patched.xlsx");
    // 300 MB of XML, claimed as 2 KB per part.
    std::fs::write(&path, lying_xlsx(300 << 20, 2048)).unwrap();
    let err = read(&path, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("more than the 2048 bytes the file declares"),
        "{err}"
    );
}
