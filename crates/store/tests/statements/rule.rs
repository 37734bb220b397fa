//! The rule one statement must keep, over `sqlparser`'s syntax tree.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, FromTable, JoinConstraint, JoinOperator, ObjectName, ObjectNamePart,
    Query, Select, SetExpr, Statement, TableFactor, TableObject, TableWithJoins,
    UpdateTableFromKind, Value, Visit, Visitor,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// The tables of the schema: which have an `org_id` column, and which of those are
/// tenant tables (not global).
#[derive(Debug)]
pub(crate) struct Catalog {
    with_org: HashSet<String>,
    tenant: HashSet<String>,
}

impl Catalog {
    /// From `(table, has org_id)` rows and the tables exempt as global.
    pub(crate) fn new(rows: Vec<(String, bool)>, global: &[&str]) -> Catalog {
        let with_org: HashSet<String> = rows
            .into_iter()
            .filter(|(_, org)| *org)
            .map(|(t, _)| t)
            .collect();
        let tenant = with_org
            .iter()
            .filter(|t| !global.contains(&t.as_str()))
            .cloned()
            .collect();
        Catalog { with_org, tenant }
    }

    pub(crate) fn tenant_tables(&self) -> impl Iterator<Item = &String> {
        self.tenant.iter()
    }
}

/// What [`check`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every tenant table it reads or writes is held to one organisation's `org_id`.
    OneOrganisation,
    /// It touches global tables only (or none).
    NoTenantTable,
    /// It spans organisations on purpose, for the reason its `/* fleet: … */` gives.
    Fleet(String),
    /// It breaks the rule, for these reasons.
    Refused(Vec<String>),
}

/// The reason in a `/* fleet: reason */` comment of `sql`, if it has one.
fn fleet_reason(sql: &str) -> Option<String> {
    let start = sql.find("/* fleet:")? + "/* fleet:".len();
    let end = sql[start..].find("*/")? + start;
    Some(sql[start..end].trim().to_owned())
}

/// Checks one statement against the rule.
pub(crate) fn check(sql: &str, catalog: &Catalog) -> Verdict {
    let fleet = fleet_reason(sql);
    let statements = match Parser::parse_sql(&PostgreSqlDialect {}, sql) {
        Ok(s) => s,
        Err(e) => return Verdict::Refused(vec![format!("sqlparser cannot parse it: {e}")]),
    };
    let mut walk = Walk {
        catalog,
        parent: Vec::new(),
        params: HashMap::new(),
        tenant: Vec::new(),
        inserts_tenant: false,
        problems: Vec::new(),
    };
    for statement in &statements {
        walk.statement(statement);
    }
    let verdict = walk.verdict();
    match (fleet, verdict) {
        (Some(reason), _) if reason.is_empty() => {
            Verdict::Refused(vec!["its /* fleet: */ comment gives no reason".into()])
        }
        (Some(_), Verdict::OneOrganisation | Verdict::NoTenantTable) => Verdict::Refused(vec![
            "it is marked /* fleet: */ but routes to one organisation (or none): drop the mark"
                .into(),
        ]),
        (Some(reason), Verdict::Refused(_)) => Verdict::Fleet(reason),
        (None, verdict) => verdict,
        (Some(_), Verdict::Fleet(_)) => unreachable!("a walk never answers Fleet"),
    }
}

/// One table named in a `FROM`, `JOIN`, `UPDATE`, `DELETE` or `USING`.
#[derive(Debug)]
struct Instance {
    /// Its alias, or its name without one.
    name: String,
    /// The union-find node of its `org_id`, when it has one.
    node: Option<usize>,
}

/// The tables of one query level.
type Scope = Vec<Instance>;

struct Walk<'a> {
    catalog: &'a Catalog,
    /// Union-find parents of the nodes: `org_id`s of table instances and parameters.
    parent: Vec<usize>,
    /// The node of each parameter (`$1`, …).
    params: HashMap<String, usize>,
    /// The node and name of each tenant table instance.
    tenant: Vec<(usize, String)>,
    /// Whether it inserts into a tenant table (naming `org_id`).
    inserts_tenant: bool,
    problems: Vec<String>,
}

impl Walk<'_> {
    fn node(&mut self) -> usize {
        self.parent.push(self.parent.len());
        self.parent.len() - 1
    }

    fn root(&mut self, mut n: usize) -> usize {
        while self.parent[n] != n {
            self.parent[n] = self.parent[self.parent[n]];
            n = self.parent[n];
        }
        n
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.root(a), self.root(b));
        self.parent[a] = b;
    }

    fn verdict(&mut self) -> Verdict {
        let mut problems = std::mem::take(&mut self.problems);
        if self.tenant.is_empty() && !self.inserts_tenant && problems.is_empty() {
            return Verdict::NoTenantTable;
        }
        let params: Vec<usize> = self.params.values().copied().collect();
        let param_roots: HashSet<usize> = params.into_iter().map(|p| self.root(p)).collect();
        let mut roots = HashSet::new();
        for (node, name) in self.tenant.clone() {
            let root = self.root(node);
            if param_roots.contains(&root) {
                roots.insert(root);
            } else {
                problems.push(format!(
                    "{name}: no org_id = $n holds it to one organisation"
                ));
            }
        }
        if roots.len() > 1 {
            problems.push(format!(
                "its tenant tables are held to {} different parameters, not one organisation",
                roots.len()
            ));
        }
        if problems.is_empty() {
            Verdict::OneOrganisation
        } else {
            Verdict::Refused(problems)
        }
    }

    fn statement(&mut self, statement: &Statement) {
        match statement {
            Statement::Query(q) => self.query(q, &[], &HashSet::new()),
            Statement::Insert(insert) => {
                if let TableObject::TableName(name) = &insert.table {
                    let table = table_name(name);
                    if self.catalog.tenant.contains(&table) {
                        self.inserts_tenant = true;
                        if !insert.columns.iter().any(|c| last_part(c) == "org_id") {
                            self.problems
                                .push(format!("INSERT INTO {table} does not name org_id"));
                        }
                    }
                }
                for child in direct_subqueries(insert) {
                    self.query(&child, &[], &HashSet::new());
                }
            }
            Statement::Update(update) => {
                let mut scope = Scope::new();
                let mut conjuncts = Vec::new();
                let ctes = HashSet::new();
                self.from(&update.table, &mut scope, &mut conjuncts, &ctes);
                if let Some(
                    UpdateTableFromKind::AfterSet(from) | UpdateTableFromKind::BeforeSet(from),
                ) = &update.from
                {
                    for t in from {
                        self.from(t, &mut scope, &mut conjuncts, &ctes);
                    }
                }
                conjuncts.extend(update.selection.clone());
                self.level(scope, conjuncts, direct_subqueries(update), &[], &ctes);
            }
            Statement::Delete(delete) => {
                let mut scope = Scope::new();
                let mut conjuncts = Vec::new();
                let ctes = HashSet::new();
                let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) =
                    &delete.from;
                for t in from.iter().chain(delete.using.iter().flatten()) {
                    self.from(t, &mut scope, &mut conjuncts, &ctes);
                }
                conjuncts.extend(delete.selection.clone());
                self.level(scope, conjuncts, direct_subqueries(delete), &[], &ctes);
            }
            Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. } => {}
            other => self
                .problems
                .push(format!("not a query or a data change: {}", kind(other))),
        }
    }

    fn query(&mut self, query: &Query, outer: &[&Scope], ctes: &HashSet<String>) {
        let mut ctes = ctes.clone();
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                if with.recursive {
                    ctes.insert(cte.alias.name.value.to_lowercase());
                }
                self.query(&cte.query, outer, &ctes);
                ctes.insert(cte.alias.name.value.to_lowercase());
            }
        }
        self.set_expr(&query.body, outer, &ctes);
        if let Some(order_by) = &query.order_by {
            for child in direct_subqueries(order_by) {
                self.query(&child, outer, &ctes);
            }
        }
    }

    fn set_expr(&mut self, body: &SetExpr, outer: &[&Scope], ctes: &HashSet<String>) {
        match body {
            SetExpr::Select(select) => self.select(select, outer, ctes),
            SetExpr::Query(q) => self.query(q, outer, ctes),
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left, outer, ctes);
                self.set_expr(right, outer, ctes);
            }
            SetExpr::Values(values) => {
                for child in direct_subqueries(values) {
                    self.query(&child, outer, ctes);
                }
            }
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) => self.statement(s),
            other => self
                .problems
                .push(format!("a query body the check does not know: {other}")),
        }
    }

    fn select(&mut self, select: &Select, outer: &[&Scope], ctes: &HashSet<String>) {
        let mut scope = Scope::new();
        let mut conjuncts = Vec::new();
        for t in &select.from {
            self.from(t, &mut scope, &mut conjuncts, ctes);
        }
        conjuncts.extend(select.selection.clone());
        self.level(scope, conjuncts, direct_subqueries(select), outer, ctes);
    }

    /// Applies a query level's conjunctions, then checks its subqueries with it as
    /// their enclosing level.
    fn level(
        &mut self,
        scope: Scope,
        conjuncts: Vec<Expr>,
        children: Vec<Query>,
        outer: &[&Scope],
        ctes: &HashSet<String>,
    ) {
        let mut scopes: Vec<&Scope> = vec![&scope];
        scopes.extend_from_slice(outer);
        for c in &conjuncts {
            self.conjunction(c, &scopes);
        }
        for child in children {
            self.query(&child, &scopes, ctes);
        }
    }

    fn from(
        &mut self,
        t: &TableWithJoins,
        scope: &mut Scope,
        conjuncts: &mut Vec<Expr>,
        ctes: &HashSet<String>,
    ) {
        self.relation(&t.relation, scope, conjuncts, ctes);
        for join in &t.joins {
            self.relation(&join.relation, scope, conjuncts, ctes);
            if let Some(JoinConstraint::On(on)) = join_constraint(&join.join_operator) {
                conjuncts.push(on.clone());
            }
        }
    }

    fn relation(
        &mut self,
        factor: &TableFactor,
        scope: &mut Scope,
        conjuncts: &mut Vec<Expr>,
        ctes: &HashSet<String>,
    ) {
        match factor {
            TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } => {
                let table = table_name(name);
                let shown = alias
                    .as_ref()
                    .map_or_else(|| table.clone(), |a| a.name.value.to_lowercase());
                let node = if !ctes.contains(&table) && self.catalog.with_org.contains(&table) {
                    let node = self.node();
                    if self.catalog.tenant.contains(&table) {
                        self.tenant.push((node, format!("{table} (as {shown})")));
                    }
                    Some(node)
                } else {
                    None
                };
                scope.push(Instance { name: shown, node });
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => self.from(table_with_joins, scope, conjuncts, ctes),
            TableFactor::Derived { alias, .. }
            | TableFactor::Table { alias, .. }
            | TableFactor::Function { alias, .. } => {
                scope.push(Instance {
                    name: alias
                        .as_ref()
                        .map_or_else(String::new, |a| a.name.value.to_lowercase()),
                    node: None,
                });
            }
            _ => scope.push(Instance {
                name: String::new(),
                node: None,
            }),
        }
    }

    fn conjunction(&mut self, expr: &Expr, scopes: &[&Scope]) {
        match expr {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                self.conjunction(left, scopes);
                self.conjunction(right, scopes);
            }
            Expr::Nested(inner) => self.conjunction(inner, scopes),
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq,
                right,
            } => {
                if let (Some(l), Some(r)) = (self.term(left, scopes), self.term(right, scopes)) {
                    self.union(l, r);
                }
            }
            _ => {}
        }
    }

    /// The node an equality's side stands for: a parameter or a table's `org_id`.
    fn term(&mut self, expr: &Expr, scopes: &[&Scope]) -> Option<usize> {
        match expr {
            Expr::Nested(inner) | Expr::Cast { expr: inner, .. } => self.term(inner, scopes),
            Expr::Value(v) => match &v.value {
                Value::Placeholder(p) => {
                    let next = self.parent.len();
                    let node = *self.params.entry(p.clone()).or_insert(next);
                    if node == next {
                        self.parent.push(next);
                    }
                    Some(node)
                }
                _ => None,
            },
            Expr::Identifier(id) if id.value.eq_ignore_ascii_case("org_id") => {
                for scope in scopes {
                    let with_org: Vec<usize> = scope.iter().filter_map(|i| i.node).collect();
                    match with_org.as_slice() {
                        [] => continue,
                        [one] => return Some(*one),
                        _ => {
                            self.problems
                                .push("an unqualified org_id names several tables".into());
                            return None;
                        }
                    }
                }
                None
            }
            Expr::CompoundIdentifier(parts)
                if parts.len() == 2 && parts[1].value.eq_ignore_ascii_case("org_id") =>
            {
                let qualifier = parts[0].value.to_lowercase();
                scopes
                    .iter()
                    .find_map(|scope| scope.iter().find(|i| i.name == qualifier))
                    .and_then(|i| i.node)
            }
            _ => None,
        }
    }
}

fn join_constraint(op: &JoinOperator) -> Option<&JoinConstraint> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::CrossJoin(c)
        | JoinOperator::Semi(c)
        | JoinOperator::LeftSemi(c)
        | JoinOperator::RightSemi(c)
        | JoinOperator::Anti(c)
        | JoinOperator::LeftAnti(c)
        | JoinOperator::RightAnti(c) => Some(c),
        _ => None,
    }
}

fn last_part(name: &ObjectName) -> String {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(id)) => id.value.to_lowercase(),
        _ => String::new(),
    }
}

fn table_name(name: &ObjectName) -> String {
    last_part(name)
}

fn kind(statement: &Statement) -> String {
    statement
        .to_string()
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The queries nested directly in `node` (not those nested in them).
fn direct_subqueries<V: Visit>(node: &V) -> Vec<Query> {
    struct Children {
        depth: usize,
        found: Vec<Query>,
    }
    impl Visitor for Children {
        type Break = ();
        fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
            if self.depth == 0 {
                self.found.push(query.clone());
            }
            self.depth += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
    }
    let mut children = Children {
        depth: 0,
        found: Vec::new(),
    };
    let _ = node.visit(&mut children);
    children.found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let rows = [
            "appointments",
            "patients",
            "clinics",
            "email_outbox",
            "organisations_like",
        ]
        .into_iter()
        .map(|t| (t.to_owned(), true))
        .chain([
            ("organisations".to_owned(), false),
            ("sessions".to_owned(), false),
        ])
        .collect();
        Catalog::new(rows, &["organisations_like"])
    }

    fn verdict(sql: &str) -> Verdict {
        check(sql, &catalog())
    }

    fn refused(sql: &str) -> bool {
        matches!(verdict(sql), Verdict::Refused(_))
    }

    #[test]
    fn a_filter_on_a_parameter_routes() {
        assert_eq!(
            verdict("SELECT id FROM appointments WHERE org_id = $1 AND id = $2"),
            Verdict::OneOrganisation
        );
        assert_eq!(
            verdict("SELECT id FROM appointments a WHERE a.org_id = $1::bigint"),
            Verdict::OneOrganisation
        );
        assert_eq!(
            verdict("UPDATE appointments SET status = $3 WHERE id = $2 AND org_id = $1"),
            Verdict::OneOrganisation
        );
        assert_eq!(
            verdict("DELETE FROM patients WHERE (org_id = $1) AND id = $2"),
            Verdict::OneOrganisation
        );
    }

    #[test]
    fn a_statement_without_an_equality_on_org_id_is_refused() {
        assert!(refused("SELECT id FROM appointments WHERE id = $1"));
        assert!(refused(
            "SELECT id FROM appointments WHERE org_id = $1 OR id = $2"
        ));
        assert!(refused("SELECT id FROM appointments WHERE org_id <> $1"));
        assert!(refused(
            "UPDATE appointments SET status = 'x' WHERE id = $1"
        ));
        assert!(refused("DELETE FROM patients WHERE id = $1"));
        assert!(refused(
            "SELECT id FROM appointments WHERE org_id IN (SELECT org_id FROM patients)"
        ));
    }

    #[test]
    fn a_join_routes_only_when_it_joins_on_org_id() {
        assert_eq!(
            verdict(
                "SELECT a.id FROM appointments a JOIN patients p ON p.org_id = a.org_id AND p.id = a.patient_id WHERE a.org_id = $1"
            ),
            Verdict::OneOrganisation
        );
        assert!(refused(
            "SELECT a.id FROM appointments a JOIN patients p ON p.id = a.patient_id WHERE a.org_id = $1"
        ));
        assert!(refused(
            "SELECT a.id FROM appointments a, patients p WHERE a.org_id = $1 AND p.org_id = $2"
        ));
    }

    #[test]
    fn subqueries_and_ctes_are_held_too() {
        assert_eq!(
            verdict(
                "SELECT id FROM appointments a WHERE org_id = $1 AND EXISTS (SELECT 1 FROM patients p WHERE p.org_id = a.org_id AND p.id = a.patient_id)"
            ),
            Verdict::OneOrganisation
        );
        assert!(refused(
            "SELECT id FROM appointments a WHERE org_id = $1 AND EXISTS (SELECT 1 FROM patients p WHERE p.id = a.patient_id)"
        ));
        assert_eq!(
            verdict("WITH x AS (SELECT id FROM patients WHERE org_id = $1) SELECT * FROM x"),
            Verdict::OneOrganisation
        );
        assert!(refused(
            "WITH x AS (SELECT id FROM patients) SELECT * FROM x"
        ));
        assert!(refused("SELECT * FROM (SELECT id FROM clinics) c"));
        assert!(refused(
            "UPDATE appointments SET patient_id = p.id FROM patients p WHERE appointments.org_id = $1 AND p.id = $2"
        ));
    }

    #[test]
    fn an_insert_names_org_id() {
        assert_eq!(
            verdict("INSERT INTO patients (org_id, name) VALUES ($1, $2)"),
            Verdict::OneOrganisation
        );
        assert!(refused("INSERT INTO patients (name) VALUES ($1)"));
        assert!(refused(
            "INSERT INTO patients (org_id, name) SELECT org_id, name FROM clinics"
        ));
    }

    #[test]
    fn global_tables_and_fleet_marks() {
        assert_eq!(
            verdict("SELECT id FROM organisations WHERE slug = $1"),
            Verdict::NoTenantTable
        );
        assert_eq!(
            verdict("SELECT 1 FROM organisations_like WHERE id = $1"),
            Verdict::NoTenantTable
        );
        assert_eq!(
            verdict(
                "SELECT id FROM email_outbox /* fleet: the sender serves every organisation */ WHERE sent = false"
            ),
            Verdict::Fleet("the sender serves every organisation".into())
        );
        assert!(refused(
            "SELECT id FROM email_outbox /* fleet: */ WHERE sent = false"
        ));
        assert!(refused(
            "SELECT id FROM email_outbox /* fleet: stale */ WHERE org_id = $1"
        ));
        assert!(refused("CREATE TABLE x (id bigint)"));
    }
}
