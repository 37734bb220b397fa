//! An outbox row as a MIME message.
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
    let built = match &row.ics {
        None => builder.singlepart(text),
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
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("http") {
        let candidate = &rest[at..];
        let end = candidate
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\''))
            .unwrap_or(candidate.len());
        if candidate.starts_with("http://") || candidate.starts_with("https://") {
            let link = candidate[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
            if !link.ends_with("://") {
                found.push(link);
            }
            rest = &candidate[end..];
        } else {
            rest = &candidate["http".len()..];
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ics: Option<&str>) -> Message {
        Message {
            id: 7,
            org_id: Some(1),
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
        assert!(text.contains("Content-Type: text/plain; charset=utf-8\r\n"));
        assert!(!text.contains("text/calendar"));
    }

    #[test]
    fn invitation_has_a_calendar_part_and_an_attachment() {
        let built = message(&from(), &row(Some(ICS)), 0).unwrap();
        let text = String::from_utf8(built.formatted()).unwrap();
        assert!(text.contains("Content-Type: multipart/mixed;"), "{text}");
        assert!(text.contains("Content-Type: multipart/alternative;"));
        assert!(text.contains("Content-Type: text/calendar; method=CANCEL; charset=utf-8\r\n"));
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
