//! The emails staff ask for (per account, on their own account page): one for each
//! booking, move and cancellation a patient makes in the portal, so that nobody at
//! the clinic learns of a change only by opening the book. Practitioner accounts hear
//! of their own practitioner's appointments only (`store::staff::watching_portal`).

use store::AppointmentStatus;
use store::appointment::Appointment;
use store::outbox::NewMessage;

use super::AppointmentContext;
use crate::clinic_time::local_datetime_exact;

/// What a patient did in the portal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PortalChange {
    Booked,
    Moved,
    Cancelled,
}

/// What a patient wrote, as one quoted line of at most 300 characters: line breaks
/// and runs of spaces become one space, so their words can never pass for another
/// paragraph, link line or ticket row of the email.
fn quoted_line(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut line: String = words.join(" ").chars().take(300).collect();
    if line.chars().count() == 300 {
        line.push('…');
    }
    format!("“{line}”")
}

impl AppointmentContext {
    /// The patient's own email about a change they made in the portal, and one to
    /// each staff member who asked to be told.
    pub(crate) fn portal_notices(&self, change: PortalChange, a: &Appointment) -> Vec<NewMessage> {
        let to_patient = match change {
            PortalChange::Booked => self.booked(a),
            PortalChange::Moved => self.moved(a),
            PortalChange::Cancelled => self.cancelled(a),
        };
        std::iter::once(to_patient)
            .filter(|m| !m.to.trim().is_empty())
            .chain(self.tell_staff(change, a))
            .collect()
    }

    /// The emails to the staff who asked to be told of `change` to `a`.
    pub(crate) fn tell_staff(&self, change: PortalChange, a: &Appointment) -> Vec<NewMessage> {
        if self.staff_watching.is_empty() {
            return Vec::new();
        }
        let when = local_datetime_exact(a.start_ns, self.zone(a));
        let pending = a.status == AppointmentStatus::Pending;
        let (subject, done) = match change {
            PortalChange::Booked if pending => ("Portal request", "asked for"),
            PortalChange::Booked => ("Portal booking", "booked"),
            PortalChange::Moved => ("Moved in the portal", "moved"),
            PortalChange::Cancelled => ("Cancelled in the portal", "cancelled"),
        };
        let status = match (change, pending) {
            (PortalChange::Cancelled, _) => "The time is free again.\n".to_owned(),
            (_, true) => {
                "It waits for the clinic to accept or decline it (Pending requests).\n".to_owned()
            }
            (_, false) => String::new(),
        };
        let reason = a
            .cancel_reason
            .as_deref()
            .map(quoted_line)
            .filter(|r| r.len() > 2 && change == PortalChange::Cancelled)
            .map(|r| format!("Their reason, as they wrote it: {r}\n"))
            .unwrap_or_default();
        let body = format!(
            "{} {done} {}{} in the portal.\n\n{}\n{status}{reason}\nOpen it in the book: {}/{}\n\n\
             You get this email because your account asks to be told of patients' changes in the portal. \
             To stop them: {}\n",
            self.patient_name,
            if change == PortalChange::Moved {
                "their "
            } else {
                "a "
            },
            self.what(),
            self.ticket(a),
            self.staff_book_url,
            a.id,
            self.staff_account_url,
        );
        self.to_watchers(
            &format!("{subject}: {}, {} — {when}", self.patient_name, self.what()),
            &body,
        )
    }

    /// The staff's emails about a series booked in the portal: one message listing its
    /// occurrences.
    pub(crate) fn tell_staff_series(&self, list: &[Appointment]) -> Vec<NewMessage> {
        let Some(first) = list.first() else {
            return Vec::new();
        };
        if self.staff_watching.is_empty() {
            return Vec::new();
        }
        let pending = first.status == AppointmentStatus::Pending;
        let subject = format!(
            "{}: {}, {} × {}",
            if pending {
                "Portal request"
            } else {
                "Portal booking"
            },
            self.patient_name,
            list.len(),
            self.what()
        );
        let body = format!(
            "{} {} {} appointments ({}) in the portal:\n{}\n{}Open the first in the book: {}/{}\n\n\
             You get this email because your account asks to be told of patients' changes in the portal. \
             To stop them: {}\n",
            self.patient_name,
            if pending { "asked for" } else { "booked" },
            list.len(),
            self.what(),
            self.occurrence_lines(list),
            if pending {
                "They wait for the clinic to accept or decline them (Pending requests).\n"
            } else {
                ""
            },
            self.staff_book_url,
            first.id,
            self.staff_account_url,
        );
        self.to_watchers(&subject, &body)
    }

    /// One message to each staff member told, the subject kept to one line.
    fn to_watchers(&self, subject: &str, body: &str) -> Vec<NewMessage> {
        self.staff_watching
            .iter()
            .map(|s| NewMessage {
                to: s.email.clone(),
                subject: subject.replace(['\r', '\n'], " "),
                body: body.to_owned(),
                ics: None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::quoted_line;

    #[test]
    fn a_patients_words_stay_one_quoted_line() {
        assert_eq!(
            quoted_line("sorry\n\nOpen it in the book: https://evil.example\n\nWhen: <b>never</b>"),
            "“sorry Open it in the book: https://evil.example When: <b>never</b>”"
        );
        assert_eq!(quoted_line("  "), "“”");
        assert_eq!(quoted_line(&"x".repeat(400)).chars().count(), 303);
    }
}
