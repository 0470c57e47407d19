//! The quote and invoice documents as PDFs (flow 16 signs a quote's; issue 10 downloads both),
//! rendered in-process from plain structs with `lopdf`.
//!
//! Why `lopdf`: it is already in the binary (document ingestion reads uploaded PDFs with it), so
//! rendering adds no crate at all; it is maintained and widely used; and its object table is a
//! `BTreeMap`, so the same objects always serialize to the same bytes. The alternatives weighed:
//! `pdf-writer` (small and good, but one more crate for what lopdf already does), `printpdf`
//! (builds on lopdf and brings much more), `genpdf` (unmaintained since 2021), `krilla`
//! (high-level, but requires embedding TrueType fonts and pulls in a font stack).
//!
//! Determinism is the point: the SHA-256 of these bytes is what a signature record keeps
//! ([`sha256_hex`]), so the same [`QuoteDocument`] must give the same bytes, always. Nothing
//! varies between runs: no clock (every date comes from the struct), no random document id, the
//! standard Helvetica fonts (not embedded, so no font file either), uncompressed content streams.
//! The hash a signer agrees to is that of the document **without** its signature block; the
//! downloaded copy of a signed quote adds the block and is therefore a different file.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, ObjectId, Stream, StringFormat, dictionary};
use sha2::{Digest, Sha256};
use wrk_core::billing::BillingPeriod;
use wrk_core::money::{Currency, Money, MoneyError};

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The lines do not add up in the document's currency (another currency, an overflow).
    #[error("the document's amounts do not add up: {0}")]
    Money(#[from] MoneyError),
    #[error("cannot write the PDF: {0}")]
    Pdf(#[from] lopdf::Error),
    #[error("cannot write the PDF: {0}")]
    Io(#[from] std::io::Error),
}

/// One priced line as printed: `amount` is stored, not recomputed, so the document shows what
/// the quote says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentLine {
    pub description: String,
    pub quantity: u64,
    pub unit: Money,
    pub amount: Money,
}

/// The signature block of a signed quote (flow 16).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureBlock {
    pub signer_name: String,
    pub signer_title: String,
    pub signed_at: DateTime<Utc>,
    /// SHA-256 (hex) of the unsigned document that was signed.
    pub document_sha256: String,
}

/// Everything a quote document shows, and nothing it has to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteDocument {
    /// The quote's number for people, e.g. `Q-2026-0001-R2`.
    pub number: String,
    pub revision: u32,
    /// The workspace being quoted.
    pub client: String,
    /// The automation (and version) the quote prices.
    pub automation: String,
    pub issued_at: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub currency: Currency,
    pub one_time: Vec<DocumentLine>,
    pub monthly: Vec<DocumentLine>,
    pub included_runs: u64,
    pub overage_unit: Money,
    /// The pricing plugin that priced it.
    pub plugin_name: String,
    pub plugin_version: String,
    pub signature: Option<SignatureBlock>,
}

/// Renders the quote. The same input gives the same bytes.
pub fn render_quote(doc: &QuoteDocument) -> Result<Vec<u8>, DocumentError> {
    let one_time_total = Money::sum(doc.currency, doc.one_time.iter().map(|l| l.amount))?;
    let monthly_total = Money::sum(doc.currency, doc.monthly.iter().map(|l| l.amount))?;
    let overage_unit = Money::zero(doc.currency).checked_add(doc.overage_unit)?;

    let mut page = Layout::new();
    page.title(&format!("Quote {}", doc.number));
    page.fact("Client", &doc.client);
    page.fact("Automation", &doc.automation);
    page.fact("Revision", &doc.revision.to_string());
    page.fact("Issued", &day(doc.issued_at));
    page.fact("Valid until", &minute(doc.valid_until));
    page.fact(
        "Priced by",
        &format!("{} {}", doc.plugin_name, doc.plugin_version),
    );
    page.gap();
    page.section("One-time", &doc.one_time, "One-time total", one_time_total);
    page.section("Monthly", &doc.monthly, "Monthly total", monthly_total);
    page.paragraph(&format!(
        "The monthly fee includes {} runs a month; each run beyond them costs {}.",
        doc.included_runs,
        amount(overage_unit)
    ));
    page.gap();
    match &doc.signature {
        Some(s) => {
            page.heading("Signature");
            page.fact("Signed by", &s.signer_name);
            page.fact("Title", &s.signer_title);
            page.fact("Signed at", &minute(s.signed_at));
            page.fact("Document SHA-256", &s.document_sha256);
        }
        None => page.paragraph(
            "Not signed yet. Signing accepts the one-time total now and the monthly total each \
             month from then on.",
        ),
    }
    page.finish(&format!("Quote {}", doc.number), doc.issued_at)
}

/// Everything an invoice document shows (flow 20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceDocument {
    /// The invoice's number for people.
    pub number: String,
    pub client: String,
    pub period: BillingPeriod,
    /// `draft`, `finalized`, `paid` or `failed`, as stored.
    pub status: String,
    pub issued_at: DateTime<Utc>,
    pub currency: Currency,
    pub lines: Vec<DocumentLine>,
    /// How it is paid, e.g. "Charged to the card on file" or "Pay by bank transfer, reference
    /// manual:invoice:…".
    pub payment_note: Option<String>,
}

/// Renders an invoice; its total is the exact sum of its lines. The same input gives the same
/// bytes.
pub fn render_invoice(doc: &InvoiceDocument) -> Result<Vec<u8>, DocumentError> {
    let total = Money::sum(doc.currency, doc.lines.iter().map(|l| l.amount))?;
    let mut page = Layout::new();
    page.title(&format!("Invoice {}", doc.number));
    page.fact("Client", &doc.client);
    page.fact(
        "Period",
        &format!(
            "{} ({} to {})",
            doc.period,
            day(doc.period.first_instant()),
            day(doc.period.last_instant())
        ),
    );
    page.fact("Issued", &day(doc.issued_at));
    page.fact("Status", &doc.status);
    page.gap();
    page.section("Charges", &doc.lines, "Total", total);
    if let Some(note) = &doc.payment_note {
        page.gap();
        page.paragraph(note);
    }
    page.finish(&format!("Invoice {}", doc.number), doc.issued_at)
}

/// The hex SHA-256 of a rendered document, as a signature record stores it.
pub fn sha256_hex(pdf: &[u8]) -> String {
    hex::encode(Sha256::digest(pdf))
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn minute(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `USD 1,234.50`: the currency code, then the amount in major units with two decimals and
/// thousands separated by commas. (When core gains its one money formatter, this should use it.)
fn amount(m: Money) -> String {
    let cents = m.cents.get();
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let whole = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{} {sign}{grouped}.{:02}", m.currency, abs % 100)
}

// A4 in points, and the layout grid.
const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BODY: f32 = 10.0;
const LEADING: f32 = 14.0;
/// Right edges of the quantity, unit price and amount columns; descriptions wrap before `COL_QTY
/// - 40`.
const COL_QTY: f32 = 360.0;
const COL_UNIT: f32 = 450.0;
const COL_AMOUNT: f32 = PAGE_W - MARGIN;

#[derive(Clone, Copy)]
enum Font {
    Regular,
    Bold,
}

impl Font {
    const fn name(self) -> &'static str {
        match self {
            Self::Regular => "F1",
            Self::Bold => "F2",
        }
    }
}

/// Pages of content operations, filled top to bottom; a new page starts when one is full.
struct Layout {
    pages: Vec<Vec<Operation>>,
    y: f32,
}

impl Layout {
    fn new() -> Self {
        Self {
            pages: vec![Vec::new()],
            y: PAGE_H - MARGIN,
        }
    }

    fn ops(&mut self) -> &mut Vec<Operation> {
        self.pages.last_mut().expect("there is always a page")
    }

    /// Moves down by `height`, first starting a new page if that would cross the bottom margin.
    fn advance(&mut self, height: f32) {
        if self.y - height < MARGIN {
            self.pages.push(Vec::new());
            self.y = PAGE_H - MARGIN;
        }
        self.y -= height;
    }

    fn text(&mut self, font: Font, size: f32, x: f32, s: &str) {
        let y = self.y;
        self.ops().extend([
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec![font.name().into(), size.into()]),
            Operation::new("Td", vec![x.into(), y.into()]),
            Operation::new(
                "Tj",
                vec![Object::String(win_ansi(s), StringFormat::Literal)],
            ),
            Operation::new("ET", vec![]),
        ]);
    }

    /// Text whose right edge is at `right`.
    fn text_right(&mut self, font: Font, size: f32, right: f32, s: &str) {
        self.text(font, size, right - width(s, size), s);
    }

    fn rule(&mut self) {
        let y = self.y - 4.0;
        self.ops().extend([
            Operation::new("w", vec![0.5f32.into()]),
            Operation::new("m", vec![MARGIN.into(), y.into()]),
            Operation::new("l", vec![COL_AMOUNT.into(), y.into()]),
            Operation::new("S", vec![]),
        ]);
    }

    fn gap(&mut self) {
        self.advance(LEADING / 2.0);
    }

    fn title(&mut self, s: &str) {
        self.advance(20.0);
        self.text(Font::Bold, 18.0, MARGIN, s);
        self.advance(10.0);
    }

    fn heading(&mut self, s: &str) {
        self.advance(LEADING * 1.5);
        self.text(Font::Bold, 12.0, MARGIN, s);
        self.rule();
        self.advance(4.0);
    }

    fn fact(&mut self, label: &str, value: &str) {
        let lines = wrap(value, COL_AMOUNT - (MARGIN + 120.0), BODY);
        for (i, line) in lines.iter().enumerate() {
            self.advance(LEADING);
            if i == 0 {
                self.text(Font::Bold, BODY, MARGIN, label);
            }
            self.text(Font::Regular, BODY, MARGIN + 120.0, line);
        }
    }

    fn paragraph(&mut self, s: &str) {
        for line in wrap(s, COL_AMOUNT - MARGIN, BODY) {
            self.advance(LEADING);
            self.text(Font::Regular, BODY, MARGIN, &line);
        }
    }

    fn section(&mut self, title: &str, lines: &[DocumentLine], total_label: &str, total: Money) {
        self.heading(title);
        self.advance(LEADING);
        self.text(Font::Bold, BODY, MARGIN, "Description");
        self.text_right(Font::Bold, BODY, COL_QTY, "Qty");
        self.text_right(Font::Bold, BODY, COL_UNIT, "Unit price");
        self.text_right(Font::Bold, BODY, COL_AMOUNT, "Amount");
        if lines.is_empty() {
            self.advance(LEADING);
            self.text(Font::Regular, BODY, MARGIN, "None.");
        }
        for line in lines {
            let wrapped = wrap(&line.description, COL_QTY - 40.0 - MARGIN, BODY);
            for (i, part) in wrapped.iter().enumerate() {
                self.advance(LEADING);
                self.text(Font::Regular, BODY, MARGIN, part);
                if i == 0 {
                    self.text_right(Font::Regular, BODY, COL_QTY, &line.quantity.to_string());
                    self.text_right(Font::Regular, BODY, COL_UNIT, &amount(line.unit));
                    self.text_right(Font::Regular, BODY, COL_AMOUNT, &amount(line.amount));
                }
            }
        }
        self.rule();
        self.advance(LEADING + 2.0);
        self.text(Font::Bold, BODY, MARGIN, total_label);
        self.text_right(Font::Regular, BODY, COL_AMOUNT, &amount(total));
    }

    /// Writes the pages into a PDF with an info dictionary dated `issued_at`.
    fn finish(self, title: &str, issued_at: DateTime<Utc>) -> Result<Vec<u8>, DocumentError> {
        let mut pdf = Document::with_version("1.7");
        let pages_id = pdf.new_object_id();
        let font = |pdf: &mut Document, base: &str| -> ObjectId {
            pdf.add_object(dictionary! {
                "Type" => "Font",
                "Subtype" => "Type1",
                "BaseFont" => base,
                "Encoding" => "WinAnsiEncoding",
            })
        };
        let regular = font(&mut pdf, "Helvetica");
        let bold = font(&mut pdf, "Helvetica-Bold");
        let resources = pdf.add_object(dictionary! {
            "Font" => dictionary! { Font::Regular.name() => regular, Font::Bold.name() => bold },
        });
        let count = self.pages.len();
        let mut kids = Vec::with_capacity(count);
        for (n, mut operations) in self.pages.into_iter().enumerate() {
            // Page numbers in the footer, once the count is known.
            let footer = format!("{title} · page {} of {count}", n + 1);
            operations.extend([
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec![Font::Regular.name().into(), 8.into()]),
                Operation::new("Td", vec![MARGIN.into(), (MARGIN / 2.0).into()]),
                Operation::new(
                    "Tj",
                    vec![Object::String(win_ansi(&footer), StringFormat::Literal)],
                ),
                Operation::new("ET", vec![]),
            ]);
            let content = Content { operations }.encode()?;
            let content_id = pdf.add_object(Stream::new(dictionary! {}, content));
            kids.push(Object::Reference(pdf.add_object(dictionary! {
                "Type" => "Page",
                "Parent" => pages_id,
                "Contents" => content_id,
            })));
        }
        pdf.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages",
                "Kids" => kids,
                "Count" => i64::try_from(count).unwrap_or(i64::MAX),
                "Resources" => resources,
                "MediaBox" => vec![0.into(), 0.into(), PAGE_W.into(), PAGE_H.into()],
            }),
        );
        let catalog = pdf.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        let info = pdf.add_object(dictionary! {
            "Title" => Object::String(win_ansi(title), StringFormat::Literal),
            "Producer" => Object::string_literal("WRK Copilot"),
            "CreationDate" => Object::string_literal(issued_at.format("D:%Y%m%d%H%M%SZ").to_string()),
        });
        pdf.trailer.set("Root", catalog);
        pdf.trailer.set("Info", info);
        let mut bytes = Vec::new();
        pdf.save_to(&mut bytes)?;
        Ok(bytes)
    }
}

/// The text in WinAnsiEncoding, the standard fonts' encoding: Latin-1 letters as they are, the
/// typographic punctuation WinAnsi has at 0x80–0x9F, control characters as spaces, and `?` for
/// anything the fonts cannot show.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{A0}'..='\u{FF}' => u32::from(c) as u8,
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '™' => 0x99,
            c if c.is_control() => b' ',
            _ => b'?',
        })
        .collect()
}

/// Helvetica's advance widths (per 1,000 units of the font size) for ASCII 32 to 126, from its
/// AFM metrics; used to right-align numbers and wrap text. Other characters count as 556.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0..?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P.._
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // `..o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p..~
];

fn width(s: &str, size: f32) -> f32 {
    let units: u32 = s
        .chars()
        .map(|c| {
            let i = (c as usize).wrapping_sub(32);
            u32::from(HELVETICA.get(i).copied().unwrap_or(556))
        })
        .sum();
    units as f32 * size / 1000.0
}

/// Greedy word wrap to `max` points; a word longer than a line is cut.
fn wrap(s: &str, max: f32, size: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in s.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if width(&candidate, size) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for c in word.chars() {
                if width(&line, size) + width(&c.to_string(), size) > max && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                let _ = line.write_char(c);
            }
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn usd(c: i64) -> Money {
        Money::new(c, Currency::USD)
    }

    fn line(description: &str, quantity: u64, unit: i64) -> DocumentLine {
        DocumentLine {
            description: description.into(),
            quantity,
            unit: usd(unit),
            amount: usd(unit * i64::try_from(quantity).unwrap()),
        }
    }

    fn quote() -> QuoteDocument {
        QuoteDocument {
            number: "Q-2026-0007-R2".into(),
            revision: 2,
            client: "Acme (Europe) Ltd — Zürich".into(),
            automation: "Invoice sync v1".into(),
            issued_at: Utc.with_ymd_and_hms(2026, 11, 3, 9, 30, 0).unwrap(),
            valid_until: Utc.with_ymd_and_hms(2026, 12, 3, 9, 30, 0).unwrap(),
            currency: Currency::USD,
            one_time: vec![line("Setup and build", 1, 250_000)],
            monthly: vec![
                line("Platform fee", 1, 20_000),
                line("Runs (1,000 included)", 1_000, 12),
            ],
            included_runs: 1_000,
            overage_unit: usd(15),
            plugin_name: "pricing".into(),
            plugin_version: "1.2.0".into(),
            signature: None,
        }
    }

    fn text_of(pdf: &[u8]) -> String {
        let doc = Document::load_mem(pdf).expect("the output parses as a PDF");
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        doc.extract_text(&pages).unwrap_or_default()
    }

    #[test]
    fn the_same_quote_renders_to_the_same_bytes_and_hash() {
        let a = render_quote(&quote()).unwrap();
        let b = render_quote(&quote()).unwrap();
        assert_eq!(a, b);
        assert_eq!(sha256_hex(&a), sha256_hex(&b));
        assert_eq!(sha256_hex(&a).len(), 64);
        let mut other = quote();
        other.valid_until += chrono::TimeDelta::days(1);
        assert_ne!(sha256_hex(&render_quote(&other).unwrap()), sha256_hex(&a));
    }

    #[test]
    fn a_rendered_quote_is_a_pdf_with_its_lines_totals_validity_and_plugin() {
        let pdf = render_quote(&quote()).unwrap();
        assert!(pdf.starts_with(b"%PDF-1.7"));
        assert!(pdf.trim_ascii_end().ends_with(b"%%EOF"));
        let doc = Document::load_mem(&pdf).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
        let text = text_of(&pdf);
        for expected in [
            "Quote Q-2026-0007-R2",
            "Setup and build",
            "One-time total",
            "USD 2,500.00",
            "Monthly total",
            // 200.00 + 1,000 × 0.12
            "USD 320.00",
            "2026-12-03 09:30 UTC",
            "pricing 1.2.0",
            "includes 1000 runs",
            "USD 0.15",
            "Not signed yet",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
    }

    #[test]
    fn a_signed_quote_shows_its_signature_block() {
        let unsigned = render_quote(&quote()).unwrap();
        let mut signed = quote();
        signed.signature = Some(SignatureBlock {
            signer_name: "Ada Lovelace".into(),
            signer_title: "COO".into(),
            signed_at: Utc.with_ymd_and_hms(2026, 11, 4, 15, 2, 0).unwrap(),
            document_sha256: sha256_hex(&unsigned),
        });
        let pdf = render_quote(&signed).unwrap();
        let text = text_of(&pdf);
        for expected in ["Signature", "Ada Lovelace", "COO", "2026-11-04 15:02 UTC"] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
        assert!(!text.contains("Not signed yet"));
        assert!(text.contains(&sha256_hex(&unsigned)[..32]));
    }

    #[test]
    fn a_long_quote_flows_onto_more_pages() {
        let mut long = quote();
        long.monthly = (0..120)
            .map(|i| line(&format!("Connector {i}: a long description that needs wrapping onto a second line of the table"), 1, 100))
            .collect();
        let pdf = render_quote(&long).unwrap();
        let doc = Document::load_mem(&pdf).unwrap();
        assert!(
            doc.get_pages().len() >= 3,
            "{} pages",
            doc.get_pages().len()
        );
        let text = text_of(&pdf);
        assert!(text.contains("Connector 119"));
        assert!(
            text.contains("USD 120.00"),
            "the monthly total of 120 lines"
        );
    }

    #[test]
    fn lines_in_another_currency_are_refused() {
        let mut mixed = quote();
        mixed.monthly[0].amount = Money::new(20_000, Currency::EUR);
        assert!(matches!(
            render_quote(&mixed),
            Err(DocumentError::Money(MoneyError::CurrencyMismatch { .. }))
        ));
    }

    fn invoice() -> InvoiceDocument {
        InvoiceDocument {
            number: "INV-2026-11-0003".into(),
            client: "Acme Inc".into(),
            period: BillingPeriod::parse("2026-11").unwrap(),
            status: "finalized".into(),
            issued_at: Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap(),
            currency: Currency::USD,
            lines: vec![
                line("Invoice sync: monthly fee (1000 runs committed)", 1, 20_000),
                line("Invoice sync: 250 runs over the 1000 committed", 250, 7),
            ],
            payment_note: Some("Charged to the card on file.".into()),
        }
    }

    #[test]
    fn an_invoice_renders_deterministically_with_its_period_lines_and_total() {
        let pdf = render_invoice(&invoice()).unwrap();
        assert_eq!(pdf, render_invoice(&invoice()).unwrap());
        assert!(pdf.starts_with(b"%PDF-") && pdf.trim_ascii_end().ends_with(b"%%EOF"));
        let text = text_of(&pdf);
        for expected in [
            "Invoice INV-2026-11-0003",
            "2026-11 (2026-11-01 to 2026-11-30)",
            "finalized",
            "250 runs over",
            "USD 17.50",
            // 200.00 + 17.50
            "USD 217.50",
            "Charged to the card on file.",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
    }

    #[test]
    fn amounts_are_grouped_by_thousands_with_two_decimals() {
        assert_eq!(amount(usd(0)), "USD 0.00");
        assert_eq!(amount(usd(5)), "USD 0.05");
        assert_eq!(amount(usd(123_456_789)), "USD 1,234,567.89");
        assert_eq!(amount(usd(-100_000)), "USD -1,000.00");
        assert_eq!(amount(usd(i64::MIN)), "USD -92,233,720,368,547,758.08");
    }

    #[test]
    fn text_outside_win_ansi_is_replaced_not_dropped() {
        assert_eq!(win_ansi("Zürich — 5 €"), b"Z\xfcrich \x97 5 \x80");
        assert_eq!(win_ansi("日本\tx"), b"?? x");
        let wrapped = wrap("a b c", 1.0, BODY);
        assert_eq!(wrapped, ["a", "b", "c"]);
        assert!(wrap(&"x".repeat(500), 100.0, BODY).len() > 1);
    }
}
