//! An outbox row as a MIME message.
//!
//! Every message has its plain text and, as its alternative, HTML showing the same
//! text: paragraphs, the appointment's ticket as a table, a series' occurrences as a
//! list, and working links (the template escapes every piece of text).
//!
//! A message with a calendar invitation is built the way calendar clients expect an
//! iTIP invitation (RFC 6047): `multipart/mixed` holding a `multipart/alternative` of
//! the text and a `text/calendar; method=…` part — which mail clients show as an
//! invitation with its buttons — and the same calendar again as an `invite.ics`
//! attachment, for clients that only offer files.

use std::time::{Duration, SystemTime};

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use store::outbox::Message;

use super::MailError;

/// The message for an outbox row, from `from`, dated `now_ns`.
///
/// Its `Message-ID` is derived from the row, so if a message is delivered twice (a
/// sender that stopped between handing it over and recording it), the copies can be
/// recognised as one.
pub(crate) fn message(
    from: &Mailbox,
    row: &Message,
    now_ns: i64,
) -> Result<lettre::Message, MailError> {
    let to: Mailbox = row.to_address.parse().map_err(|e| {
        MailError::Message(format!(
            "recipient {:?} is not an address: {e}",
            row.to_address
        ))
    })?;
    let date = SystemTime::UNIX_EPOCH + Duration::from_nanos(u64::try_from(now_ns).unwrap_or(0));
    let builder = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(row.subject.as_str())
        .date(date)
        .message_id(Some(format!(
            "<openslot.{}.{}@{}>",
            row.id,
            row.created_at_ns,
            from.email.domain()
        )));
    let text = SinglePart::plain(row.body_text.clone());
    let html = SinglePart::html(html(&row.subject, &row.body_text)?);
    let built = match &row.ics {
        None => builder.multipart(MultiPart::alternative().singlepart(text).singlepart(html)),
        Some(ics) => {
            let calendar = SinglePart::builder()
                .header(calendar_type(ics))
                .body(ics.clone());
            let attachment = Attachment::new("invite.ics".to_owned()).body(
                ics.clone(),
                ContentType::parse("application/ics").expect("a valid content type"),
            );
            builder.multipart(
                MultiPart::mixed()
                    .multipart(
                        MultiPart::alternative()
                            .singlepart(text)
                            .singlepart(html)
                            .singlepart(calendar),
                    )
                    .singlepart(attachment),
            )
        }
    };
    built.map_err(|e| MailError::Message(e.to_string()))
}

/// `text/calendar; method=REQUEST; charset=utf-8`, with the method the calendar
/// itself states: iTIP requires the two to agree. A calendar without a `METHOD` line
/// gets no method parameter.
pub(crate) fn calendar_type(ics: &str) -> ContentType {
    let text = match method(ics) {
        Some(method) => format!("text/calendar; method={method}; charset=utf-8"),
        None => "text/calendar; charset=utf-8".to_owned(),
    };
    ContentType::parse(&text).expect("a valid content type")
}

/// The calendar's `METHOD` (`REQUEST`, `CANCEL`, …), if it states one that can go in
/// a header parameter.
pub(crate) fn method(ics: &str) -> Option<String> {
    ics.lines()
        .take_while(|line| !line.eq_ignore_ascii_case("BEGIN:VEVENT"))
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("METHOD").then(|| value.trim())
        })
        .filter(|value| {
            !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        .map(str::to_ascii_uppercase)
}

/// The `http://` and `https://` links in a text, without the punctuation that ends a
/// sentence after them.
pub(crate) fn links(text: &str) -> Vec<&str> {
    link_spans(text)
        .into_iter()
        .map(|(a, b)| &text[a..b])
        .collect()
}

/// Where the links of [`links`] are in `text`: byte ranges.
fn link_spans(text: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("http") {
        let start = from + at;
        let candidate = &text[start..];
        let end = candidate
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\''))
            .unwrap_or(candidate.len());
        if candidate.starts_with("http://") || candidate.starts_with("https://") {
            let link = candidate[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
            if !link.ends_with("://") {
                found.push((start, start + link.len()));
            }
            from = start + end;
        } else {
            from = start + "http".len();
        }
    }
    found
}

/// A piece of a line of the HTML part: text, or a link.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Text(String),
    Link(String),
}

/// Where `“…”` quotes are in a line: someone's own words (a patient's reason), whose
/// addresses the HTML part leaves as text rather than links.
fn quoted_spans(line: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(open) = line[from..].find('“') {
        let start = from + open;
        let Some(close) = line[start..].find('”') else {
            spans.push((start, line.len()));
            break;
        };
        let end = start + close + '”'.len_utf8();
        spans.push((start, end));
        from = end;
    }
    spans
}

/// A line's text and links (none inside `“…”` quotes).
fn segments(line: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut at = 0;
    let quoted = quoted_spans(line);
    let links = link_spans(line)
        .into_iter()
        .filter(|(start, _)| !quoted.iter().any(|(a, b)| a <= start && start < b));
    for (start, end) in links {
        if start > at {
            out.push(Segment::Text(line[at..start].to_owned()));
        }
        out.push(Segment::Link(line[start..end].to_owned()));
        at = end;
    }
    if at < line.len() {
        out.push(Segment::Text(line[at..].to_owned()));
    }
    out
}

/// One row of an appointment's ticket: `When:` and its lines.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fact {
    label: String,
    lines: Vec<Vec<Segment>>,
}

/// A part of the HTML body.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Block {
    /// Lines of one paragraph.
    Paragraph(Vec<Vec<Segment>>),
    /// The ticket's `What:`/`Who:`/`When:`/`Where:` lines, as a table.
    Facts(Vec<Fact>),
    /// `  - ` lines (a series' occurrences), as a list.
    List(Vec<Vec<Segment>>),
}

/// The label of a ticket line: one capitalised word and a colon, then the value after
/// spaces (`When:  Tue 3 Mar 2026, …`).
fn fact_label(line: &str) -> Option<(&str, &str)> {
    let (label, value) = line.split_once(':')?;
    let mut chars = label.chars();
    let word = chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_lowercase())
        && label.len() <= 12;
    (word && value.starts_with(' ') && !value.trim().is_empty()).then(|| (label, value.trim()))
}

/// The plain text's structure, which the HTML part shows: paragraphs separated by blank
/// lines, ticket lines (with their indented continuation lines) as a table, and
/// `  - ` lines as a list; links become links.
fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut paragraph: Vec<Vec<Segment>> = Vec::new();
    let flush = |paragraph: &mut Vec<Vec<Segment>>, out: &mut Vec<Block>| {
        if !paragraph.is_empty() {
            out.push(Block::Paragraph(std::mem::take(paragraph)));
        }
    };
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            flush(&mut paragraph, &mut out);
            continue;
        }
        if let Some((label, value)) = fact_label(line) {
            flush(&mut paragraph, &mut out);
            let fact = Fact {
                label: label.to_owned(),
                lines: vec![segments(value)],
            };
            match out.last_mut() {
                Some(Block::Facts(facts)) => facts.push(fact),
                _ => out.push(Block::Facts(vec![fact])),
            }
            continue;
        }
        if line.starts_with("  ")
            && !line.trim_start().starts_with("- ")
            && paragraph.is_empty()
            && let Some(Block::Facts(facts)) = out.last_mut()
            && let Some(last) = facts.last_mut()
        {
            last.lines.push(segments(trimmed));
            continue;
        }
        if let Some(item) = line
            .trim_start()
            .strip_prefix("- ")
            .filter(|_| line.starts_with("  "))
        {
            flush(&mut paragraph, &mut out);
            match out.last_mut() {
                Some(Block::List(items)) => items.push(segments(item.trim())),
                _ => out.push(Block::List(vec![segments(item.trim())])),
            }
            continue;
        }
        paragraph.push(segments(trimmed));
    }
    flush(&mut paragraph, &mut out);
    out
}

/// The HTML part of a message: its plain text's paragraphs, ticket and lists, escaped
/// by the template, with links that work.
#[derive(askama::Template)]
#[template(path = "email/message.html")]
struct HtmlPart<'a> {
    subject: &'a str,
    blocks: Vec<Block>,
    /// Inline styles, which mail clients need.
    styled: bool,
}

/// The HTML alternative of a plain-text body.
pub(crate) fn html(subject: &str, text: &str) -> Result<String, MailError> {
    askama::Template::render(&HtmlPart {
        subject,
        blocks: blocks(text),
        styled: true,
    })
    .map_err(|e| MailError::Message(format!("the HTML part: {e}")))
}

/// The body of [`html`] without inline styles, for a page whose stylesheet styles it
/// (the admin's preview of an email).
#[derive(askama::Template)]
#[template(path = "email/body.html")]
pub(crate) struct HtmlBody {
    blocks: Vec<Block>,
    styled: bool,
}

impl HtmlBody {
    /// The body of a plain-text email's HTML part.
    pub(crate) fn of(text: &str) -> HtmlBody {
        HtmlBody {
            blocks: blocks(text),
            styled: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ics: Option<&str>) -> Message {
        Message {
            id: 7,
            org_id: 1,
            to_address: "pat@example.com".into(),
            subject: "Your appointment — Monday".into(),
            body_text: "Hello Pat,\nsee you soon: https://book.example.com/o/demo/portal.\n".into(),
            ics: ics.map(str::to_owned),
            status: "sending".into(),
            attempts: 0,
            next_attempt_at_ns: 0,
            last_error: None,
            created_at_ns: 1_772_366_400_000_000_000,
            sent_at_ns: None,
        }
    }

    fn from() -> Mailbox {
        "Lakeshore Physio <no-reply@book.example.com>"
            .parse()
            .unwrap()
    }

    const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:CANCEL\r\nBEGIN:VEVENT\r\nUID:x@y\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn plain_message() {
        let built = message(&from(), &row(None), 1_772_366_400_000_000_000).unwrap();
        let text = String::from_utf8(built.formatted()).unwrap();
        assert!(text.contains("From: \"Lakeshore Physio\" <no-reply@book.example.com>\r\n"));
        assert!(text.contains("To: pat@example.com\r\n"));
        assert!(
            text.contains("Date: Sun, 01 Mar 2026 12:00:00 +0000\r\n"),
            "{text}"
        );
        assert!(text.contains("Message-ID: <openslot.7.1772366400000000000@book.example.com>\r\n"));
        assert!(
            text.contains("Content-Type: multipart/alternative;"),
            "{text}"
        );
        assert!(text.contains("Content-Type: text/plain; charset=utf-8\r\n"));
        assert!(text.contains("Content-Type: text/html; charset=utf-8\r\n"));
        // The plain part comes first: clients show the last alternative they can.
        assert!(text.find("text/plain").unwrap() < text.find("text/html").unwrap());
        assert!(!text.contains("text/calendar"));
    }

    fn html_of_line(line: &str) -> Vec<Segment> {
        segments(line)
    }

    #[test]
    fn the_html_part_escapes_text_and_links_its_links() {
        let body = "Hello <b>Pat</b> & co,\n\nYour appointment is booked.\n\n\
                    What:  Physio \"deep\"\nWhen:  Tue 3 Mar 2026, 09:00 EST (UTC-05:00)\n       Toronto time (EST)\n\
                    Where: Video: join at https://meet.example/x?a=1&b=2.\n\
                    Change or cancel: https://book.example/o/demo/portal/appointments/7\n\n\
                    Every appointment:\n  - Tue 3 Mar\n  - Tue 10 Mar\n\nLakeshore Physio\n";
        let html = html("Booked <now>", body).unwrap();
        assert!(
            html.contains("<title>Booked &#60;now&#62;</title>"),
            "{html}"
        );
        assert!(!html.contains("<b>Pat</b>"), "{html}");
        assert!(html.contains("Pat") && html.contains("&#38; co"), "{html}");
        assert!(
            html.contains("<th scope=\"row\""),
            "the ticket is a table: {html}"
        );
        assert!(html.contains("Toronto time (EST)"), "{html}");
        assert!(
            html.contains("href=\"https://meet.example/x?a=1&#38;b=2\""),
            "{html}"
        );
        assert!(
            html.contains("href=\"https://book.example/o/demo/portal/appointments/7\""),
            "{html}"
        );
        assert!(html.contains("<li>Tue 10 Mar</li>"), "{html}");
        // Someone's quoted words keep their addresses as text.
        let quoted =
            html_of_line("Their reason: “see https://evil.example/x now” and https://ok.example/y");
        assert_eq!(
            quoted,
            [
                Segment::Text("Their reason: “see https://evil.example/x now” and ".into()),
                Segment::Link("https://ok.example/y".into()),
            ]
        );
        assert_eq!(
            blocks("What:  A\n       B\nWho:   C\n"),
            [Block::Facts(vec![
                Fact {
                    label: "What".into(),
                    lines: vec![
                        vec![Segment::Text("A".into())],
                        vec![Segment::Text("B".into())]
                    ]
                },
                Fact {
                    label: "Who".into(),
                    lines: vec![vec![Segment::Text("C".into())]]
                },
            ])]
        );
    }

    #[test]
    fn invitation_has_a_calendar_part_and_an_attachment() {
        let built = message(&from(), &row(Some(ICS)), 0).unwrap();
        let text = String::from_utf8(built.formatted()).unwrap();
        assert!(text.contains("Content-Type: multipart/mixed;"), "{text}");
        assert!(text.contains("Content-Type: multipart/alternative;"));
        assert!(text.contains("Content-Type: text/calendar; method=CANCEL; charset=utf-8\r\n"));
        assert!(text.contains("Content-Type: text/html; charset=utf-8\r\n"));
        assert!(text.contains("Content-Disposition: attachment; filename=\"invite.ics\"\r\n"));
        assert_eq!(text.matches("METHOD:CANCEL\r\n").count(), 2);
    }

    #[test]
    fn a_bad_recipient_is_a_message_error() {
        let mut bad = row(None);
        bad.to_address = "not an address".into();
        assert!(matches!(
            message(&from(), &bad, 0),
            Err(MailError::Message(_))
        ));
    }

    #[test]
    fn the_method_comes_from_the_calendar() {
        assert_eq!(method(ICS).as_deref(), Some("CANCEL"));
        assert_eq!(
            method("BEGIN:VCALENDAR\nmethod:request\n").as_deref(),
            Some("REQUEST")
        );
        assert_eq!(method("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"), None);
        // Nothing that could break out of the header parameter is taken.
        assert_eq!(method("METHOD:REQUEST; x=\"y\"\r\n"), None);
        // A METHOD inside the event is not the calendar's.
        assert_eq!(method("BEGIN:VEVENT\r\nMETHOD:REQUEST\r\n"), None);
        assert_eq!(
            calendar_type("BEGIN:VCALENDAR\r\n"),
            ContentType::parse("text/calendar; charset=utf-8").unwrap()
        );
    }

    #[test]
    fn links_are_found_without_trailing_punctuation() {
        let text = "Set your password: https://book.example.com/o/demo/portal/invite?t=abc.\n\
                    Or (http://127.0.0.1:3000/x), not httpfoo or http:// alone; \
                    <https://a.example/b>";
        assert_eq!(
            links(text),
            [
                "https://book.example.com/o/demo/portal/invite?t=abc",
                "http://127.0.0.1:3000/x",
                "https://a.example/b",
            ]
        );
        assert!(links("no links here").is_empty());
    }
}
