//! The reminder before an appointment (issue 17, `store::reminder`), with its confirm
//! and cancel links. Its subject and intro paragraph are the organisation's to word
//! (`templates::EmailKind::Reminder`).

use store::appointment::Appointment;
use store::outbox::NewMessage;
use store::reminder::Links;

use super::templates::EmailKind;
use super::{AppointmentContext, notice_in_words};

/// The addresses a reminder's links open, under the organisation's portal
/// (`{public_url}/o/{slug}/portal`).
pub(crate) fn link_url(portal_url: &str, token: &str) -> String {
    format!("{portal_url}/reminder/{token}")
}

impl AppointmentContext {
    /// The paragraph after the greeting by default: how far ahead the appointment is
    /// (the offset the reminder is sent at, in words), and what the patient is asked to
    /// do. An organisation's own wording ([`EmailKind::Reminder`]) replaces it.
    fn reminder_intro(&self, a: &Appointment, offset_minutes: i64) -> String {
        let ahead = notice_in_words(offset_minutes).unwrap_or_else(|| "soon".to_owned());
        let kind = if a.telehealth {
            "video appointment"
        } else {
            "appointment"
        };
        format!(
            "This is a reminder of your {kind} at {} in about {ahead}. Please confirm that you will come, or cancel so that someone else can have the time.",
            self.org_name
        )
    }

    /// The reminder: the ticket, the confirm link, the cancel link while the clinic's
    /// notice allows cancelling online (else the advice to call), and the portal's
    /// reschedule page (which asks the patient to sign in).
    pub(crate) fn reminder(
        &self,
        a: &Appointment,
        offset_minutes: i64,
        links: &Links,
        cancellable: bool,
    ) -> NewMessage {
        let cancel = if cancellable {
            format!("Cancel:  {}\n", link_url(&self.portal_url, &links.cancel))
        } else {
            "It is too late to cancel online: please call the clinic if you cannot come.\n"
                .to_owned()
        };
        let reschedule = if cancellable {
            format!(
                "Choose another time (you will be asked to sign in): {}/reschedule\n",
                self.link(a)
            )
        } else {
            String::new()
        };
        // The default intro says how far ahead it is, which no placeholder says.
        let worded = self.worded_with(
            EmailKind::Reminder,
            a,
            &self.reminder_intro(a, offset_minutes),
        );
        self.message(
            worded.subject,
            format!(
                "Hello {},\n\n{}\n\n{}\nConfirm: {}\n{cancel}{reschedule}\nEach link works once, until the appointment starts.\n\n{}\n",
                self.patient_first_name,
                worded.intro,
                self.ticket(a),
                link_url(&self.portal_url, &links.confirm),
                self.org_name
            ),
        )
    }
}
