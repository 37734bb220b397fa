//! Where each table lives on a distributed PostgreSQL (docs/scaling.md, Citus
//! distributing by organisation): every table with an `org_id` column holds one
//! organisation's rows per row and is distributed by it; the few without one are
//! listed here. The catalogue test (`tests/contract/sharding.rs`) fails on a table that
//! is neither, and the statement test (`tests/statements`) exempts these from the
//! one-organisation rule.

/// Where a table without an organisation lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Copied to every node: tenant tables' foreign keys and joins point at it.
    Reference,
    /// A plain table on the coordinator: looked up alone, never joined with tenant rows.
    Coordinator,
}

impl Placement {
    /// Its name in docs/scaling.md's placement table.
    pub fn name(self) -> &'static str {
        match self {
            Placement::Reference => "reference",
            Placement::Coordinator => "coordinator",
        }
    }
}

/// The tables without an organisation, in docs/scaling.md's order.
pub const GLOBAL_TABLES: &[(&str, Placement)] = &[
    ("organisations", Placement::Reference),
    ("server_secrets", Placement::Coordinator),
    ("sessions", Placement::Coordinator),
    ("captcha_uses", Placement::Coordinator),
    ("_sqlx_migrations", Placement::Coordinator),
];
