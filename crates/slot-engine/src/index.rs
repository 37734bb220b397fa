//! Indices: the small copyable handles by which a [`Model`](crate::Model) names its
//! clinics, schedule types, practitioners, services and patients.
//!
//! An index is a position in one model's id-sorted list of that kind, so indices
//! compare as ids do and are meaningless outside the model that gave them. They live
//! here, below both [`availability`](crate::availability) and
//! [`model`](crate::model), because an availability record names the schedule types
//! and clinics of its blocks by index before any model exists around it; the public
//! path of each is `slot_engine::model::…` (and `slot_engine::…`).

macro_rules! index_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub(crate) u32);

        impl $name {
            /// The position in the model's id-sorted list.
            ///
            /// ```
            /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
            /// let omar = model.practitioner_ix("omar").unwrap();
            /// assert_eq!(model.practitioners()[omar.index()].id.as_str(), "omar");
            /// # Ok::<(), slot_engine::Error>(())
            /// ```
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

index_type!(
    /// A clinic of a [`Model`](crate::Model): a small copyable handle, valid only for that model.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
    /// let whitby = model.clinic_ix("whitby").unwrap();
    /// assert!(model.clinic(whitby).is_holiday("2026-05-18".parse().unwrap()));
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    ClinicIx
);
index_type!(
    /// A schedule type of a [`Model`](crate::Model): a small copyable handle, valid only for that
    /// model.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
    /// let whitby = model.schedule_type(model.schedule_type_ix("christine-whitby").unwrap());
    /// assert_eq!(whitby.name.as_str(), "Christine Whitby");
    /// assert!(whitby.telehealth);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    ScheduleTypeIx
);
index_type!(
    /// A practitioner of a [`Model`](crate::Model): a small copyable handle, valid only for that
    /// model. Indices compare like ids, which is how slots are ordered.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
    /// let (christine, omar) = (model.practitioner_ix("christine").unwrap(), model.practitioner_ix("omar").unwrap());
    /// assert!(christine < omar);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    PractitionerIx
);
index_type!(
    /// A service of a [`Model`](crate::Model): a small copyable handle, valid only for that model.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// let initial = model.service(model.service_ix("initial").unwrap());
    /// assert_eq!((initial.duration_minutes, initial.portal_conflicts), (45, 1));
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    ServiceIx
);
index_type!(
    /// A patient of a [`Model`](crate::Model): a small copyable handle, valid only for that model.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(br#"{"version": 1,
    ///   "clinics": [{"id": "c", "timezone": "Europe/London"}],
    ///   "practitioners": [{"id": "p", "type": "physio", "home_clinic": "c"}],
    ///   "patients": [{"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com",
    ///                 "available_practitioners": ["p", "p"]}]}"#)?;
    /// let ada = model.patient(model.patient_ix("ada").unwrap());
    /// assert_eq!(ada.available_practitioners.as_deref().map(<[_]>::len), Some(1)); // duplicates count once
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    PatientIx
);
index_type!(
    /// A resource (room or equipment) of a [`Model`](crate::Model): a small copyable
    /// handle, valid only for that model. Indices compare like ids, which is the order
    /// "any one of" tries resources in.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/rooms.json"))?;
    /// let (a, b) = (model.resource_ix("room-1").unwrap(), model.resource_ix("room-2").unwrap());
    /// assert!(a < b);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    ResourceIx
);
