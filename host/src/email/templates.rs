//! Email templates: each returns `(subject, text, html)` — a plain-text body and an HTML body in
//! one small branded layout. Every interpolated value is HTML-escaped in the HTML part; links are
//! shown in full in the text part (mail clients and the no-SMTP log line make them clickable).

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A subject line: no newlines (header injection), trimmed, bounded.
fn subject(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// `"Hi Ada,"` or `"Hi,"` when the name is blank.
fn greeting(name: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        "Hi,".to_owned()
    } else {
        format!("Hi {name},")
    }
}

/// One message body, rendered into both parts.
struct Body<'a> {
    greeting: String,
    /// Paragraphs before the button (plain text; escaped in HTML).
    intro: Vec<String>,
    /// The call to action: label and link.
    action: Option<(&'a str, &'a str)>,
    /// Paragraphs after the button.
    outro: Vec<String>,
}

const BRAND: &str = "WRK Copilot";

fn render(subject_line: &str, body: &Body<'_>) -> (String, String, String) {
    // Plain text.
    let mut text = format!("{}\n\n", body.greeting);
    for p in &body.intro {
        text.push_str(p);
        text.push_str("\n\n");
    }
    if let Some((label, link)) = body.action {
        text.push_str(&format!("{label}:\n{link}\n\n"));
    }
    for p in &body.outro {
        text.push_str(p);
        text.push_str("\n\n");
    }
    text.push_str(&format!("— {BRAND}\n"));

    // HTML: inline styles only (mail clients drop <style> and external CSS).
    let mut html = String::new();
    html.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title></head>\n\
         <body style=\"margin:0;padding:0;background:#f4f5f7;\">\n\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"background:#f4f5f7;padding:24px 0;\"><tr><td align=\"center\">\n\
         <table role=\"presentation\" width=\"560\" cellpadding=\"0\" cellspacing=\"0\" style=\"max-width:560px;width:100%;background:#ffffff;border-radius:8px;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1f2430;font-size:15px;line-height:1.5;\">\n\
         <tr><td style=\"padding:20px 32px;border-bottom:1px solid #e6e8ec;font-weight:600;font-size:16px;color:#3b5bdb;\">{BRAND}</td></tr>\n\
         <tr><td style=\"padding:24px 32px;\">\n",
        escape_html(subject_line)
    ));
    html.push_str(&format!(
        "<p style=\"margin:0 0 16px;\">{}</p>\n",
        escape_html(&body.greeting)
    ));
    for p in &body.intro {
        html.push_str(&format!(
            "<p style=\"margin:0 0 16px;\">{}</p>\n",
            escape_html(p)
        ));
    }
    if let Some((label, link)) = body.action {
        let link = escape_html(link);
        html.push_str(&format!(
            "<p style=\"margin:24px 0;\"><a href=\"{link}\" style=\"display:inline-block;background:#3b5bdb;color:#ffffff;text-decoration:none;padding:10px 20px;border-radius:6px;font-weight:600;\">{}</a></p>\n\
             <p style=\"margin:0 0 16px;font-size:13px;color:#5c6370;\">If the button does not work, copy this link into your browser:<br><a href=\"{link}\" style=\"color:#3b5bdb;word-break:break-all;\">{link}</a></p>\n",
            escape_html(label)
        ));
    }
    for p in &body.outro {
        html.push_str(&format!(
            "<p style=\"margin:0 0 16px;color:#5c6370;font-size:13px;\">{}</p>\n",
            escape_html(p)
        ));
    }
    html.push_str(&format!(
        "</td></tr>\n<tr><td style=\"padding:16px 32px;border-top:1px solid #e6e8ec;font-size:12px;color:#8a919e;\">Sent by {BRAND}. You received this email because of an action on your account.</td></tr>\n\
         </table>\n</td></tr></table>\n</body></html>\n"
    ));
    (subject_line.to_owned(), text, html)
}

/// Flow 1B: confirm a local signup's address. `link` carries `?token=` (valid 24 h).
pub fn verify_email(link: &str, name: &str) -> (String, String, String) {
    let s = subject("Verify your email address for WRK Copilot");
    render(
        &s,
        &Body {
            greeting: greeting(name),
            intro: vec!["Please confirm your email address to finish creating your WRK Copilot account.".into()],
            action: Some(("Verify email address", link)),
            outro: vec!["This link works once and expires in 24 hours. If you did not sign up, you can ignore this email.".into()],
        },
    )
}

/// Flow 2: an invitation into a workspace. `link` carries `?token=` (valid 7 days).
pub fn invitation(
    link: &str,
    workspace_name: &str,
    inviter_name: &str,
    role: &str,
) -> (String, String, String) {
    let inviter = inviter_name.trim();
    let who = if inviter.is_empty() {
        "You have".to_owned()
    } else {
        format!("{inviter} has")
    };
    let s = subject(&format!(
        "You are invited to {workspace_name} on WRK Copilot"
    ));
    render(
        &s,
        &Body {
            greeting: greeting(""),
            intro: vec![format!(
                "{who} invited you to join the workspace \u{201c}{workspace_name}\u{201d} on WRK Copilot as {role}."
            )],
            action: Some(("Accept the invitation", link)),
            outro: vec!["This invitation works once and expires in 7 days. If you were not expecting it, you can ignore this email.".into()],
        },
    )
}

/// Flow 4: a password reset link for a local user (single use, 1 h).
pub fn password_reset(link: &str, name: &str) -> (String, String, String) {
    let s = subject("Reset your WRK Copilot password");
    render(
        &s,
        &Body {
            greeting: greeting(name),
            intro: vec!["Someone asked to reset the password of your WRK Copilot account.".into()],
            action: Some(("Choose a new password", link)),
            outro: vec![
                "This link works once and expires in 1 hour. Resetting your password signs you out everywhere.".into(),
                "If you did not ask for this, you can ignore this email; your password stays as it is.".into(),
            ],
        },
    )
}

/// Flow 4 for an SSO user: there is no WRK password to reset. `provider` is the IdP's display
/// name; `login_link` is where they sign in.
pub fn password_managed_by_idp(
    provider: &str,
    login_link: &str,
    name: &str,
) -> (String, String, String) {
    let s = subject("About your WRK Copilot password");
    render(
        &s,
        &Body {
            greeting: greeting(name),
            intro: vec![format!(
                "Someone asked to reset the password of your WRK Copilot account. Your account signs in with {provider}, so it has no WRK Copilot password: your password is managed by your identity provider."
            )],
            action: Some(("Sign in", login_link)),
            outro: vec!["To change your password, use your identity provider. If you did not ask for this, you can ignore this email.".into()],
        },
    )
}

/// A generic notification (status changes, alerts, ...): a title, a few paragraphs and an
/// optional link.
pub fn notification(
    title: &str,
    paragraphs: &[&str],
    link: Option<(&str, &str)>,
    name: &str,
) -> (String, String, String) {
    let s = subject(title);
    render(
        &s,
        &Body {
            greeting: greeting(name),
            intro: paragraphs.iter().map(|p| (*p).to_owned()).collect(),
            action: link,
            outro: Vec::new(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_in_html_and_plain_in_text() {
        let (s, text, html) = verify_email(
            "http://localhost:8080/verify-email?token=a&b=\"c\"",
            "<script>alert(1)</script>",
        );
        assert_eq!(s, "Verify your email address for WRK Copilot");
        assert!(text.contains("Hi <script>alert(1)</script>,"));
        assert!(text.contains("http://localhost:8080/verify-email?token=a&b=\"c\""));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(
            html.contains(
                "href=\"http://localhost:8080/verify-email?token=a&amp;b=&quot;c&quot;\""
            )
        );
    }

    #[test]
    fn subjects_cannot_carry_headers() {
        let (s, _, _) = invitation("http://x", "Acme\r\nBcc: evil@example.com", "Ada", "member");
        assert!(!s.contains('\n') && !s.contains('\r'), "{s}");
    }

    #[test]
    fn every_template_has_both_parts_and_its_link() {
        let link = "http://localhost:8080/x?token=t0k";
        for (s, t, h) in [
            verify_email(link, "Ada"),
            invitation(link, "Acme", "Ada", "admin"),
            password_reset(link, ""),
            password_managed_by_idp("Corp SSO", link, "Ada"),
            notification("Hello", &["One", "Two"], Some(("Open", link)), "Ada"),
        ] {
            assert!(!s.is_empty());
            assert!(t.contains(link), "{t}");
            assert!(h.contains(link) && h.contains("<html"), "{h}");
        }
        let (_, t, _) = password_reset(link, "");
        assert!(t.starts_with("Hi,\n"));
    }
}
