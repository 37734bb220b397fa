// Dates the journeys book on, read in the demo clinics' own terms.

import { sql } from "./harness.js";

function iso(date) {
  return date.toISOString().slice(0, 10);
}

/**
 * The first `weekday` (0 Sunday … 6 Saturday) at least `minDays` days from today that
 * is not a holiday of the clinic named `clinic`, as YYYY-MM-DD.
 */
export function nextWeekday(weekday, { minDays = 2, clinic = "Toronto Downtown" } = {}) {
  const holidays = new Set(
    sql(`SELECT h.day FROM clinic_holidays h JOIN clinics c ON c.id = h.clinic_id WHERE c.name = '${clinic.replace(/'/g, "''")}'`)
      .split("\n")
      .filter(Boolean),
  );
  const d = new Date();
  d.setUTCHours(12, 0, 0, 0);
  d.setUTCDate(d.getUTCDate() + minDays);
  while (d.getUTCDay() !== weekday || holidays.has(iso(d))) {
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return iso(d);
}
