//! The emails patients receive: what they say. They are queued in the same transaction
//! as the change they announce (through `store::appointment::Notify` or directly with
//! `store::outbox::enqueue`), and the background sender delivers them.

use chrono_tz::Tz;
use store::AppointmentStatus;
use store::appointment::Appointment;
use store::clinic::Clinic;
use store::outbox::NewMessage;

use crate::clinic_time::local_datetime_exact;
use crate::ics::{self, IcsAppointment, IcsMethod};
use crate::state::AppState;

mod reminders;
pub(crate) mod staff;
pub(crate) mod templates;

use templates::EmailKind;

/// A notice of `minutes` in words, in its largest whole unit (`90 minutes`, `24 hours`,
/// `3 days`); none for no notice. The booking email and the booked page say the
/// clinic's cancellation rule with it.
pub(crate) fn notice_in_words(minutes: i64) -> Option<String> {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match minutes {
        m if m <= 0 => None,
        m if m % (24 * 60) == 0 && m >= 48 * 60 => Some(plural(m / (24 * 60), "day")),
        m if m % 60 == 0 => Some(plural(m / 60, "hour")),
        m => Some(plural(m, "minute")),
    }
}

/// What the appointment emails of one patient, practitioner and service need to know.
#[derive(Clone, Debug)]
pub(crate) struct AppointmentContext {
    /// The organisation's name (the sender people recognise).
    pub org_name: String,
    /// The portal's address, `{public_url}/o/{slug}/portal`, which the emails' links
    /// start with.
    pub portal_url: String,
    /// Where the emails go; when blank there is nobody to tell
    /// ([`AppointmentContext::for_patient`]).
    pub patient_email: String,
    /// The patient's first name.
    pub patient_first_name: String,
    /// The patient's full name (the calendar invitation's attendee).
    pub patient_name: String,
    /// The address emails come from: the organiser of calendar invitations.
    pub organiser_email: String,
    /// The server's public URL (the domain of calendar event ids).
    pub public_url: String,
    /// The practitioner's name: emails speak of `{service} with {practitioner}`.
    pub practitioner_name: String,
    /// The service's name, if any.
    pub service_name: Option<String>,
    /// Every clinic of the organisation (the appointment names its clinic).
    pub clinics: Vec<Clinic>,
    /// Where the practitioner's video appointments are joined: their own link, else
    /// the organisation's; empty when neither is set.
    pub video_link: String,
    /// How long before its start a patient may still change or cancel online (the
    /// organisation's rule), minutes.
    pub cancellation_notice_minutes: i64,
    /// The organisation's own wording of the emails it has reworded
    /// ([`templates`]).
    pub templates: Vec<store::email_template::EmailTemplate>,
    /// The staff accounts told of a patient's changes in the portal to appointments
    /// with this practitioner ([`staff`]).
    pub staff_watching: Vec<store::staff::StaffUser>,
    /// `{public_url}/o/{slug}/admin/book/appointments`: staff emails link an
    /// appointment's page under it.
    pub staff_book_url: String,
    /// `{public_url}/o/{slug}/admin/account`, where staff turn their emails off.
    pub staff_account_url: String,
}

impl AppointmentContext {
    /// Loads the context for an appointment of `patient` with `practitioner`.
    pub(crate) async fn load(
        state: &AppState,
        org: &store::Organisation,
        patient: i64,
        practitioner: i64,
        service: Option<i64>,
    ) -> store::Result<AppointmentContext> {
        let p = {
            let mut conn = state.db.conn().await?;
            store::patient::get(conn.exec(), org.id, patient).await?
        };
        Self::of_patient(state, org, &p, practitioner, service).await
    }

    /// [`AppointmentContext::load`] for a patient already read (the signed-in one).
    pub(crate) async fn of_patient(
        state: &AppState,
        org: &store::Organisation,
        p: &store::patient::Patient,
        practitioner: i64,
        service: Option<i64>,
    ) -> store::Result<AppointmentContext> {
        let mut conn = state.db.conn().await?;
        let clinics = store::clinic::all(conn.exec(), org.id).await?;
        let seen = store::practitioner::get(conn.exec(), org.id, practitioner).await?;
        let service_name = match service {
            Some(id) => Some(store::portal::service_name(conn.exec(), org.id, id).await?),
            None => None,
        };
        Ok(AppointmentContext {
            org_name: org.name.clone(),
            portal_url: format!("{}/o/{}/portal", state.config.public_url, org.slug),
            patient_name: p.full_name(),
            patient_email: p.email.clone(),
            patient_first_name: p.first_name.clone(),
            organiser_email: state.config.mail.from.email.to_string(),
            public_url: state.config.public_url.clone(),
            video_link: if seen.video_link.is_empty() {
                org.video_link.clone()
            } else {
                seen.video_link.clone()
            },
            practitioner_name: seen.name,
            service_name,
            clinics,
            cancellation_notice_minutes: org.cancellation_notice_minutes,
            templates: store::email_template::all(conn.exec(), org.id).await?,
            staff_watching: store::staff::watching_portal(conn.exec(), org.id, practitioner)
                .await?,
            staff_book_url: format!(
                "{}/o/{}/admin/book/appointments",
                state.config.public_url, org.slug
            ),
            staff_account_url: format!("{}/o/{}/admin/account", state.config.public_url, org.slug),
        })
    }

    /// The context for what staff do to one of `patient`'s appointments: `None` when
    /// the appointment has no patient, or the patient no email address, so there is
    /// nobody to tell.
    pub(crate) async fn for_patient(
        state: &AppState,
        org: &store::Organisation,
        patient: Option<i64>,
        practitioner: i64,
        service: Option<i64>,
    ) -> store::Result<Option<AppointmentContext>> {
        let Some(patient) = patient else {
            return Ok(None);
        };
        let context = AppointmentContext::load(state, org, patient, practitioner, service).await?;
        Ok((!context.patient_email.trim().is_empty()).then_some(context))
    }

    /// [`AppointmentContext::for_patient`] for an existing appointment, seen with
    /// `practitioner` (a move's new practitioner) or its own.
    pub(crate) async fn for_appointment(
        state: &AppState,
        org: &store::Organisation,
        id: i64,
        practitioner: Option<i64>,
    ) -> store::Result<Option<AppointmentContext>> {
        let a = {
            let mut conn = state.db.conn().await?;
            store::appointment::get(conn.exec(), org.id, id).await?
        };
        Self::for_patient(
            state,
            org,
            a.patient_id,
            practitioner.unwrap_or(a.practitioner_id),
            a.service_id,
        )
        .await
    }

    /// The appointment's clinic: every appointment names one (migration 0016).
    fn clinic(&self, a: &Appointment) -> Option<&Clinic> {
        self.clinics.iter().find(|c| Some(c.id) == a.clinic_id)
    }

    fn zone(&self, a: &Appointment) -> Tz {
        self.clinic(a).map_or(chrono_tz::UTC, Clinic::zone)
    }

    fn what(&self) -> String {
        match &self.service_name {
            Some(service) => format!("{service} with {}", self.practitioner_name),
            None => format!("appointment with {}", self.practitioner_name),
        }
    }

    /// `Tue 3 Mar 2026, 09:00 EST (UTC-05:00) at Kitsilano, 2400 W 4th Ave, Vancouver
    /// (America/Vancouver)`, or for a video appointment `… by video: join at LINK`.
    #[allow(
        dead_code,
        reason = "the reminder and waitlist emails say it in one line"
    )]
    fn when_where(&self, a: &Appointment) -> String {
        let when = local_datetime_exact(a.start_ns, self.zone(a));
        if a.telehealth {
            return match self.video_link() {
                Some(link) => format!("{when}, by video: join at {link}"),
                None => format!("{when}, by video (the clinic will send you the link)"),
            };
        }
        match self.clinic(a) {
            Some(c) if c.phone.trim().is_empty() => {
                format!("{when} at {} ({})", one_line(c), c.timezone)
            }
            Some(c) => format!(
                "{when} at {} ({}; phone {})",
                one_line(c),
                c.timezone,
                c.phone.trim()
            ),
            None => when,
        }
    }

    fn video_link(&self) -> Option<&str> {
        Some(self.video_link.trim()).filter(|l| !l.is_empty())
    }

    fn link(&self, a: &Appointment) -> String {
        format!("{}/appointments/{}", self.portal_url, a.id)
    }

    fn message(&self, subject: String, body: String) -> NewMessage {
        NewMessage {
            to: self.patient_email.clone(),
            subject,
            body,
            ics: None,
        }
    }

    /// The appointment as a calendar event (what the emails attach and the portal's
    /// "Add to calendar" link downloads).
    pub(crate) fn calendar_event(&self, a: &Appointment) -> IcsAppointment {
        IcsAppointment {
            appointment_id: a.id,
            start_ns: a.start_ns,
            end_ns: a.end_ns,
            zone: self.zone(a),
            location: match (a.telehealth, self.video_link()) {
                (true, Some(link)) => link.to_owned(),
                (true, None) => "Video appointment".to_owned(),
                (false, _) => self
                    .clinic(a)
                    .map_or_else(|| self.org_name.clone(), one_line),
            },
            video_link: self
                .video_link()
                .filter(|_| a.telehealth)
                .map(str::to_owned),
            practitioner_name: self.practitioner_name.clone(),
            service_name: self
                .service_name
                .clone()
                .unwrap_or_else(|| "Appointment".to_owned()),
            patient_name: self.patient_name.clone(),
            patient_email: self.patient_email.clone(),
            organiser_name: self.org_name.clone(),
            organiser_email: self.organiser_email.clone(),
            public_url: self.public_url.clone(),
            sequence: u32::try_from(a.sequence).unwrap_or(u32::MAX - 1),
            stamp_ns: a.updated_at_ns,
        }
    }

    fn with_invitation(
        &self,
        message: NewMessage,
        a: &Appointment,
        method: IcsMethod,
    ) -> NewMessage {
        NewMessage {
            ics: Some(ics::appointment(&self.calendar_event(a), method)),
            ..message
        }
    }

    /// "Your appointment is booked" (or "requested", when it waits for the clinic), as a
    /// ticket: what, who, when (with the zone and its offset), where (the clinic with
    /// its address and phone, or how a video appointment is joined), how to change it
    /// (the clinic's cancellation notice), and the calendar invitation.
    pub(crate) fn booked(&self, a: &Appointment) -> NewMessage {
        let pending = a.status == AppointmentStatus::Pending;
        let worded = self.worded(
            if pending {
                EmailKind::Requested
            } else {
                EmailKind::Booked
            },
            a,
        );
        let calendar = if pending {
            ""
        } else {
            "\nAdd to calendar: open the attached invitation (appointment.ics).\n"
        };
        let message = self.message(
            worded.subject,
            format!(
                "Hello {},\n\n{}\n\n{}\nChange or cancel: {}\n{}\n{calendar}\n{}\n",
                self.patient_first_name,
                worded.intro,
                self.ticket(a),
                self.link(a),
                self.change_rule(),
                self.org_name
            ),
        );
        if pending {
            // Nothing goes in the calendar until the clinic accepts.
            message
        } else {
            self.with_invitation(message, a, IcsMethod::Request)
        }
    }

    /// The appointment's ticket lines: `What:`, `Who:`, `When:` and `Where:`.
    fn ticket(&self, a: &Appointment) -> String {
        let zone = self.zone(a);
        let what = self
            .service_name
            .clone()
            .unwrap_or_else(|| "Appointment".to_owned());
        let when = format!(
            "{}\n       {}",
            local_datetime_exact(a.start_ns, zone),
            crate::clinic_time::zone_label(zone, a.start_ns)
        );
        let place = if a.telehealth {
            match self.video_link() {
                Some(link) => format!("Video appointment, from your own device: join at {link}"),
                None => {
                    "Video appointment, from your own device: the clinic will send you the link"
                        .to_owned()
                }
            }
        } else {
            match self.clinic(a) {
                Some(c) => {
                    let mut lines = vec![c.name.trim().to_owned()];
                    lines.extend(
                        c.address
                            .lines()
                            .map(str::trim)
                            .filter(|l| !l.is_empty())
                            .map(str::to_owned),
                    );
                    if !c.phone.trim().is_empty() {
                        lines.push(format!("Phone {}", c.phone.trim()));
                    }
                    lines.join("\n       ")
                }
                None => self.org_name.clone(),
            }
        };
        format!(
            "What:  {what}\nWho:   {}\nWhen:  {when}\nWhere: {place}\n",
            self.practitioner_name
        )
    }

    /// How long before the start the appointment can still be changed online, in words.
    fn change_rule(&self) -> String {
        match notice_in_words(self.cancellation_notice_minutes) {
            None => "You can change or cancel it online until it starts.".to_owned(),
            Some(notice) => format!(
                "You can change or cancel it online up to {notice} before it starts; after that, please call the clinic."
            ),
        }
    }

    /// "The clinic accepted your request."
    pub(crate) fn accepted(&self, a: &Appointment) -> NewMessage {
        let worded = self.worded(EmailKind::Accepted, a);
        let message = self.message(
            worded.subject,
            format!(
                "Hello {},\n\n{}{}\n\n{}\nThe attached calendar invitation adds it to your calendar.\n\nSee or cancel it here: {}\n\n{}\n",
                self.patient_first_name,
                worded.intro,
                note(&a.status_note),
                self.ticket(a),
                self.link(a),
                self.org_name
            ),
        );
        self.with_invitation(message, a, IcsMethod::Request)
    }

    /// "Your appointment has moved": the calendar invitation replaces the old event.
    pub(crate) fn moved(&self, a: &Appointment) -> NewMessage {
        let pending = a.status == AppointmentStatus::Pending;
        // A patient's own move in the portal is told as theirs.
        let mover = if a.updated_by.starts_with("patient:") {
            "You moved"
        } else {
            "The clinic moved"
        };
        let default_intro = format!(
            "{mover} your {{what}}{} to {{when}}.",
            if pending { " request" } else { "" }
        );
        let worded = self.worded_with(EmailKind::Moved, a, &default_intro);
        let message = self.message(
            worded.subject,
            format!(
                "Hello {},\n\n{}\n\n{}\nSee or cancel it here: {}\n\n{}\n",
                self.patient_first_name,
                worded.intro,
                self.ticket(a),
                self.link(a),
                self.org_name
            ),
        );
        if pending {
            message
        } else {
            self.with_invitation(message, a, IcsMethod::Request)
        }
    }

    /// "The clinic declined your request."
    pub(crate) fn declined(&self, a: &Appointment) -> NewMessage {
        let worded = self.worded(EmailKind::Declined, a);
        self.message(
            worded.subject,
            format!(
                "Hello {},\n\n{}{}\n\n{}\nBook another time here: {}\n\n{}\n",
                self.patient_first_name,
                worded.intro,
                note(&a.status_note),
                self.ticket(a),
                self.portal_url,
                self.org_name
            ),
        )
    }

    /// "Your appointment is cancelled."
    pub(crate) fn cancelled(&self, a: &Appointment) -> NewMessage {
        let worded = self.worded(EmailKind::Cancelled, a);
        let message = self.message(
            worded.subject,
            format!(
                "Hello {},\n\n{}\n\n{}\nBook another time here: {}\n\n{}\n",
                self.patient_first_name,
                worded.intro,
                self.ticket(a),
                self.portal_url,
                self.org_name
            ),
        );
        self.with_invitation(message, a, IcsMethod::Cancel)
    }
}

/// A clinic's name and address on one line: `Kitsilano, 2400 W 4th Ave, Vancouver BC`.
fn one_line(c: &Clinic) -> String {
    std::iter::once(c.name.as_str())
        .chain(c.address.lines().map(str::trim).filter(|l| !l.is_empty()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn note(note: &str) -> String {
    if note.trim().is_empty() {
        String::new()
    } else {
        format!("\n\nA note from the clinic: {}", note.trim())
    }
}

/// The invitation to the portal: a link to set a password, valid for three days.
pub(crate) fn invitation(
    org_name: &str,
    to: &str,
    first_name: &str,
    username: &str,
    link: &str,
) -> NewMessage {
    NewMessage {
        to: to.to_owned(),
        subject: format!("Your {org_name} patient portal invitation"),
        body: format!(
            "Hello {first_name},\n\n{org_name} invites you to its patient portal, where you can book and see your \
             appointments.\n\nChoose your password here (this link works once, for 3 days):\n{link}\n\n\
             Your username: {username}\n\n{org_name}\n"
        ),
        ics: None,
    }
}

/// The link to confirm a public sign-up. It greets nobody by name: the names were typed
/// by whoever signed up, who need not own the address, and must not put their words in
/// the clinic's email.
pub(crate) fn signup_confirm(org_name: &str, to: &str, link: &str) -> NewMessage {
    NewMessage {
        to: to.to_owned(),
        subject: format!("Confirm your {org_name} patient portal account"),
        body: format!(
            "Hello,\n\nThank you for signing up. Confirm your email address to start booking \
             (this link works once, for 3 days; it asks for the password you chose when signing up):\n{link}\n\n\
             If you did not sign up, ignore this message: nothing happens without the password chosen at sign-up.\n\n{org_name}\n"
        ),
        ics: None,
    }
}

/// Someone tried to sign up with an address that already has an account: the email
/// gives its username(s) and `signin_url` (which may carry a `next` back to the time
/// they chose).
pub(crate) fn signup_exists(
    org_name: &str,
    to: &str,
    usernames: &[String],
    portal_url: &str,
    signin_url: &str,
) -> NewMessage {
    let usernames = match usernames {
        [] => String::new(),
        [one] => format!("Your username: {one}\n"),
        many => format!(
            "The usernames of the accounts with this address: {}\n",
            many.join(", ")
        ),
    };
    NewMessage {
        to: to.to_owned(),
        subject: format!("Someone tried to register with your email at {org_name}"),
        body: format!(
            "Hello,\n\nSomeone (perhaps you) tried to create a {org_name} patient portal account with this email \
             address, which already has one. Nothing was changed.\n\n{usernames}If it was you, sign in here: {signin_url}\n\
             If you forgot your password, reset it here: {portal_url}/forgot\n\n{org_name}\n"
        ),
        ics: None,
    }
}

/// The link to reset a forgotten password.
pub(crate) fn reset(org_name: &str, to: &str, username: &str, link: &str) -> NewMessage {
    NewMessage {
        to: to.to_owned(),
        subject: format!("Reset your {org_name} portal password"),
        body: format!(
            "Hello,\n\nSomeone asked to reset the password of your {org_name} patient portal account. If it was \
             you, choose a new password here (this link works once, for 1 hour):\n{link}\n\nYour username: {username}\n\nIf it was not you, \
             ignore this message: your password stays as it is.\n\n{org_name}\n"
        ),
        ics: None,
    }
}

/// The link to confirm a new address for a portal account, sent to the new address. It
/// names nobody: whoever started the change typed the address, which need not be theirs.
pub(crate) fn email_change_confirm(org_name: &str, to: &str, link: &str) -> NewMessage {
    NewMessage {
        to: to.to_owned(),
        subject: format!("Confirm your new email address at {org_name}"),
        body: format!(
            "Hello,\n\nSomeone asked to make this the email address of their {org_name} patient portal account. \
             If it was you, confirm it here (this link works once, for 24 hours; unless you are signed in to the \
             account, it asks for the account's password):\n{link}\n\n\
             If it was not you, ignore this message: nothing changes without the link.\n\n{org_name}\n"
        ),
        ics: None,
    }
}

/// Someone asked to move a portal account to an address that another account already
/// signs in with, or that a sign-up is waiting to confirm: told to that address (the
/// person who asked is answered the same either way, as at sign-up).
pub(crate) fn email_change_taken(org_name: &str, to: &str, portal_url: &str) -> NewMessage {
    NewMessage {
        to: to.to_owned(),
        subject: format!("Someone tried to use your email at {org_name}"),
        body: format!(
            "Hello,\n\nSomeone (perhaps you) asked to make this the email address of a {org_name} patient portal \
             account. This address already has an account, or is waiting to confirm one, so nothing was changed.\n\n\
             If it was you, sign in with this address here: {portal_url}/signin\n\
             If you forgot your password, reset it here: {portal_url}/forgot\n\n{org_name}\n"
        ),
        ics: None,
    }
}

/// The address an account used to have is told that it changed (to `new_email`), so
/// that its owner notices a change they did not make.
pub(crate) fn email_changed(org_name: &str, to: &str, new_email: &str) -> NewMessage {
    NewMessage {
        to: to.to_owned(),
        subject: format!("Your {org_name} portal email address was changed"),
        body: format!(
            "Hello,\n\nThe email address of your {org_name} patient portal account was changed to {new_email}, \
             after a link sent there was followed. Messages from {org_name} go there from now on, and you sign in \
             with it.\n\nIf you did not make this change, contact {org_name} at once.\n\n{org_name}\n"
        ),
        ics: None,
    }
}

/// The emails about several occurrences of a series at once: one message listing every
/// occurrence, with one calendar event per occurrence.
impl AppointmentContext {
    /// The occurrences, one line each: `Tue 3 Mar 2026, 17:00 GMT (UTC+00:00)`.
    fn occurrence_lines(&self, list: &[Appointment]) -> String {
        list.iter()
            .map(|a| format!("  - {}\n", local_datetime_exact(a.start_ns, self.zone(a))))
            .collect()
    }

    fn with_invitations(
        &self,
        message: NewMessage,
        list: &[Appointment],
        method: IcsMethod,
    ) -> NewMessage {
        let events: Vec<IcsAppointment> = list.iter().map(|a| self.calendar_event(a)).collect();
        NewMessage {
            ics: Some(ics::appointments(&events, method)),
            ..message
        }
    }

    /// "Your appointments are booked": every occurrence of a series, where, how to
    /// change them, and one calendar invitation holding every occurrence (none while
    /// they wait for the clinic).
    /// `None` for no occurrence.
    pub(crate) fn series_booked(&self, list: &[Appointment]) -> Option<NewMessage> {
        let first = list.first()?;
        let pending = first.status == AppointmentStatus::Pending;
        let n = list.len();
        let appointments = if n == 1 {
            "1 appointment".to_owned()
        } else {
            format!("{n} appointments")
        };
        let subject = if pending {
            format!("{appointments} requested: {}", self.what())
        } else {
            format!("{appointments} confirmed: {}", self.what())
        };
        let status = if pending {
            "Your requests for these appointments are with the clinic. It will confirm them soon; we will email you either way."
        } else {
            "Your appointments are booked."
        };
        let calendar = if pending {
            ""
        } else {
            "\nAdd to calendar: open the attached invitation (appointment.ics); it holds every appointment.\n"
        };
        let message = self.message(
            subject,
            format!(
                "Hello {},\n\n{status}\n\n{}\nEvery appointment:\n{}\nChange or cancel: {}\n{}\n{calendar}\n{}\n",
                self.patient_first_name,
                self.ticket(first),
                self.occurrence_lines(list),
                self.portal_url,
                self.change_rule(),
                self.org_name
            ),
        );
        Some(if pending {
            message
        } else {
            self.with_invitations(message, list, IcsMethod::Request)
        })
    }

    /// "Your appointments are cancelled": the occurrences cancelled together ("this and
    /// following"), with the calendar cancellation of each.
    pub(crate) fn series_cancelled(&self, list: &[Appointment]) -> NewMessage {
        let message = self.message(
            format!("{} appointments cancelled: {}", list.len(), self.what()),
            format!(
                "Hello {},\n\nThese appointments ({}) are cancelled:\n{}\nBook another time here: {}\n\n{}\n",
                self.patient_first_name,
                self.what(),
                self.occurrence_lines(list),
                self.portal_url,
                self.org_name
            ),
        );
        self.with_invitations(message, list, IcsMethod::Cancel)
    }

    /// "Your appointments have moved": the occurrences moved together, each at its new
    /// time, with the calendar update of each.
    pub(crate) fn series_moved(&self, list: &[Appointment]) -> NewMessage {
        let message = self.message(
            format!("{} appointments moved: {}", list.len(), self.what()),
            format!(
                "Hello {},\n\nThe clinic moved these appointments ({}); they are now:\n{}\nSee or cancel them here: {}/appointments\n\n{}\n",
                self.patient_first_name,
                self.what(),
                self.occurrence_lines(list),
                self.portal_url,
                self.org_name
            ),
        );
        let booked: Vec<Appointment> = list
            .iter()
            .filter(|a| a.status != AppointmentStatus::Pending)
            .cloned()
            .collect();
        if booked.is_empty() {
            message
        } else {
            self.with_invitations(message, &booked, IcsMethod::Request)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::notice_in_words;

    #[test]
    fn notices_read_in_the_largest_whole_unit() {
        assert_eq!(notice_in_words(0), None);
        assert_eq!(notice_in_words(1).as_deref(), Some("1 minute"));
        assert_eq!(notice_in_words(90).as_deref(), Some("90 minutes"));
        assert_eq!(notice_in_words(60).as_deref(), Some("1 hour"));
        assert_eq!(notice_in_words(24 * 60).as_deref(), Some("24 hours"));
        assert_eq!(notice_in_words(3 * 24 * 60).as_deref(), Some("3 days"));
    }
}
