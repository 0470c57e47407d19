//! What a document is (sniffed from its bytes, never from the client's content type) and its
//! text. Extraction is bounded: a hostile PDF or DOCX can't make a worker read more than
//! [`MAX_PDF_PAGES`] pages, inflate more than [`MAX_XML_BYTES`] of XML, or keep more than
//! [`MAX_TEXT_CHARS`] of text.

use std::io::Read;

/// The largest document accepted (20 MiB).
pub const MAX_DOCUMENT_BYTES: u64 = 20 * 1024 * 1024;
/// Pages of a PDF read at most (a longer one is refused).
pub const MAX_PDF_PAGES: usize = 500;
/// The inflated size of `word/document.xml` read at most.
pub const MAX_XML_BYTES: u64 = 64 * 1024 * 1024;
/// Characters of text kept per document.
pub const MAX_TEXT_CHARS: usize = 200_000;

/// A kind of document we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Txt,
    Md,
    Pdf,
    Docx,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Txt => "txt",
            Kind::Md => "md",
            Kind::Pdf => "pdf",
            Kind::Docx => "docx",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "txt" => Kind::Txt,
            "md" => Kind::Md,
            "pdf" => Kind::Pdf,
            "docx" => Kind::Docx,
            _ => return None,
        })
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Txt => "text/plain",
            Kind::Md => "text/markdown",
            Kind::Pdf => "application/pdf",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        }
    }
}

/// What the bytes are: PDF by its `%PDF-` magic, DOCX as a ZIP holding `word/document.xml`,
/// text as valid UTF-8 without NULs (`md` when the name says so — for display only). Anything
/// else is `None`.
pub fn sniff(bytes: &[u8], file_name: &str) -> Option<Kind> {
    if bytes.starts_with(b"%PDF-") {
        return Some(Kind::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        let zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
        return zip.index_for_name("word/document.xml").map(|_| Kind::Docx);
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if text.contains('\0') {
        return None;
    }
    let lower = file_name.to_ascii_lowercase();
    if lower.ends_with(".md") || lower.ends_with(".markdown") {
        Some(Kind::Md)
    } else {
        Some(Kind::Txt)
    }
}

/// The text of a document of `kind`.
pub fn extract_text(kind: Kind, bytes: &[u8]) -> Result<String, String> {
    let text = match kind {
        Kind::Txt | Kind::Md => std::str::from_utf8(bytes)
            .map_err(|_| "the text is not valid UTF-8".to_owned())?
            .to_owned(),
        Kind::Pdf => pdf_text(bytes)?,
        Kind::Docx => docx_text(bytes)?,
    };
    Ok(truncate(text.trim(), MAX_TEXT_CHARS))
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_owned(),
        None => s.to_owned(),
    }
}

fn pdf_text(bytes: &[u8]) -> Result<String, String> {
    let doc = lopdf::Document::load_mem(bytes).map_err(|e| format!("not a readable PDF: {e}"))?;
    let pages = doc.get_pages().len();
    if pages > MAX_PDF_PAGES {
        return Err(format!(
            "the PDF has {pages} pages; at most {MAX_PDF_PAGES} are read"
        ));
    }
    if doc.is_encrypted() {
        return Err("the PDF is encrypted".into());
    }
    // pdf-extract panics on some malformed input; a panic is a refusal, not a crash.
    std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes))
        .map_err(|_| "the PDF could not be read".to_owned())?
        .map_err(|e| format!("the PDF could not be read: {e}"))
}

fn docx_text(bytes: &[u8]) -> Result<String, String> {
    use quick_xml::events::Event;

    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a readable DOCX: {e}"))?;
    let file = zip
        .by_name("word/document.xml")
        .map_err(|_| "not a DOCX: word/document.xml is missing".to_owned())?;
    let mut xml = Vec::new();
    file.take(MAX_XML_BYTES + 1)
        .read_to_end(&mut xml)
        .map_err(|e| format!("not a readable DOCX: {e}"))?;
    if xml.len() as u64 > MAX_XML_BYTES {
        return Err("the DOCX text is too large".into());
    }
    let mut reader = quick_xml::Reader::from_reader(xml.as_slice());
    let mut out = String::new();
    let mut in_text = false;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.local_name().as_ref() == "t" => in_text = true,
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "p" => out.push('\n'),
                _ => {}
            },
            Ok(Event::Empty(e)) => match e.local_name().as_ref() {
                "tab" => out.push('\t'),
                "br" | "cr" => out.push('\n'),
                _ => {}
            },
            Ok(Event::Text(t)) if in_text => {
                out.push_str(&t.into_inner());
            }
            Ok(Event::GeneralRef(r)) if in_text => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    out.push(c);
                }
                let name = r.into_inner();
                out.push_str(match name.as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                });
            }
            Ok(Event::Eof) => break,
            Err(e) => return Err(format!("not a readable DOCX: {e}")),
            _ => {}
        }
        if out.len() > MAX_TEXT_CHARS * 4 {
            break;
        }
        buf.clear();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn docx(body: &str) -> Vec<u8> {
        let mut cur = std::io::Cursor::new(Vec::new());
        {
            let mut z = zip::ZipWriter::new(&mut cur);
            let opts = zip::write::SimpleFileOptions::default();
            z.start_file("[Content_Types].xml", opts).unwrap();
            z.write_all(b"<Types/>").unwrap();
            z.start_file("word/document.xml", opts).unwrap();
            z.write_all(body.as_bytes()).unwrap();
            z.finish().unwrap();
        }
        cur.into_inner()
    }

    #[test]
    fn sniffs_from_bytes_not_names() {
        assert_eq!(sniff(b"%PDF-1.4\n...", "x.txt"), Some(Kind::Pdf));
        assert_eq!(sniff(b"hello", "notes.md"), Some(Kind::Md));
        assert_eq!(sniff(b"hello", "notes.pdf"), Some(Kind::Txt));
        assert_eq!(sniff(b"MZ\x90\x00\x03\x00\x00\x00", "invoice.pdf"), None);
        assert_eq!(sniff(b"a\0b", "a.txt"), None);
        assert_eq!(sniff(&[0xff, 0xfe, 0x41], "a.txt"), None);
        let d = docx("<w:document/>");
        assert_eq!(sniff(&d, "a.bin"), Some(Kind::Docx));
        // A ZIP that is not a DOCX.
        let mut cur = std::io::Cursor::new(Vec::new());
        {
            let mut z = zip::ZipWriter::new(&mut cur);
            z.start_file("a.txt", zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(b"x").unwrap();
            z.finish().unwrap();
        }
        assert_eq!(sniff(&cur.into_inner(), "a.docx"), None);
    }

    #[test]
    fn extracts_docx_paragraphs() {
        let d = docx(
            r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
            <w:p><w:r><w:t>Invoices &amp; bills</w:t></w:r></w:p>
            <w:p><w:r><w:t xml:space="preserve">About 2,000 </w:t></w:r><w:r><w:t>a month</w:t></w:r></w:p>
            </w:body></w:document>"#,
        );
        let text = extract_text(Kind::Docx, &d).unwrap();
        assert_eq!(text, "Invoices & bills\nAbout 2,000 a month");
    }

    #[test]
    fn refuses_broken_pdfs() {
        assert!(extract_text(Kind::Pdf, b"%PDF-1.4 garbage").is_err());
    }

    #[test]
    fn text_is_capped() {
        let long = "a".repeat(MAX_TEXT_CHARS + 10);
        assert_eq!(
            extract_text(Kind::Txt, long.as_bytes()).unwrap().len(),
            MAX_TEXT_CHARS
        );
    }
}
