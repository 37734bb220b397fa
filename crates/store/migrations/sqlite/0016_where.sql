-- Where and how (issue 13). A clinic has an address and a phone number, shown to
-- patients and written as the calendar LOCATION. An appointment is in person or by
-- video; a video appointment's join link is the practitioner's video link, else the
-- organisation's.
ALTER TABLE clinics ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE clinics ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE appointments ADD COLUMN telehealth BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE organisations ADD COLUMN video_link TEXT NOT NULL DEFAULT '';
ALTER TABLE practitioners ADD COLUMN video_link TEXT NOT NULL DEFAULT '';

-- Every appointment names its clinic, by one rule (docs/scenario.md, rule 6, and the
-- store's `appointment::clinic_of`): the schedule type's clinic, else the clinic of the
-- practitioner's availability record that covers its day, else the practitioner's home
-- clinic. Appointments stored without one (overridden staff bookings, imports) get the
-- schedule type's clinic or the home clinic here; the record is not looked up, as no
-- availability record covered most of them (that is why they were overridden).
UPDATE appointments SET clinic_id = COALESCE(
    (SELECT st.clinic_id FROM schedule_types st WHERE st.id = appointments.schedule_type_id),
    (SELECT p.home_clinic_id FROM practitioners p WHERE p.id = appointments.practitioner_id))
WHERE clinic_id IS NULL;
