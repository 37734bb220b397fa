//! The loader's queries: one per table (or pair of joined tables), each returning the
//! organisation's rows in a fixed order, plus the packed appointment intervals of a
//! window.

use crate::appointment_status::AppointmentStatus;
use crate::db::{Exec, rows};
use crate::error::{Error, Result};
use crate::organisation::Organisation;

use super::Selection;

#[derive(sqlx::FromRow)]
pub(super) struct ClinicRow {
    pub(super) id: i64,
    pub(super) key: String,
    pub(super) name: String,
    pub(super) timezone: String,
}

#[derive(sqlx::FromRow)]
pub(super) struct HolidayRow {
    pub(super) clinic_id: i64,
    pub(super) day: String,
}

#[derive(sqlx::FromRow)]
pub(super) struct ScheduleTypeRow {
    pub(super) id: i64,
    pub(super) key: String,
    pub(super) code: Option<String>,
    pub(super) name: String,
    pub(super) clinic_key: Option<String>,
    pub(super) default_duration_minutes: i64,
    pub(super) allow_conflicts: bool,
    pub(super) telehealth: bool,
    pub(super) background_color: String,
    pub(super) font_color: String,
}

#[derive(sqlx::FromRow)]
pub(super) struct PractitionerRow {
    pub(super) id: i64,
    pub(super) key: String,
    pub(super) name: String,
    pub(super) type_key: String,
    pub(super) home_clinic_key: String,
    pub(super) email: Option<String>,
    pub(super) active: bool,
    pub(super) bookable_in_portal: bool,
}

#[derive(sqlx::FromRow)]
pub(super) struct OwnerKeyRow {
    pub(super) owner_id: i64,
    pub(super) key: String,
}

#[derive(sqlx::FromRow)]
pub(super) struct RecordRow {
    pub(super) id: i64,
    pub(super) practitioner_id: i64,
    pub(super) start_date: String,
    pub(super) end_date: Option<String>,
    pub(super) clinic_key: Option<String>,
    pub(super) slot_step_minutes: Option<i64>,
    pub(super) portal_customised: bool,
}

#[derive(sqlx::FromRow)]
pub(super) struct BlockRow {
    pub(super) record_id: i64,
    pub(super) days: i64,
    pub(super) start_minute: i64,
    pub(super) end_minute: i64,
    pub(super) schedule_type_key: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(super) struct TimeOffRow {
    pub(super) practitioner_id: i64,
    pub(super) start_ns: i64,
    pub(super) end_ns: i64,
}

#[derive(sqlx::FromRow)]
pub(super) struct ServiceRow {
    pub(super) id: i64,
    pub(super) key: String,
    pub(super) code: Option<String>,
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) duration_minutes: i64,
    pub(super) book_from_portal: bool,
    pub(super) portal_conflicts: i64,
    pub(super) practitioner_type_key: Option<String>,
    pub(super) buffer_before_minutes: i64,
    pub(super) buffer_after_minutes: i64,
    pub(super) allow_series: bool,
}

#[derive(sqlx::FromRow)]
pub(super) struct PatientRow {
    pub(super) id: i64,
    pub(super) key: String,
    pub(super) first_name: String,
    pub(super) last_name: String,
    pub(super) email: String,
    pub(super) practitioners_restricted: bool,
}

#[derive(sqlx::FromRow)]
pub(super) struct ResourceRow {
    pub(super) id: i64,
    pub(super) key: String,
    pub(super) name: String,
    pub(super) kind: String,
    pub(super) clinic_key: String,
    pub(super) capacity: i64,
    pub(super) always_available: bool,
}

#[derive(sqlx::FromRow)]
pub(super) struct ResourceRecordRow {
    pub(super) id: i64,
    pub(super) resource_id: i64,
    pub(super) start_date: String,
    pub(super) end_date: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(super) struct RequirementRow {
    pub(super) service_id: i64,
    pub(super) requirement: i64,
    pub(super) resource_key: String,
}

#[derive(sqlx::FromRow)]
pub(super) struct AppointmentRow {
    pub(super) id: i64,
    pub(super) key: Option<String>,
    pub(super) practitioner_id: i64,
    pub(super) patient_key: Option<String>,
    pub(super) service_key: Option<String>,
    pub(super) schedule_type_key: Option<String>,
    pub(super) start_ns: i64,
    pub(super) end_ns: i64,
    pub(super) status: AppointmentStatus,
    pub(super) buffer_before_minutes: i64,
    pub(super) buffer_after_minutes: i64,
    pub(super) series_key: Option<String>,
}

/// Everything [`fetch`] read, table by table, for [`assemble`](super::assemble) to
/// turn into a scenario. The patients' and appointments' lists are empty unless the
/// [`Selection`] asked for them.
pub(super) struct Rows {
    pub(super) clinic_rows: Vec<ClinicRow>,
    pub(super) holiday_rows: Vec<HolidayRow>,
    pub(super) type_rows: Vec<ScheduleTypeRow>,
    pub(super) practitioner_rows: Vec<PractitionerRow>,
    pub(super) assignment_rows: Vec<OwnerKeyRow>,
    pub(super) record_rows: Vec<RecordRow>,
    pub(super) block_rows: Vec<BlockRow>,
    pub(super) portal_rows: Vec<BlockRow>,
    pub(super) time_off_rows: Vec<TimeOffRow>,
    pub(super) service_rows: Vec<ServiceRow>,
    pub(super) service_type_rows: Vec<OwnerKeyRow>,
    pub(super) patient_rows: Vec<PatientRow>,
    pub(super) patient_practitioner_rows: Vec<OwnerKeyRow>,
    pub(super) appointment_rows: Vec<AppointmentRow>,
    pub(super) resource_rows: Vec<ResourceRow>,
    pub(super) resource_record_rows: Vec<ResourceRecordRow>,
    pub(super) resource_block_rows: Vec<BlockRow>,
    pub(super) resource_time_off_rows: Vec<TimeOffRow>,
    pub(super) requirement_rows: Vec<RequirementRow>,
    /// The resources each appointment holds, by appointment row (`owner_id`).
    pub(super) appointment_resource_rows: Vec<OwnerKeyRow>,
}

/// Reads the selected part of an organisation, in a fixed number of queries.
pub(super) async fn fetch(exec: &mut Exec<'_>, org: &Organisation, sel: Selection) -> Result<Rows> {
    let o = org.id;
    let clinic_rows = rows!(
        exec.reborrow(),
        fetch_all,
        ClinicRow,
        "SELECT id, key, name, timezone FROM clinics WHERE org_id = $1 ORDER BY key",
        o
    )?;
    let holiday_rows = rows!(
        exec.reborrow(),
        fetch_all,
        HolidayRow,
        "SELECT clinic_id, day FROM clinic_holidays WHERE org_id = $1 ORDER BY clinic_id, day",
        o
    )?;
    let type_rows = rows!(
        exec.reborrow(),
        fetch_all,
        ScheduleTypeRow,
        "SELECT st.id, st.key, st.code, st.name, c.key AS clinic_key, st.default_duration_minutes, \
                st.allow_conflicts, st.telehealth, st.background_color, st.font_color \
         FROM schedule_types st LEFT JOIN clinics c ON c.org_id = st.org_id AND c.id = st.clinic_id \
         WHERE st.org_id = $1 ORDER BY st.key",
        o
    )?;
    let practitioner_rows = rows!(
        exec.reborrow(),
        fetch_all,
        PractitionerRow,
        "SELECT p.id, p.key, p.name, t.key AS type_key, c.key AS home_clinic_key, p.email, p.active, \
                p.bookable_in_portal \
         FROM practitioners p JOIN practitioner_types t ON t.org_id = p.org_id AND t.id = p.type_id \
              JOIN clinics c ON c.org_id = p.org_id AND c.id = p.home_clinic_id \
         WHERE p.org_id = $1 ORDER BY p.key",
        o
    )?;
    let assignment_rows = rows!(
        exec.reborrow(),
        fetch_all,
        OwnerKeyRow,
        "SELECT pst.practitioner_id AS owner_id, st.key FROM practitioner_schedule_types pst \
         JOIN schedule_types st ON st.org_id = pst.org_id AND st.id = pst.schedule_type_id \
         WHERE pst.org_id = $1 ORDER BY pst.practitioner_id, st.key",
        o
    )?;
    let record_rows = rows!(
        exec.reborrow(),
        fetch_all,
        RecordRow,
        "SELECT r.id, r.practitioner_id, r.start_date, r.end_date, c.key AS clinic_key, \
                r.slot_step_minutes, r.portal_customised \
         FROM availability_records r LEFT JOIN clinics c ON c.org_id = r.org_id AND c.id = r.clinic_id \
         WHERE r.org_id = $1 ORDER BY r.practitioner_id, r.start_date",
        o
    )?;
    let block_rows = rows!(
        exec.reborrow(),
        fetch_all,
        BlockRow,
        "SELECT b.record_id, b.days, b.start_minute, b.end_minute, st.key AS schedule_type_key \
         FROM availability_blocks b JOIN schedule_types st ON st.org_id = b.org_id AND st.id = b.schedule_type_id \
         WHERE b.org_id = $1 ORDER BY b.record_id, b.position",
        o
    )?;
    let portal_rows = rows!(
        exec.reborrow(),
        fetch_all,
        BlockRow,
        "SELECT record_id, days, start_minute, end_minute, NULL AS schedule_type_key \
         FROM portal_blocks WHERE org_id = $1 ORDER BY record_id, position",
        o
    )?;
    let time_off_rows = rows!(
        exec.reborrow(),
        fetch_all,
        TimeOffRow,
        "SELECT practitioner_id, start_ns, end_ns FROM time_off WHERE org_id = $1 \
         ORDER BY practitioner_id, start_ns, end_ns",
        o
    )?;
    let service_rows = rows!(
        exec.reborrow(),
        fetch_all,
        ServiceRow,
        "SELECT s.id, s.key, s.code, s.name, s.description, s.duration_minutes, s.book_from_portal, \
                s.portal_conflicts, t.key AS practitioner_type_key, s.buffer_before_minutes, \
                s.buffer_after_minutes, s.allow_series \
         FROM services s LEFT JOIN practitioner_types t ON t.org_id = s.org_id AND t.id = s.practitioner_type_id \
         WHERE s.org_id = $1 ORDER BY s.key",
        o
    )?;
    let service_type_rows = rows!(
        exec.reborrow(),
        fetch_all,
        OwnerKeyRow,
        "SELECT sst.service_id AS owner_id, st.key FROM service_schedule_types sst \
         JOIN schedule_types st ON st.org_id = sst.org_id AND st.id = sst.schedule_type_id \
         WHERE sst.org_id = $1 ORDER BY sst.service_id, st.key",
        o
    )?;
    let (patient_rows, patient_practitioner_rows) = if sel.patients {
        (
            rows!(
                exec.reborrow(),
                fetch_all,
                PatientRow,
                "SELECT id, key, first_name, last_name, email, practitioners_restricted \
                 FROM patients WHERE org_id = $1 ORDER BY key",
                o
            )?,
            rows!(
                exec.reborrow(),
                fetch_all,
                OwnerKeyRow,
                "SELECT pp.patient_id AS owner_id, p.key FROM patient_practitioners pp \
                 JOIN practitioners p ON p.org_id = pp.org_id AND p.id = pp.practitioner_id \
                 WHERE pp.org_id = $1 ORDER BY pp.patient_id, p.key",
                o
            )?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let appointment_rows = if sel.appointments {
        rows!(
            exec.reborrow(),
            fetch_all,
            AppointmentRow,
            "SELECT a.id, a.key, a.practitioner_id, pa.key AS patient_key, s.key AS service_key, \
                    st.key AS schedule_type_key, a.start_ns, a.end_ns, a.status, \
                    a.buffer_before_minutes, a.buffer_after_minutes, \
                    COALESCE(ser.key, 'series-' || CAST(ser.id AS TEXT)) AS series_key \
             FROM appointments a LEFT JOIN patients pa ON pa.org_id = a.org_id AND pa.id = a.patient_id \
                  LEFT JOIN services s ON s.org_id = a.org_id AND s.id = a.service_id \
                  LEFT JOIN schedule_types st ON st.org_id = a.org_id AND st.id = a.schedule_type_id \
                  LEFT JOIN appointment_series ser ON ser.org_id = a.org_id AND ser.id = a.series_id \
             WHERE a.org_id = $1 ORDER BY a.practitioner_id, a.start_ns, a.id",
            o
        )?
    } else {
        Vec::new()
    };
    let resource_rows = rows!(
        exec.reborrow(),
        fetch_all,
        ResourceRow,
        "SELECT r.id, r.key, r.name, r.kind, c.key AS clinic_key, r.capacity, r.always_available \
         FROM resources r JOIN clinics c ON c.org_id = r.org_id AND c.id = r.clinic_id \
         WHERE r.org_id = $1 ORDER BY r.key",
        o
    )?;
    let resource_record_rows = rows!(
        exec.reborrow(),
        fetch_all,
        ResourceRecordRow,
        "SELECT id, resource_id, start_date, end_date FROM resource_availability_records \
         WHERE org_id = $1 ORDER BY resource_id, start_date, id",
        o
    )?;
    let resource_block_rows = rows!(
        exec.reborrow(),
        fetch_all,
        BlockRow,
        "SELECT record_id, days, start_minute, end_minute, NULL AS schedule_type_key \
         FROM resource_availability_blocks WHERE org_id = $1 ORDER BY record_id, position, id",
        o
    )?;
    let resource_time_off_rows = rows!(
        exec.reborrow(),
        fetch_all,
        TimeOffRow,
        "SELECT resource_id AS practitioner_id, start_ns, end_ns FROM resource_time_off \
         WHERE org_id = $1 ORDER BY resource_id, start_ns, end_ns",
        o
    )?;
    let requirement_rows = rows!(
        exec.reborrow(),
        fetch_all,
        RequirementRow,
        "SELECT sr.service_id, sr.requirement, r.key AS resource_key \
         FROM service_requirements sr JOIN resources r ON r.org_id = sr.org_id AND r.id = sr.resource_id \
         WHERE sr.org_id = $1 ORDER BY sr.service_id, sr.requirement, r.key",
        o
    )?;
    let appointment_resource_rows = if sel.appointments {
        rows!(
            exec.reborrow(),
            fetch_all,
            OwnerKeyRow,
            "SELECT ar.appointment_id AS owner_id, r.key FROM appointment_resources ar \
             JOIN resources r ON r.org_id = ar.org_id AND r.id = ar.resource_id \
             WHERE ar.org_id = $1 ORDER BY ar.appointment_id, r.key",
            o
        )?
    } else {
        Vec::new()
    };

    Ok(Rows {
        clinic_rows,
        holiday_rows,
        type_rows,
        practitioner_rows,
        assignment_rows,
        record_rows,
        block_rows,
        portal_rows,
        time_off_rows,
        service_rows,
        service_type_rows,
        patient_rows,
        patient_practitioner_rows,
        appointment_rows,
        resource_rows,
        resource_record_rows,
        resource_block_rows,
        resource_time_off_rows,
        requirement_rows,
        appointment_resource_rows,
    })
}

/// One appointment of a window, as the engine counts it: its practitioner row, its
/// start and end, the buffers it was booked with, and the rooms and equipment (of
/// those asked about) it holds a place in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Taken {
    pub(crate) practitioner: i64,
    pub(crate) start_ns: i64,
    pub(crate) end_ns: i64,
    pub(crate) buffers: slot_engine::Buffers,
    pub(crate) resources: Vec<i64>,
}

/// The largest buffer an appointment may have on either side, in nanoseconds: a day.
const MAX_BUFFER_NS: i64 = slot_engine::model::MAX_BUFFER_MINUTES as i64 * 60_000_000_000;

/// Parses one packed appointment, `start:end:before:after`.
fn unpack(packed: &str) -> Result<(i64, i64, slot_engine::Buffers)> {
    let numbers: Option<Vec<i64>> = packed.split(':').map(|n| n.parse().ok()).collect();
    let (start_ns, end_ns, before, after) = match numbers.as_deref() {
        Some(&[start, end, before, after]) => (start, end, before, after),
        _ => return Err(Error::invalid("stored appointment", packed.to_owned())),
    };
    let minutes = |m: i64| {
        u32::try_from(m).map_err(|_| Error::invalid("stored appointment", packed.to_owned()))
    };
    Ok((
        start_ns,
        end_ns,
        slot_engine::Buffers {
            before_minutes: minutes(before)?,
            after_minutes: minutes(after)?,
        },
    ))
}

#[derive(sqlx::FromRow)]
struct HolderRow {
    practitioner_id: i64,
    start_ns: i64,
    end_ns: i64,
    buffer_before_minutes: i64,
    buffer_after_minutes: i64,
    resources: String,
}

/// The time taken by appointments whose buffered interval (the appointment with the
/// buffers it was booked with) overlaps `[from_ns, to_ns)`, but `skip` and cancelled
/// ones: what the engine counts against capacity. That is every appointment of
/// `practitioners`, and every appointment of any practitioner that holds a place in
/// one of `resources` (with those of `resources` it holds), so that a room's
/// occupancy is counted exactly whoever booked it. Two queries, whatever the sizes.
pub(crate) async fn window_appointments(
    exec: &mut Exec<'_>,
    org: &Organisation,
    practitioners: &[i64],
    resources: &[i64],
    from_ns: i64,
    to_ns: i64,
    skip: Option<i64>,
) -> Result<Vec<Taken>> {
    let practitioner_list = serde_json::to_string(practitioners).expect("ids serialize");
    let resource_list = serde_json::to_string(resources).expect("ids serialize");
    // The start is bounded by the longest appointment and the largest buffer, a day on
    // each side, so the index on (org, practitioner, start) is scanned only over the
    // window and a day around it; the exact test on each row's own buffers follows.
    // Each practitioner's intervals come packed in one row ("start:end:before:after,…"):
    // thousands of single rows would cost more to ferry from the database than to use.
    let earliest_start = from_ns
        .saturating_sub(org.max_appointment_ns)
        .saturating_sub(MAX_BUFFER_NS);
    let (packed, resource_ids) = match exec {
        Exec::Sqlite(_) => (
            "group_concat(start_ns || ':' || end_ns || ':' || buffer_before_minutes || ':' \
             || buffer_after_minutes, ',')",
            "group_concat(ar.resource_id, ',')",
        ),
        Exec::Postgres(_) => (
            "string_agg(start_ns::text || ':' || end_ns::text || ':' \
             || buffer_before_minutes::text || ':' || buffer_after_minutes::text, ',')",
            "string_agg(ar.resource_id::text, ',')",
        ),
    };
    // An appointment that holds one of the resources comes with the second query,
    // with its resources; the first leaves it out so that it counts once.
    let holds_none = if resources.is_empty() {
        String::new()
    } else {
        format!(
            "AND NOT EXISTS (SELECT 1 FROM appointment_resources ar \
             WHERE ar.org_id = appointments.org_id AND ar.appointment_id = appointments.id AND {})",
            exec.in_json_list("ar.resource_id", 9)
        )
    };
    let sql = format!(
        "SELECT practitioner_id AS owner_id, {packed} AS key \
         FROM appointments \
         WHERE org_id = $1 AND {} AND start_ns >= $3 AND start_ns < $4 AND end_ns > $5 \
               AND start_ns - buffer_before_minutes * 60000000000 < $6 \
               AND end_ns + buffer_after_minutes * 60000000000 > $7 \
               AND status <> 'cancelled' AND id <> $8 {holds_none} \
         GROUP BY practitioner_id",
        exec.in_json_list("practitioner_id", 2)
    );
    let (a, b) = (
        to_ns.saturating_add(MAX_BUFFER_NS),
        from_ns.saturating_sub(MAX_BUFFER_NS),
    );
    let skip = skip.unwrap_or(-1);
    let groups = if resources.is_empty() {
        rows!(
            exec.reborrow(),
            fetch_all,
            OwnerKeyRow,
            &sql,
            org.id,
            &practitioner_list,
            earliest_start,
            a,
            b,
            to_ns,
            from_ns,
            skip
        )?
    } else {
        rows!(
            exec.reborrow(),
            fetch_all,
            OwnerKeyRow,
            &sql,
            org.id,
            &practitioner_list,
            earliest_start,
            a,
            b,
            to_ns,
            from_ns,
            skip,
            &resource_list
        )?
    };
    let mut taken = Vec::new();
    for group in groups {
        for packed in group.key.split(',') {
            let (start_ns, end_ns, buffers) = unpack(packed)?;
            taken.push(Taken {
                practitioner: group.owner_id,
                start_ns,
                end_ns,
                buffers,
                resources: Vec::new(),
            });
        }
    }
    if resources.is_empty() {
        return Ok(taken);
    }
    let sql = format!(
        "SELECT a.practitioner_id, a.start_ns, a.end_ns, a.buffer_before_minutes, \
                a.buffer_after_minutes, {resource_ids} AS resources \
         FROM appointment_resources ar JOIN appointments a ON a.org_id = ar.org_id AND a.id = ar.appointment_id \
         WHERE ar.org_id = $1 AND {} AND a.org_id = $1 \
               AND a.start_ns >= $3 AND a.start_ns < $4 AND a.end_ns > $5 \
               AND a.start_ns - a.buffer_before_minutes * 60000000000 < $6 \
               AND a.end_ns + a.buffer_after_minutes * 60000000000 > $7 \
               AND a.status <> 'cancelled' AND a.id <> $8 \
         GROUP BY a.id, a.practitioner_id, a.start_ns, a.end_ns, a.buffer_before_minutes, \
                  a.buffer_after_minutes",
        exec.in_json_list("ar.resource_id", 2)
    );
    let holders = rows!(
        exec.reborrow(),
        fetch_all,
        HolderRow,
        &sql,
        org.id,
        &resource_list,
        earliest_start,
        a,
        b,
        to_ns,
        from_ns,
        skip
    )?;
    for h in holders {
        let minutes = |m: i64| {
            u32::try_from(m).map_err(|_| Error::invalid("stored appointment", m.to_string()))
        };
        let held: Option<Vec<i64>> = h.resources.split(',').map(|r| r.parse().ok()).collect();
        taken.push(Taken {
            practitioner: h.practitioner_id,
            start_ns: h.start_ns,
            end_ns: h.end_ns,
            buffers: slot_engine::Buffers {
                before_minutes: minutes(h.buffer_before_minutes)?,
                after_minutes: minutes(h.buffer_after_minutes)?,
            },
            resources: held
                .ok_or_else(|| Error::invalid("stored appointment resources", h.resources))?,
        });
    }
    Ok(taken)
}
