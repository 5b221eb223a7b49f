//! Text out of markup: the XML of DOCX and ODT, HTML, and Markdown.

use crate::{ExtractError, Extracted};
use quick_xml::events::Event;

/// Which elements of a word-processor XML hold text, end a paragraph, or stand for a space.
pub struct XmlDialect {
    name: &'static str,
    /// Elements whose character data is the document's text (empty: all character data).
    text: &'static [&'static [u8]],
    paragraph: &'static [&'static [u8]],
    /// A cell of a table: its end is a tab, so a row reads on one line.
    cell: &'static [&'static [u8]],
    tab: &'static [&'static [u8]],
    line_break: &'static [&'static [u8]],
    /// Elements that stand for spaces (ODT's `text:s`, with a count in `text:c`).
    spaces: &'static [u8],
}

pub const DOCX: XmlDialect = XmlDialect {
    name: "DOCX",
    text: &[b"w:t"],
    paragraph: &[b"w:p"],
    cell: &[b"w:tc"],
    tab: &[b"w:tab"],
    line_break: &[b"w:br", b"w:cr"],
    spaces: b"",
};

pub const ODT: XmlDialect = XmlDialect {
    name: "ODT",
    text: &[],
    paragraph: &[b"text:p", b"text:h"],
    cell: &[b"table:table-cell"],
    tab: &[b"text:tab"],
    line_break: &[b"text:line-break"],
    spaces: b"text:s",
};

/// The text of a DOCX `word/document.xml` or an ODT `content.xml`.
/// Stops once the text passes `max` bytes: a few bytes of XML can stand for many characters
/// (`<text:s text:c="100"/>`), so the text is bounded, not only the XML.
pub fn xml_text(xml: &[u8], d: &XmlDialect, max: usize) -> Result<String, ExtractError> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut out = String::new();
    // Depth inside text-bearing elements; ODT text is any character data inside a paragraph.
    let mut inside = 0usize;
    let bad = |e: quick_xml::Error, at: u64| {
        ExtractError::Refused(format!(
            "the {}'s XML is malformed at byte {at}: {e}",
            d.name
        ))
    };
    while out.len() <= max {
        let at = reader.buffer_position();
        match reader.read_event().map_err(|e| bad(e, at))? {
            Event::Start(e) => {
                let name = e.name();
                if d.text.contains(&name.as_ref())
                    || (d.text.is_empty() && d.paragraph.contains(&name.as_ref()))
                {
                    inside += 1;
                }
            }
            Event::End(e) => {
                let name = e.name();
                if d.text.contains(&name.as_ref())
                    || (d.text.is_empty() && d.paragraph.contains(&name.as_ref()))
                {
                    inside = inside.saturating_sub(1);
                }
                if d.paragraph.contains(&name.as_ref()) {
                    out.push('\n');
                } else if d.cell.contains(&name.as_ref()) {
                    while out.ends_with('\n') {
                        out.pop();
                    }
                    out.push('\t');
                }
            }
            Event::Empty(e) => {
                let name = e.name();
                if d.tab.contains(&name.as_ref()) {
                    out.push('\t');
                } else if d.line_break.contains(&name.as_ref())
                    || d.paragraph.contains(&name.as_ref())
                {
                    out.push('\n');
                } else if !d.spaces.is_empty() && name.as_ref() == d.spaces {
                    let n = e
                        .try_get_attribute("text:c")
                        .ok()
                        .flatten()
                        .and_then(|a| {
                            std::str::from_utf8(&a.value)
                                .ok()
                                .and_then(|v| v.parse::<usize>().ok())
                        })
                        .unwrap_or(1);
                    out.push_str(&" ".repeat(n.min(100)));
                }
            }
            Event::Text(t) if inside > 0 => {
                out.push_str(&t.xml10_content().map_err(|e| bad(e.into(), at))?)
            }
            Event::CData(t) if inside > 0 => out.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) if inside > 0 => push_reference(&mut out, &r),
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

fn push_reference(out: &mut String, r: &quick_xml::events::BytesRef) {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        out.push(c);
    } else if let Ok(name) = r.decode() {
        // Only the five predefined entities: a document type's own entities are not
        // expanded, so a "billion laughs" file has nothing to multiply.
        if let Ok(s) = quick_xml::escape::unescape(&format!("&{name};")) {
            out.push_str(&s);
        }
    }
}

/// The character data of the first `element`, such as `dc:title` in a document's metadata.
pub fn xml_element_text(xml: &[u8], element: &[u8]) -> Option<String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut inside = false;
    let mut out = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) if e.name().as_ref() == element => inside = true,
            Event::End(e) if e.name().as_ref() == element => return Some(out),
            Event::Text(t) if inside => out.push_str(&t.xml10_content().ok()?),
            Event::GeneralRef(r) if inside => push_reference(&mut out, &r),
            Event::Eof => return None,
            _ => {}
        }
    }
}

const BLOCK: &[&[u8]] = &[
    b"p",
    b"div",
    b"br",
    b"li",
    b"ul",
    b"ol",
    b"h1",
    b"h2",
    b"h3",
    b"h4",
    b"h5",
    b"h6",
    b"tr",
    b"table",
    b"section",
    b"article",
    b"header",
    b"footer",
    b"blockquote",
    b"pre",
    b"hr",
    b"dt",
    b"dd",
    b"nav",
    b"aside",
    b"main",
    b"figure",
    b"figcaption",
];
const HIDDEN: &[&[u8]] = &[b"script", b"style", b"noscript", b"template", b"svg"];

/// The readable text of an HTML page, its `<title>` and the language its `<html lang>` declares.
pub fn html(source: &str) -> Extracted {
    use html5gum::{DefaultEmitter, Token, Tokenizer};
    let mut emitter = DefaultEmitter::default();
    // Keeps the content of <script> and <style> as raw text, so it can be skipped whole.
    emitter.naively_switch_states(true);
    let mut out = Extracted::default();
    let mut hidden = 0usize;
    let mut in_title = false;
    let mut title = String::new();
    for token in Tokenizer::new_with_emitter(source, emitter).flatten() {
        match token {
            Token::StartTag(t) => {
                let name = t.name.as_slice();
                if name == b"html" {
                    if let Some(lang) = t.attributes.get(b"lang".as_slice()) {
                        let lang = String::from_utf8_lossy(&lang.value).to_ascii_lowercase();
                        let primary = lang.split(['-', '_']).next().unwrap_or("").to_string();
                        if !primary.is_empty() {
                            out.language = Some(primary);
                        }
                    }
                } else if name == b"title" {
                    in_title = true;
                } else if HIDDEN.contains(&name) && !t.self_closing {
                    hidden += 1;
                } else if BLOCK.contains(&name) {
                    out.text.push('\n');
                } else if name == b"td" || name == b"th" {
                    out.text.push('\t');
                }
            }
            Token::EndTag(t) => {
                let name = t.name.as_slice();
                if name == b"title" {
                    in_title = false;
                } else if HIDDEN.contains(&name) {
                    hidden = hidden.saturating_sub(1);
                } else if BLOCK.contains(&name) {
                    out.text.push('\n');
                }
            }
            Token::String(s) => {
                let s = String::from_utf8_lossy(&s.value);
                if in_title {
                    title.push_str(&s);
                } else if hidden == 0 {
                    out.text.push_str(&s);
                }
            }
            _ => {}
        }
    }
    out.title = Some(title);
    out
}

/// The text of a Markdown file, without its markup; the first heading is its title.
pub fn markdown(source: &str) -> Extracted {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut out = Extracted::default();
    let mut heading: Option<String> = None;
    let mut in_heading = false;
    for event in Parser::new(source) {
        match event {
            Event::Start(Tag::Heading { .. }) => in_heading = true,
            Event::End(TagEnd::Heading(_)) => {
                in_heading = false;
                heading.get_or_insert_with(String::new);
                out.text.push('\n');
            }
            Event::Text(t) | Event::Code(t) => {
                if in_heading && heading.is_none() {
                    out.title.get_or_insert_with(String::new).push_str(&t);
                }
                out.text.push_str(&t);
            }
            Event::SoftBreak => out.text.push(' '),
            Event::HardBreak
            | Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableRow
                | TagEnd::TableHead,
            ) => out.text.push('\n'),
            Event::End(TagEnd::TableCell) => out.text.push('\t'),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docx_text_keeps_paragraphs_tabs_and_table_rows() {
        let xml = br#"<w:document><w:body>
            <w:p><w:r><w:t>Resettlement</w:t></w:r><w:r><w:t xml:space="preserve"> needs &amp; </w:t></w:r><w:r><w:tab/><w:t>2025</w:t></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>Syria</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>1200</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
            <w:p><w:r><w:instrText>PAGE</w:instrText><w:t>End</w:t></w:r></w:p>
        </w:body></w:document>"#;
        let text = xml_text(xml, &DOCX, usize::MAX).unwrap();
        assert!(
            text.starts_with("Resettlement needs & \t2025\n"),
            "{text:?}"
        );
        assert!(text.contains("Syria\t1200\t"), "{text:?}");
        assert!(text.contains("End") && !text.contains("PAGE"), "{text:?}");
    }

    #[test]
    fn a_few_bytes_of_xml_cannot_become_gigabytes_of_text() {
        let xml = format!(
            "<office:text><text:p>{}</text:p></office:text>",
            r#"<text:s text:c="100"/>"#.repeat(100_000)
        );
        let text = xml_text(xml.as_bytes(), &ODT, 1 << 20).unwrap();
        assert!(text.len() <= (1 << 20) + 100, "{} bytes", text.len());
    }

    #[test]
    fn odt_text_expands_spaces_and_reads_spans() {
        let xml = br#"<office:text><text:h>Minutes</text:h><text:p>Two<text:s text:c="2"/>spaces, <text:span>a span</text:span>.</text:p></office:text>"#;
        assert_eq!(
            xml_text(xml, &ODT, usize::MAX).unwrap(),
            "Minutes\nTwo  spaces, a span.\n"
        );
    }

    #[test]
    fn malformed_xml_is_refused_with_the_place() {
        let err = xml_text(b"<w:p><w:t>a</w:x></w:p>", &DOCX, usize::MAX)
            .unwrap_err()
            .to_string();
        assert!(err.contains("malformed at byte"), "{err}");
    }

    #[test]
    fn html_text_skips_scripts_and_reads_title_and_language() {
        let page = r#"<!doctype html><html lang="fr-BE"><head><title>Rapport  annuel</title><style>p{color:red}</style></head>
            <body><script>var x = "<p>hidden</p>";</script><h1>Asile</h1><p>Demandes &amp; d&eacute;cisions</p><table><tr><td>BEL</td><td>12</td></tr></table></body></html>"#;
        let out = html(page);
        assert_eq!(out.title.as_deref(), Some("Rapport  annuel"));
        assert_eq!(out.language.as_deref(), Some("fr"));
        assert!(
            out.text.contains("Asile") && out.text.contains("Demandes & décisions"),
            "{:?}",
            out.text
        );
        assert!(
            !out.text.contains("hidden") && !out.text.contains("color"),
            "{:?}",
            out.text
        );
        assert!(out.text.contains("\tBEL\t12"), "{:?}", out.text);
    }

    #[test]
    fn markdown_loses_its_markup_and_gives_its_first_heading_as_title() {
        let out = markdown(
            "# Joint *consultation*\n\nSome **bold** words and `code`.\n\n## Next\n- item one\n",
        );
        assert_eq!(out.title.as_deref(), Some("Joint consultation"));
        assert!(
            out.text.contains("Some bold words and code.\n"),
            "{:?}",
            out.text
        );
        assert!(out.text.contains("item one"), "{:?}", out.text);
    }
}
