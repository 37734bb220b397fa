//! The waitlist's emails (issue 17): a freed time offered, the offer gone to someone
//! else, and the booking an accepted offer made. The organisation words the first two
//! (`templates::EmailKind::WaitlistOffer` and `WaitlistGone`).

use store::appointment::Appointment;
use store::outbox::NewMessage;

use super::AppointmentContext;
use super::templates::EmailKind;
use crate::clinic_time::local_datetime_exact;

/// The offer's opening paragraph by default: what freed (with where), and that the
/// first to accept gets it. An organisation's own wording replaces it.
fn offered_intro(c: &AppointmentContext, a: &Appointment) -> String {
    format!(
        "A time you are waiting for has come free at {}: {} on {}. We are holding it for a short while for \
         you and a few other people on the waitlist; the first to accept gets it.",
        c.org_name,
        c.what(),
        c.when_where(a)
    )
}

/// The opening paragraph by default when the time went to someone else.
fn gone_intro(c: &AppointmentContext, a: &Appointment) -> String {
    format!(
        "The time we offered you at {}, {} on {}, has been taken by someone else on the waitlist. \
         You are still on the waitlist: we will email you when another time comes free.",
        c.org_name,
        c.what(),
        c.when_where(a)
    )
}

impl AppointmentContext {
    /// The offer of a freed time, with the single-use link that accepts it
    /// (`{portal}/offers/{token}`, from the configured public address only) and when
    /// the hold runs out.
    pub(crate) fn waitlist_offered(
        &self,
        a: &Appointment,
        token: &str,
        expires_at_ns: i64,
    ) -> NewMessage {
        let until = local_datetime_exact(expires_at_ns, self.zone(a));
        let worded = self.worded_with(EmailKind::WaitlistOffer, a, &offered_intro(self, a));
        self.message(
            worded.subject,
            format!(
                "Hello {},\n\n{}\n\n{}\nAccept it here (the link works once, until {until}):\n{}/offers/{token}\n\n\
                 If it does not suit you, do nothing: the time goes to the next person.\n\n{}\n",
                self.patient_first_name,
                worded.intro,
                self.ticket(a),
                self.portal_url,
                self.org_name
            ),
        )
    }

    /// The offered time went to someone else: which time (the ticket, whatever the
    /// wording), and where the patient's waitlist is.
    pub(crate) fn waitlist_gone(&self, a: &Appointment) -> NewMessage {
        let worded = self.worded_with(EmailKind::WaitlistGone, a, &gone_intro(self, a));
        self.message(
            worded.subject,
            format!(
                "Hello {},\n\n{}\n\nThe time that has gone:\n{}\nSee your waitlist here: {}/waitlist\n\n{}\n",
                self.patient_first_name,
                worded.intro,
                self.ticket(a),
                self.portal_url,
                self.org_name
            ),
        )
    }
}
