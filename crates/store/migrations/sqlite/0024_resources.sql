-- Rooms and equipment (issue 16, docs/scenario.md "Rooms and equipment (v3)").
--
-- A resource is at one clinic and holds up to `capacity` appointments at once. With
-- `always_available` it is available whenever a practitioner is; without, only where
-- one of its dated records' weekly blocks say (a machine only on weekdays, a room only
-- in the mornings), as the scenario's `availability` list. Its time off is when it is
-- out of service. A service requires resources as numbered requirements, each met by
-- one place in any one of its resources (the primary key keeps a resource in one
-- requirement of a service); an appointment holds a place in each resource of
-- `appointment_resources` over its buffered interval.
--
-- As for every table since 0015, every reference stays inside one organisation
-- whatever code writes it: SQLite checks it with triggers.
CREATE TABLE resources (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'room' CHECK (kind IN ('room', 'equipment')),
    clinic_id INTEGER NOT NULL REFERENCES clinics(id),
    capacity INTEGER NOT NULL DEFAULT 1 CHECK (capacity BETWEEN 1 AND 10000),
    always_available BOOLEAN NOT NULL DEFAULT 1,
    UNIQUE (org_id, key)
);

CREATE TABLE resource_availability_records (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    resource_id INTEGER NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
    start_date TEXT NOT NULL,
    end_date TEXT
);
CREATE INDEX resource_availability_records_resource ON resource_availability_records (org_id, resource_id, start_date);

-- days: a bit per weekday, Monday = 1, Tuesday = 2, … Sunday = 64 (as availability_blocks).
CREATE TABLE resource_availability_blocks (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    record_id INTEGER NOT NULL REFERENCES resource_availability_records(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    days INTEGER NOT NULL,
    start_minute INTEGER NOT NULL,
    end_minute INTEGER NOT NULL
);
CREATE INDEX resource_availability_blocks_record ON resource_availability_blocks (record_id, position);

CREATE TABLE resource_time_off (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    resource_id INTEGER NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    reason TEXT,
    CHECK (end_ns > start_ns)
);
CREATE INDEX resource_time_off_resource ON resource_time_off (org_id, resource_id, start_ns);

-- requirement: the requirement's position in the service's list, from 0.
CREATE TABLE service_requirements (
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    requirement INTEGER NOT NULL CHECK (requirement BETWEEN 0 AND 15),
    resource_id INTEGER NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
    PRIMARY KEY (service_id, resource_id)
);
CREATE INDEX service_requirements_resource ON service_requirements (org_id, resource_id);


-- A resource an appointment holds cannot be deleted (no cascade): the history keeps it.
CREATE TABLE appointment_resources (
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    appointment_id INTEGER NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
    resource_id INTEGER NOT NULL REFERENCES resources(id),
    PRIMARY KEY (appointment_id, resource_id)
);
CREATE INDEX appointment_resources_resource ON appointment_resources (org_id, resource_id, appointment_id);

CREATE TRIGGER resources_clinic_id_same_org_insert BEFORE INSERT ON resources WHEN NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: resources.clinic_id'); END;
CREATE TRIGGER resources_clinic_id_same_org_update BEFORE UPDATE OF org_id, clinic_id ON resources WHEN NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: resources.clinic_id'); END;
CREATE TRIGGER resource_availability_records_resource_id_same_org_insert BEFORE INSERT ON resource_availability_records WHEN NEW.resource_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM resources WHERE id = NEW.resource_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: resource_availability_records.resource_id'); END;
CREATE TRIGGER resource_availability_records_resource_id_same_org_update BEFORE UPDATE OF org_id, resource_id ON resource_availability_records WHEN NEW.resource_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM resources WHERE id = NEW.resource_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: resource_availability_records.resource_id'); END;
CREATE TRIGGER resource_availability_blocks_record_id_same_org_insert BEFORE INSERT ON resource_availability_blocks WHEN NEW.record_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM resource_availability_records WHERE id = NEW.record_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: resource_availability_blocks.record_id'); END;
CREATE TRIGGER resource_availability_blocks_record_id_same_org_update BEFORE UPDATE OF org_id, record_id ON resource_availability_blocks WHEN NEW.record_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM resource_availability_records WHERE id = NEW.record_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: resource_availability_blocks.record_id'); END;
CREATE TRIGGER resource_time_off_resource_id_same_org_insert BEFORE INSERT ON resource_time_off WHEN NEW.resource_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM resources WHERE id = NEW.resource_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: resource_time_off.resource_id'); END;
CREATE TRIGGER resource_time_off_resource_id_same_org_update BEFORE UPDATE OF org_id, resource_id ON resource_time_off WHEN NEW.resource_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM resources WHERE id = NEW.resource_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: resource_time_off.resource_id'); END;
CREATE TRIGGER service_requirements_service_id_same_org_insert BEFORE INSERT ON service_requirements WHEN NEW.service_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM services WHERE id = NEW.service_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: service_requirements.service_id'); END;
CREATE TRIGGER service_requirements_service_id_same_org_update BEFORE UPDATE OF org_id, service_id ON service_requirements WHEN NEW.service_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM services WHERE id = NEW.service_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: service_requirements.service_id'); END;
CREATE TRIGGER service_requirements_resource_id_same_org_insert BEFORE INSERT ON service_requirements WHEN NEW.resource_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM resources WHERE id = NEW.resource_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: service_requirements.resource_id'); END;
CREATE TRIGGER service_requirements_resource_id_same_org_update BEFORE UPDATE OF org_id, resource_id ON service_requirements WHEN NEW.resource_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM resources WHERE id = NEW.resource_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: service_requirements.resource_id'); END;
CREATE TRIGGER appointment_resources_appointment_id_same_org_insert BEFORE INSERT ON appointment_resources WHEN NEW.appointment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM appointments WHERE id = NEW.appointment_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointment_resources.appointment_id'); END;
CREATE TRIGGER appointment_resources_appointment_id_same_org_update BEFORE UPDATE OF org_id, appointment_id ON appointment_resources WHEN NEW.appointment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM appointments WHERE id = NEW.appointment_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointment_resources.appointment_id'); END;
CREATE TRIGGER appointment_resources_resource_id_same_org_insert BEFORE INSERT ON appointment_resources WHEN NEW.resource_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM resources WHERE id = NEW.resource_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointment_resources.resource_id'); END;
CREATE TRIGGER appointment_resources_resource_id_same_org_update BEFORE UPDATE OF org_id, resource_id ON appointment_resources WHEN NEW.resource_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM resources WHERE id = NEW.resource_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointment_resources.resource_id'); END;
