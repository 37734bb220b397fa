//! The emails an admin may reword: the catalogue of kinds, each with its default
//! subject and intro paragraph, and the placeholders those may hold.
//!
//! An email's subject and its first paragraph (after "Hello {first name},") are the
//! organisation's to word; what follows — the appointment's ticket (what, who, when in
//! the clinic's zone, where or how to join), its links and the clinic's rules — is
//! always the same facts, so no wording can leave a patient without the time or the
//! place. A kind the organisation has not reworded uses its default, which is what the
//! email said before templates existed.

use std::fmt;

use store::appointment::Appointment;
use store::email_template::EmailTemplate;

use super::AppointmentContext;
use crate::clinic_time::local_datetime_exact;

/// One kind of email an admin may reword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EmailKind {
    /// An appointment booked (by the patient, or staff for them).
    Booked,
    /// An appointment asked for in the portal, waiting for the clinic.
    Requested,
    /// The clinic accepted a request.
    Accepted,
    /// An appointment moved.
    Moved,
    /// The clinic declined a request.
    Declined,
    /// An appointment cancelled.
    Cancelled,
    /// A reminder before the appointment, with its confirm and cancel links.
    Reminder,
    /// A freed time offered to people on the waitlist, with the link that accepts it.
    WaitlistOffer,
    /// An offered time taken by someone else on the waitlist.
    WaitlistGone,
}

impl EmailKind {
    /// Every kind, in the order the admin's list shows them.
    pub(crate) const ALL: [EmailKind; 9] = [
        EmailKind::Booked,
        EmailKind::Requested,
        EmailKind::Accepted,
        EmailKind::Moved,
        EmailKind::Declined,
        EmailKind::Cancelled,
        EmailKind::Reminder,
        EmailKind::WaitlistOffer,
        EmailKind::WaitlistGone,
    ];

    /// The name in addresses, the API and the database.
    pub(crate) fn key(self) -> &'static str {
        match self {
            EmailKind::Booked => "booked",
            EmailKind::Requested => "requested",
            EmailKind::Accepted => "accepted",
            EmailKind::Moved => "moved",
            EmailKind::Declined => "declined",
            EmailKind::Cancelled => "cancelled",
            EmailKind::Reminder => "reminder",
            EmailKind::WaitlistOffer => "waitlist_offer",
            EmailKind::WaitlistGone => "waitlist_gone",
        }
    }

    /// The kind a name in an address or a body names.
    pub(crate) fn parse(key: &str) -> Option<EmailKind> {
        EmailKind::ALL.into_iter().find(|k| k.key() == key)
    }

    /// What the admin's list calls it.
    pub(crate) fn title(self) -> &'static str {
        match self {
            EmailKind::Booked => "Appointment booked",
            EmailKind::Requested => "Appointment requested",
            EmailKind::Accepted => "Request accepted",
            EmailKind::Moved => "Appointment moved",
            EmailKind::Declined => "Request declined",
            EmailKind::Cancelled => "Appointment cancelled",
            EmailKind::Reminder => "Reminder",
            EmailKind::WaitlistOffer => "Waitlist: a time has come free",
            EmailKind::WaitlistGone => "Waitlist: the offered time has gone",
        }
    }

    /// When it is sent, in a sentence.
    pub(crate) fn when_sent(self) -> &'static str {
        match self {
            EmailKind::Booked => {
                "When a patient books in the portal, or staff book for a patient with an email address."
            }
            EmailKind::Requested => {
                "When a patient asks for a time in the portal and the clinic accepts requests by hand."
            }
            EmailKind::Accepted => "When staff accept a patient's request.",
            EmailKind::Moved => "When the patient or staff move an appointment.",
            EmailKind::Declined => "When staff decline a patient's request.",
            EmailKind::Cancelled => "When the patient or staff cancel an appointment.",
            EmailKind::Reminder => {
                "Before a booked appointment, at the times set in Setup › Reminders, with links to confirm or cancel."
            }
            EmailKind::WaitlistOffer => {
                "When a time that suits people on the waitlist comes free: held for them, the first to accept gets it."
            }
            EmailKind::WaitlistGone => {
                "To the others offered a time, once someone on the waitlist has accepted it."
            }
        }
    }

    /// The default subject, with placeholders.
    pub(crate) fn default_subject(self) -> &'static str {
        match self {
            EmailKind::Booked | EmailKind::Accepted => "Appointment confirmed: {what}",
            EmailKind::Requested => "Appointment requested: {what}",
            EmailKind::Moved => "Appointment moved: {what}",
            EmailKind::Declined => "Appointment request declined: {what}",
            EmailKind::Cancelled => "Appointment cancelled: {what}",
            EmailKind::Reminder => "Reminder: {what}, {when}",
            EmailKind::WaitlistOffer => "A time has come free: {what}",
            EmailKind::WaitlistGone => "The offered time has gone: {what}",
        }
    }

    /// The default intro paragraph, with placeholders.
    pub(crate) fn default_intro(self) -> &'static str {
        match self {
            EmailKind::Booked => "Your appointment is booked.",
            EmailKind::Requested => {
                "Your appointment request is with the clinic. It will confirm it soon; we will email you either way."
            }
            EmailKind::Accepted => "The clinic confirmed your {what} for {when}.",
            EmailKind::Moved => "Your {what} has moved to {when}.",
            EmailKind::Declined => {
                "The clinic could not accept your request for a {what} on {when}."
            }
            EmailKind::Cancelled => "Your {what} on {when} is cancelled.",
            EmailKind::Reminder => {
                "This is a reminder of your appointment at {clinic} on {when}. Please confirm that you will come, or cancel so that someone else can have the time."
            }
            EmailKind::WaitlistOffer => {
                "A time you are waiting for has come free at {clinic}: {what} on {when}. We are holding it for a short while for you and a few other people on the waitlist; the first to accept gets it."
            }
            EmailKind::WaitlistGone => {
                "The time we offered you at {clinic}, {what} on {when}, has been taken by someone else on the waitlist. You are still on the waitlist: we will email you when another time comes free."
            }
        }
    }
}

impl fmt::Display for EmailKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The placeholders a subject or intro may hold, each with what it becomes.
pub(crate) const PLACEHOLDERS: [(&str, &str); 7] = [
    ("{first_name}", "the patient's first name"),
    (
        "{what}",
        "the service and practitioner, e.g. \"Physiotherapy with Dr Lee\"",
    ),
    ("{service}", "the service's name"),
    ("{practitioner}", "the practitioner's name"),
    ("{when}", "the date and time in the clinic's zone"),
    ("{where}", "the clinic's name, or \"video\""),
    ("{clinic}", "your organisation's name"),
];

/// Checks that every `{…}` in `text` is a known placeholder; the error names the
/// field and the first unknown one.
pub(crate) fn check_placeholders(field: &str, text: &str) -> store::Result<()> {
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        let tail = &rest[open..];
        if tail.starts_with('}') {
            return Err(store::Error::invalid(
                field,
                "A closing brace } needs its opening brace: braces only mark placeholders.",
            ));
        }
        let Some(close) = tail.find('}') else {
            return Err(store::Error::invalid(
                field,
                "An opening brace { needs its closing brace: braces only mark placeholders.",
            ));
        };
        let name = &tail[..=close];
        if !PLACEHOLDERS.iter().any(|(known, _)| *known == name) {
            return Err(store::Error::invalid(
                field,
                format!(
                    "{name} is not a placeholder. Use {}.",
                    PLACEHOLDERS
                        .iter()
                        .map(|(p, _)| *p)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        rest = &tail[close + 1..];
    }
    Ok(())
}

/// Checks a wording as saved: the store's lengths and the placeholders, every field's
/// problem at once.
pub(crate) fn check(subject: &str, intro: &str) -> store::Result<()> {
    let mut problems = store::Problems::new();
    problems.check(store::email_template::check(subject, intro));
    problems.check(check_placeholders("subject", subject));
    problems.check(check_placeholders("intro", intro));
    problems.done(Some(()))
}

/// A subject and an intro paragraph, filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Worded {
    pub subject: String,
    pub intro: String,
}

impl AppointmentContext {
    /// The organisation's wording of `kind` for appointment `a`, or the default.
    pub(crate) fn worded(&self, kind: EmailKind, a: &Appointment) -> Worded {
        self.worded_with(kind, a, kind.default_intro())
    }

    /// [`AppointmentContext::worded`] with another default intro: one that depends on
    /// the appointment more than placeholders say (who moved it).
    pub(crate) fn worded_with(
        &self,
        kind: EmailKind,
        a: &Appointment,
        default_intro: &str,
    ) -> Worded {
        let saved = self.templates.iter().find(|t| t.kind == kind.key());
        let (subject, intro) = match saved {
            Some(EmailTemplate { subject, intro, .. }) => (subject.as_str(), intro.as_str()),
            None => (kind.default_subject(), default_intro),
        };
        Worded {
            // A subject stays one line whatever a name holds.
            subject: self.fill(subject, a).replace(['\r', '\n'], " "),
            intro: self.fill(intro, a),
        }
    }

    /// `text` with its placeholders filled in for `a`.
    fn fill(&self, text: &str, a: &Appointment) -> String {
        let where_ = if a.telehealth {
            "video".to_owned()
        } else {
            self.clinic(a)
                .map_or_else(|| self.org_name.clone(), |c| c.name.trim().to_owned())
        };
        let values = [
            ("{first_name}", self.patient_first_name.clone()),
            ("{what}", self.what()),
            (
                "{service}",
                self.service_name
                    .clone()
                    .unwrap_or_else(|| "appointment".to_owned()),
            ),
            ("{practitioner}", self.practitioner_name.clone()),
            ("{when}", local_datetime_exact(a.start_ns, self.zone(a))),
            ("{where}", where_),
            ("{clinic}", self.org_name.clone()),
        ];
        // One pass over the text, so a value holding a placeholder's spelling (a
        // patient named "{what}") is never filled in again.
        let mut out = String::with_capacity(text.len() + 64);
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let tail = &rest[open..];
            match values.iter().find(|(name, _)| tail.starts_with(name)) {
                Some((name, value)) => {
                    out.push_str(value);
                    rest = &tail[name.len()..];
                }
                None => {
                    out.push('{');
                    rest = &tail[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_uses_known_placeholders_only() {
        for kind in EmailKind::ALL {
            check(kind.default_subject(), kind.default_intro())
                .unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_eq!(EmailKind::parse(kind.key()), Some(kind));
        }
        assert_eq!(EmailKind::parse("nope"), None);
    }

    #[test]
    fn unknown_placeholders_and_stray_braces_are_refused_naming_the_field() {
        let refused = |field: &str, text: &str| match check_placeholders(field, text) {
            Err(store::Error::Invalid { field, message }) => (field, message),
            other => panic!("{text:?} was not refused: {other:?}"),
        };
        let (field, message) = refused("subject", "Hi {name}");
        assert_eq!(field, "subject");
        assert!(
            message.starts_with("{name} is not a placeholder"),
            "{message}"
        );
        assert_eq!(refused("intro", "a } b").0, "intro");
        assert_eq!(refused("intro", "a { b").0, "intro");
        assert!(check_placeholders("intro", "See you {when} at {where}.").is_ok());
        assert!(check_placeholders("intro", "No braces at all.").is_ok());
    }
}
