//! Email: templates, the outbox, and SMTP delivery with lettre (email work fills this in).
