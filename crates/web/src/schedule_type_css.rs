//! The schedule types' colours as one stylesheet.
//!
//! The pages' Content Security Policy allows no inline styles, so a schedule type's
//! colours reach a page as classes from this stylesheet. Pages link it at three
//! addresses, each with its own access rule: `/o/{slug}/admin/schedule-types.css` (the
//! swatches of the setup pages, any staff), `/o/{slug}/admin/book/colours.css` (the
//! appointment book, any staff) and
//! `/o/{slug}/admin/practitioners/{id}/availability/colours.css` (the grid editor,
//! admins). For the schedule type with row id `N` it holds:
//!
//! - `.st-N`: the background and font colours, for swatches and appointments; the
//!   book's appointments and legend also take a border in the font colour.
//! - `td.av-N`: availability behind the book's appointments, a light tint of the
//!   background, with a darker edge (`.online`) where patients may book online.
//! - `.t-N`: the grid editor's custom properties: `--st-bg`, a light tint for blocks in
//!   the clinic only, and `--st-bg-online`, a darker shade for blocks also bookable
//!   online, each with an ink that reads on it (`--st-ink`, `--st-ink-online`).
//!
//! The tints and shades are [`Color::mix`]; the inks, [`Color::readable_on`].

use std::fmt::Write as _;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use slot_engine::Color;
use store::schedule_type::{self, ScheduleType};

use crate::error::PageError;
use crate::state::AppState;

/// How far the book's availability tint moves the background towards white.
const BOOK_TINT: f64 = 0.5;
/// How far the grid editor's in-clinic tint moves the background towards white.
const EDITOR_TINT: f64 = 0.35;
/// How far the online shade (book and editor) moves the background towards black.
const ONLINE_SHADE: f64 = 0.35;

/// The stylesheet of `types`. A type whose stored colours are not `#rrggbb` is left
/// out: they are checked when saved, but a stylesheet is no place to trust them.
pub(crate) fn stylesheet(types: &[ScheduleType]) -> String {
    let mut css =
        String::from("/* Schedule type colours: one set of classes per schedule type. */\n");
    for t in types {
        let (Ok(bg), Ok(fg)) = (
            t.background_color.parse::<Color>(),
            t.font_color.parse::<Color>(),
        ) else {
            continue;
        };
        let id = t.id;
        let tint = bg.mix(Color::WHITE, BOOK_TINT);
        let light = bg.mix(Color::WHITE, EDITOR_TINT);
        let dark = bg.mix(Color::BLACK, ONLINE_SHADE);
        let (ink, ink_online) = (fg.readable_on(light), fg.readable_on(dark));
        // Writing to a String cannot fail.
        let _ = write!(
            css,
            ".st-{id} {{ background-color: {bg}; color: {fg}; }}\n\
             .appt.st-{id},.legend .st-{id}{{background-color:{bg};color:{fg};border-color:{fg}}}\n\
             td.av-{id}{{background-color:{tint}}}\n\
             td.av-{id}.online{{box-shadow:inset .35rem 0 0 {dark}}}\n\
             .t-{id}{{--st-bg:{light};--st-ink:{ink};--st-bg-online:{dark};--st-ink-online:{ink_online}}}\n"
        );
    }
    css
}

/// Answers with the organisation's stylesheet; the caller has checked who may see it.
pub(crate) async fn serve(state: &AppState, org: i64) -> Result<Response, PageError> {
    let mut conn = state.db.conn().await?;
    let types = schedule_type::all(conn.exec(), org).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            // Colours change when an admin saves: always ask again.
            (header::CACHE_CONTROL, "private, no-cache"),
        ],
        stylesheet(&types),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn physio(background: &str, font: &str) -> ScheduleType {
        ScheduleType {
            id: 3,
            key: "physio".into(),
            code: None,
            name: "Physio".into(),
            clinic_id: None,
            clinic_name: None,
            default_duration_minutes: 30,
            allow_conflicts: false,
            telehealth: false,
            background_color: background.into(),
            font_color: font.into(),
        }
    }

    #[test]
    fn every_page_finds_its_classes() {
        let css = stylesheet(&[physio("#cfe8ff", "#0b2a4a")]);
        assert_eq!(
            css,
            "/* Schedule type colours: one set of classes per schedule type. */\n\
             .st-3 { background-color: #cfe8ff; color: #0b2a4a; }\n\
             .appt.st-3,.legend .st-3{background-color:#cfe8ff;color:#0b2a4a;border-color:#0b2a4a}\n\
             td.av-3{background-color:#e7f4ff}\n\
             td.av-3.online{box-shadow:inset .35rem 0 0 #8797a6}\n\
             .t-3{--st-bg:#e0f0ff;--st-ink:#0b2a4a;--st-bg-online:#8797a6;--st-ink-online:#0b2a4a}\n"
        );
    }

    #[test]
    fn cells_get_the_readable_ink() {
        // Navy reads on the light tint but not on the dark shade of navy: white does.
        let css = stylesheet(&[physio("#0b2a4a", "#0b2a4a")]);
        assert!(
            css.lines().any(|l| l.starts_with(".t-3{--st-bg:#")),
            "{css}"
        );
        assert!(css.contains(";--st-ink-online:#ffffff}"), "{css}");
        let css = stylesheet(&[physio("#ffffff", "#0b2a4a")]);
        assert!(css.contains(";--st-ink:#0b2a4a;"), "{css}");
    }

    #[test]
    fn colours_that_are_not_colours_are_left_out() {
        let css = stylesheet(&[physio("red", "#000000"), physio("#ffffff", "")]);
        assert!(!css.contains("st-3"), "{css}");
    }
}
