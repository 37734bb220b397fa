//! The reminder before an appointment (issue 17, `store::reminder`), with its confirm
//! and cancel links. Its subject and intro paragraph are the organisation's to word
//! (`templates::EmailKind::Reminder`).

use store::appointment::Appointment;
use store::outbox::NewMessage;
use store::reminder::Links;

use super::AppointmentContext;
use super::templates::EmailKind;

/// The addresses a reminder's links open, under the organisation's portal
/// (`{public_url}/o/{slug}/portal`).
pub(crate) fn link_url(portal_url: &str, token: &str) -> String {
    format!("{portal_url}/reminder/{token}")
}

impl AppointmentContext {
    /// The reminder: the organisation's wording ([`EmailKind::Reminder`], else the
    /// catalogue's default, exactly what Setup › Emails previews; no "in about …",
    /// which an offset would say wrongly for a reminder sent late), the ticket (which
    /// says a video appointment is one), the confirm link, the cancel link while the
    /// clinic's notice allows cancelling online (else the advice to call), and the
    /// portal's reschedule page (which asks the patient to sign in).
    pub(crate) fn reminder(&self, a: &Appointment, links: &Links, cancellable: bool) -> NewMessage {
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
        let worded = self.worded(EmailKind::Reminder, a);
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
