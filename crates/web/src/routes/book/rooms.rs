//! The book's room view: a column per room or piece of equipment, each appointment
//! drawn in the column of every resource it holds. The one grid layout
//! (`grid::build_grid`) draws a column per practitioner; this reshapes the day's
//! entries so that each resource stands where a practitioner would, and leaves the
//! layout to it.

use store::book::{Choices, Entry, PractitionerChoice};

/// The book's choices and entries seen by room: the resources (of the clinic shown,
/// when one is) as the columns, and a copy of each entry in each of their columns it
/// holds a place in, naming its practitioner beside what it is for.
#[derive(Debug)]
pub(super) struct ByRoom {
    /// The choices, with the resources in the practitioners' place.
    pub(super) choices: Choices,
    /// The columns: resource ids, in the book's order (by name).
    pub(super) columns: Vec<i64>,
    /// The entries, one per resource held.
    pub(super) entries: Vec<Entry>,
}

/// Reshapes the book for the room view.
pub(super) fn by_room(choices: &Choices, entries: &[Entry], clinic: Option<i64>) -> ByRoom {
    let rooms: Vec<&store::book::ResourceOption> = choices
        .resources
        .iter()
        .filter(|r| clinic.is_none_or(|c| c == r.clinic_id))
        .collect();
    let columns: Vec<i64> = rooms.iter().map(|r| r.id).collect();
    let mut shown = Vec::new();
    for e in entries {
        for held in e.resources.iter().filter(|h| columns.contains(&h.id)) {
            let mut copy = e.clone();
            copy.practitioner_id = held.id;
            let what = e
                .service_name
                .clone()
                .or_else(|| e.schedule_type_name.clone());
            copy.service_name = Some(match what {
                Some(what) => format!("{what} · {}", e.practitioner_name),
                None => e.practitioner_name.clone(),
            });
            shown.push(copy);
        }
    }
    let mut choices = choices.clone();
    choices.practitioners = rooms
        .iter()
        .map(|r| PractitionerChoice {
            id: r.id,
            name: r.name.clone(),
            home_clinic_id: r.clinic_id,
            active: true,
        })
        .collect();
    ByRoom {
        choices,
        columns,
        entries: shown,
    }
}

#[cfg(test)]
mod tests {
    use store::appointment::HeldResource;
    use store::book::ResourceOption;

    use super::*;

    fn room(id: i64, name: &str, clinic: i64) -> ResourceOption {
        ResourceOption {
            id,
            name: name.to_owned(),
            kind: "room".to_owned(),
            clinic_id: clinic,
            capacity: 1,
        }
    }

    fn held(id: i64, name: &str) -> HeldResource {
        HeldResource {
            id,
            name: name.to_owned(),
            kind: "room".to_owned(),
        }
    }

    fn choices() -> Choices {
        Choices {
            clinics: Vec::new(),
            practitioners: vec![PractitionerChoice {
                id: 5,
                name: "Dr Ada".to_owned(),
                home_clinic_id: 1,
                active: true,
            }],
            services: Vec::new(),
            schedule_types: Vec::new(),
            resources: vec![
                room(20, "Gym", 1),
                room(21, "Room A", 1),
                room(30, "Leeds room", 2),
            ],
        }
    }

    fn entry(id: i64, holds: Vec<HeldResource>) -> Entry {
        Entry {
            id,
            practitioner_id: 5,
            practitioner_name: "Dr Ada".to_owned(),
            patient_id: None,
            patient_first_name: None,
            patient_last_name: None,
            service_id: Some(1),
            service_name: Some("Shockwave".to_owned()),
            schedule_type_id: None,
            schedule_type_name: None,
            background_color: None,
            font_color: None,
            place: store::place::Place {
                clinic_id: 1,
                clinic_name: "London".to_owned(),
                clinic_timezone: "Europe/London".to_owned(),
                clinic_address: String::new(),
                clinic_phone: String::new(),
                telehealth: false,
                video_link: String::new(),
            },
            start_ns: 0,
            end_ns: 1_800_000_000_000,
            status: store::AppointmentStatus::Booked,
            channel: store::Channel::Staff,
            override_reason: None,
            override_by: None,
            status_note: String::new(),
            created_by: "import".to_owned(),
            created_at_ns: 0,
            updated_by: "import".to_owned(),
            updated_at_ns: 0,
            cancel_reason: None,
            cancelled_by: None,
            buffer_before_minutes: 0,
            buffer_after_minutes: 0,
            confirmed_at_ns: None,
            resources: holds,
        }
    }

    #[test]
    fn an_appointment_is_drawn_in_every_room_it_holds_and_nowhere_else() {
        let entries = [
            entry(1, vec![held(20, "Gym"), held(21, "Room A")]),
            entry(2, vec![held(21, "Room A")]),
            entry(3, Vec::new()),
        ];
        let view = by_room(&choices(), &entries, None);
        assert_eq!(view.columns, [20, 21, 30]);
        let placed: Vec<(i64, i64)> = view
            .entries
            .iter()
            .map(|e| (e.id, e.practitioner_id))
            .collect();
        assert_eq!(placed, [(1, 20), (1, 21), (2, 21)]);
        // The room stands where the practitioner would; the practitioner is named.
        assert_eq!(view.choices.practitioners[1].name, "Room A");
        assert_eq!(
            view.entries[0].service_name.as_deref(),
            Some("Shockwave · Dr Ada")
        );
    }

    #[test]
    fn a_clinic_shows_only_its_own_rooms() {
        let entries = [entry(1, vec![held(30, "Leeds room")])];
        let view = by_room(&choices(), &entries, Some(1));
        assert_eq!(view.columns, [20, 21]);
        assert!(view.entries.is_empty());
    }
}
