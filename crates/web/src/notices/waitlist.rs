//! The waitlist's emails (issue 17): a freed time offered, the offer gone to someone
//! else, and the booking an accepted offer made. Each email's subject and opening
//! paragraph come from one small function, so that admin-adjustable templates can
//! replace them.

use store::appointment::Appointment;
use store::outbox::NewMessage;

use super::AppointmentContext;
use crate::clinic_time::local_datetime_exact;

/// The offer's subject: `A time has come free: Physio with Dr Ada`.
pub(crate) fn offered_subject(c: &AppointmentContext, _a: &Appointment) -> String {
    format!("A time has come free: {}", c.what())
}

/// The offer's opening paragraph: what freed, and that the first to accept gets it.
pub(crate) fn offered_intro(c: &AppointmentContext, a: &Appointment) -> String {
    format!(
        "A time you are waiting for has come free at {}: {} on {}. We are holding it for a short while for \
         you and a few other people on the waitlist; the first to accept gets it.",
        c.org_name,
        c.what(),
        c.when_where(a)
    )
}

/// The subject when the time went to someone else.
pub(crate) fn gone_subject(c: &AppointmentContext, _a: &Appointment) -> String {
    format!("The offered time has gone: {}", c.what())
}

/// The opening paragraph when the time went to someone else.
pub(crate) fn gone_intro(c: &AppointmentContext, a: &Appointment) -> String {
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
        self.message(
            offered_subject(self, a),
            format!(
                "Hello {},\n\n{}\n\n{}\nAccept it here (the link works once, until {until}):\n{}/offers/{token}\n\n\
                 If it does not suit you, do nothing: the time goes to the next person.\n\n{}\n",
                self.patient_first_name,
                offered_intro(self, a),
                self.ticket(a),
                self.portal_url,
                self.org_name
            ),
        )
    }

    /// The offered time went to someone else.
    pub(crate) fn waitlist_gone(&self, a: &Appointment) -> NewMessage {
        self.message(
            gone_subject(self, a),
            format!(
                "Hello {},\n\n{}\n\nSee your waitlist here: {}/waitlist\n\n{}\n",
                self.patient_first_name,
                gone_intro(self, a),
                self.portal_url,
                self.org_name
            ),
        )
    }
}
