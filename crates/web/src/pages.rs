//! What every page shares: the layout (title, who is signed in, the navigation, the
//! CSRF token), the error page, and small formatting helpers for templates.

use store::staff::Role;

use crate::auth::staff::Staff;
use crate::error::AppError;

/// The frame of every page.
#[derive(Clone, Debug, Default)]
pub(crate) struct Layout {
    /// The page's own title; the `<title>` adds the organisation's name and `Openslot`.
    pub title: String,
    /// The organisation's slug (empty outside one).
    pub org_slug: String,
    /// The organisation's name, shown as the brand (empty outside one: `Openslot`).
    pub org_name: String,
    /// The address of the organisation's logo, when it has one ([`logo_url`]).
    pub logo_url: Option<String>,
    /// The signed-in staff user's name (empty when none).
    pub staff_name: String,
    /// Whether the signed-in staff user is an admin (shows the setup menu).
    pub is_admin: bool,
    /// Whether they run the front desk (shows the appointment book and patients).
    pub is_front_desk: bool,
    /// The session's CSRF token, for forms.
    pub csrf: String,
    /// Which menu entry is current.
    pub active: &'static str,
}

impl Layout {
    /// The layout of a staff page.
    pub(crate) async fn staff(
        staff: &Staff,
        title: impl Into<String>,
        active: &'static str,
    ) -> Result<Layout, AppError> {
        let role = staff.user.role();
        Ok(Layout {
            title: title.into(),
            org_slug: staff.org.slug.clone(),
            org_name: staff.org.name.clone(),
            logo_url: logo_url(&staff.org),
            staff_name: staff.user.name.clone(),
            is_admin: role == Role::Admin,
            is_front_desk: matches!(role, Role::Admin | Role::FrontDesk),
            csrf: crate::auth::csrf::token(&staff.session).await?,
            active,
        })
    }

    /// Whether `entry` is the current menu entry (for `aria-current`).
    pub(crate) fn is(&self, entry: &str) -> bool {
        self.active == entry
    }
}

/// The frame of every portal page.
#[derive(Clone, Debug, Default)]
pub(crate) struct PortalLayout {
    /// The page's own title; the `<title>` adds the organisation's name.
    pub title: String,
    /// The organisation's slug, which every link of the portal starts with
    /// (`/o/{slug}/portal/…`).
    pub org_slug: String,
    /// The organisation's name, shown as the brand, linking to the portal's home.
    pub org_name: String,
    /// The address of the organisation's logo, when it has one ([`logo_url`]).
    pub logo_url: Option<String>,
    /// The signed-in patient's first name (empty when nobody is signed in).
    pub patient_name: String,
    /// The session's CSRF token, for forms.
    pub csrf: String,
    /// Which menu entry is current.
    pub active: &'static str,
}

impl PortalLayout {
    /// The layout of a portal page, for whoever is signed in (if anyone).
    pub(crate) async fn new(
        org: &store::Organisation,
        session: &tower_sessions::Session,
        patient_name: Option<&str>,
        title: impl Into<String>,
        active: &'static str,
    ) -> Result<PortalLayout, AppError> {
        Ok(PortalLayout {
            title: title.into(),
            org_slug: org.slug.clone(),
            org_name: org.name.clone(),
            logo_url: logo_url(org),
            patient_name: patient_name.unwrap_or_default().to_owned(),
            csrf: crate::auth::csrf::token(session).await?,
            active,
        })
    }

    /// Whether `entry` is the current menu entry.
    pub(crate) fn is(&self, entry: &str) -> bool {
        self.active == entry
    }
}

/// The address of `org`'s logo, with its version so that browsers may keep it for good;
/// `None` when it has none.
pub(crate) fn logo_url(org: &store::Organisation) -> Option<String> {
    org.logo_version
        .as_ref()
        .map(|v| format!("/o/{}/logo?v={v}", org.slug))
}
