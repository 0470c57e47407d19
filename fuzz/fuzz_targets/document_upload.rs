//! Multipart document upload: any request body, parsed as `multipart/form-data` by multer (the
//! parser axum's `Multipart` runs), and the `file` field's bytes sniffed and their text
//! extracted as the upload and the ingestion job do (`host/src/services/documents/extract.rs`).
//! Malformed bodies are errors, hostile PDFs and DOCX files are refusals; nothing panics, hangs
//! or keeps more text than the bound.
#![no_main]

use futures_util::stream;
use libfuzzer_sys::fuzz_target;
use wrk_fuzz::extract::{self, MAX_TEXT_CHARS};

const BOUNDARY: &str = "XyZfuzzBoundary";

fuzz_target!(|data: &[u8]| {
    // Half the inputs are framed as a well-formed part around the fuzzed bytes, so the document
    // parsers are reached often, not only the multipart framing.
    let body = if data.first().is_some_and(|b| b & 1 == 1) {
        let mut b = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.pdf\"\r\n\r\n"
        )
        .into_bytes();
        b.extend_from_slice(&data[1..]);
        b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        b
    } else {
        data.to_vec()
    };
    let chunks = stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(body))]);
    let mut form = multer::Multipart::new(chunks, BOUNDARY);
    futures_util::FutureExt::now_or_never(async move {
        while let Ok(Some(field)) = form.next_field().await {
            let is_file = field.name() == Some("file");
            let name = field.file_name().unwrap_or("").to_owned();
            let Ok(bytes) = field.bytes().await else {
                return;
            };
            if is_file {
                if let Some(kind) = extract::sniff(&bytes, &name) {
                    if let Ok(text) = extract::extract_text(kind, &bytes) {
                        assert!(text.chars().count() <= MAX_TEXT_CHARS);
                    }
                }
                return;
            }
        }
    });
});
