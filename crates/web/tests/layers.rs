//! The layering ARCHITECTURE.md claims, checked on the source tree: no import circle
//! between the modules of a crate, and no route module that imports another route
//! module (what two of them share lives outside `routes/`, or in `routes/mod.rs`).
//!
//! A module here is a crate's top-level module (`store::appointment`, with everything
//! under `appointment/`), and in `web` each module of `routes/` on its own
//! (`routes::book`). A module uses another when its code (not its comments or tests)
//! names a path into it: `crate::other::…`, `use crate::{other, …}`, or `super::…`
//! from a submodule that climbs out of its own module. `routes/mod.rs` mounting the
//! route modules is not a use; a route module using what `routes/mod.rs` shares is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn crate_src(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name)
        .join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file: `routes/book/mod.rs` → `["routes", "book"]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = relative
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The node a module path belongs to: its first segment, and deeper while it is a
/// folder whose modules count one by one (`routes` and `routes::portal` in `web`).
fn node(path: &[String], split: &[&str], modules: &BTreeSet<String>) -> Option<String> {
    let mut name = path.first()?.clone();
    if !modules.contains(&name) {
        return None;
    }
    for segment in &path[1..] {
        let deeper = format!("{name}::{segment}");
        if !split.contains(&name.as_str()) || !modules.contains(&deeper) {
            break;
        }
        name = deeper;
    }
    Some(name)
}

/// The code of a file without comments, the contents of string and character
/// literals, and its `#[cfg(test)]` module (tests may reach anywhere).
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let chars: Vec<char> = text.chars().collect();
    let mut code = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        if rest.starts_with(&['/', '/']) {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if rest.starts_with(&['/', '*']) {
            i += 2;
            while i < chars.len() && !chars[i..].starts_with(&['*', '/']) {
                i += 1;
            }
            i += 2;
        } else if rest.starts_with(&['r', '#']) || rest.starts_with(&['r', '"']) {
            // A raw string: r"…", r#"…"#, …
            let hashes = rest[1..].iter().take_while(|c| **c == '#').count();
            if rest.get(1 + hashes) != Some(&'"') {
                code.push(chars[i]);
                i += 1;
                continue;
            }
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            i += 2 + hashes;
            while i < chars.len() && !chars[i..].starts_with(&close) {
                i += 1;
            }
            i += close.len();
            code.push_str("\"\"");
        } else if chars[i] == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            code.push_str("\"\"");
        } else if chars[i] == '\'' && rest.get(1) == Some(&'\\') {
            // '\n', '\'', '\u{…}'
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else if chars[i] == '\'' && rest.get(2) == Some(&'\'') {
            // 'x' (a lifetime never closes two characters on)
            i += 3;
        } else {
            code.push(chars[i]);
            i += 1;
        }
    }
    code
}

fn identifier(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The paths a file names from `prefix` (`crate::` or `super::`): each as its segments.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        let before = code[..at].chars().last();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        found.extend(expand(rest));
    }
    found
}

/// The paths at the start of `rest`: `a::b::c` or a group `{a, b::{c, d}}`.
fn expand(rest: &str) -> Vec<Vec<String>> {
    let rest = rest.trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        let mut depth = 0;
        let mut items = Vec::new();
        let mut start = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    items.push(&group[start..i]);
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&group[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        return items
            .into_iter()
            .filter(|item| !item.trim().is_empty())
            .flat_map(expand)
            .collect();
    }
    let head = identifier(rest);
    if head.is_empty() {
        return Vec::new();
    }
    let after = &rest[head.len()..];
    match after.strip_prefix("::") {
        Some(tail) => expand(tail)
            .into_iter()
            .map(|mut path| {
                path.insert(0, head.to_owned());
                path
            })
            .chain(
                // `a::{self, …}` or `a::*` still use `a`.
                std::iter::once(vec![head.to_owned()]),
            )
            .collect(),
        None => vec![vec![head.to_owned()]],
    }
}

/// Who uses whom among a crate's modules.
fn graph(krate: &str, split: &[&str]) -> Graph {
    let src = crate_src(krate);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let paths: Vec<Vec<String>> = files.iter().map(|f| module_path(&src, f)).collect();
    let mut modules = BTreeSet::new();
    for path in &paths {
        if let Some(first) = path.first() {
            let mut name = first.clone();
            modules.insert(name.clone());
            for segment in &path[1..] {
                if !split.contains(&name.as_str()) {
                    break;
                }
                name = format!("{name}::{segment}");
                modules.insert(name.clone());
            }
        }
    }
    let mut edges = Graph::new();
    for (file, path) in files.iter().zip(&paths) {
        let Some(me) = node(path, split, &modules) else {
            continue;
        };
        if path.iter().any(|p| p == "tests") {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(file).expect("a source file"));
        let mut used = paths_after(&code, "crate::");
        for relative in paths_after(&code, "super::") {
            // `super` of `a/b.rs` and of `a/b/mod.rs` is `a`; each further `super`
            // climbs one more.
            let mut base = path.clone();
            base.pop();
            let climbs = relative.iter().take_while(|s| *s == "super").count();
            base.truncate(base.len().saturating_sub(climbs));
            base.extend(relative.into_iter().skip(climbs));
            used.push(base);
        }
        for target in used {
            if let Some(target) = node(&target, split, &modules) {
                // A folder's `mod.rs` mounts its modules: that is not a use.
                let mounts = target.strip_prefix(&format!("{me}::")).is_some();
                if target != me && !mounts {
                    edges.entry(me.clone()).or_default().insert(target);
                }
            }
        }
    }
    edges
}

/// The circles of a graph: its strongly connected parts of more than one module.
fn circles(graph: &Graph) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                if !self.index.contains_key(w.as_str()) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w.as_str()]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w.as_str()) {
                    let low = self.low[v].min(self.index[w.as_str()]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut part = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    part.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if part.len() > 1 {
                    part.sort();
                    self.found.push(part);
                }
            }
        }
    }
    let mut t = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    let nodes: BTreeSet<&str> = graph
        .iter()
        .flat_map(|(k, v)| std::iter::once(k.as_str()).chain(v.iter().map(String::as_str)))
        .collect();
    for v in nodes {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.found.sort();
    t.found
}

fn assert_no_circles(krate: &str, split: &[&str]) {
    let graph = graph(krate, split);
    let found: Vec<_> = circles(&graph)
        .into_iter()
        .map(|c| {
            let uses: Vec<String> = c
                .iter()
                .map(|m| {
                    let to: Vec<&str> = graph[m]
                        .iter()
                        .filter(|t| c.contains(t))
                        .map(String::as_str)
                        .collect();
                    format!("{m} → {}", to.join(", "))
                })
                .collect();
            uses.join("; ")
        })
        .collect();
    assert!(found.is_empty(), "import circles in {krate}: {found:#?}");
}

#[test]
fn the_engine_has_no_import_circle() {
    assert_no_circles("slot-engine", &[]);
}

#[test]
fn the_store_has_no_import_circle() {
    assert_no_circles("store", &[]);
}

#[test]
fn the_web_has_no_import_circle() {
    assert_no_circles("web", ROUTE_FOLDERS);
}

/// The folders of `web` whose modules are route modules one by one.
const ROUTE_FOLDERS: &[&str] = &["routes", "routes::portal"];

#[test]
fn no_route_module_imports_another() {
    let graph = graph("web", ROUTE_FOLDERS);
    // Using what an enclosing folder's `mod.rs` shares is fine; a sibling or a cousin
    // is not.
    let related = |a: &str, b: &str| a.starts_with(&format!("{b}::"));
    let mut crossings: Vec<String> = graph
        .iter()
        .filter(|(from, _)| from.starts_with("routes::"))
        .flat_map(|(from, to)| {
            to.iter()
                .filter(|t| t.starts_with("routes::") && !related(from, t))
                .map(move |t| format!("{from} → {t}"))
        })
        .collect();
    // A route folder under another name would hide the path from the check.
    let src = crate_src("web").join("routes");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let code = code_of(&std::fs::read_to_string(&file).expect("a source file"));
        let squeezed: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
        if [
            "crate::routes as",
            "super as",
            "super::super as",
            "portal as",
        ]
        .iter()
        .any(|alias| squeezed.contains(alias))
        {
            crossings.push(format!("{} renames a route folder", file.display()));
        }
    }
    assert!(
        crossings.is_empty(),
        "route modules importing each other: {crossings:#?}"
    );
}

#[test]
fn the_checker_sees_a_circle_and_a_crossing() {
    // The checker itself: paths in groups, `super::` out of a submodule, and comments
    // and strings that do not count.
    let code = code_of(
        "use crate::{a, b::{c, d}};\n// crate::e\nlet s = \"crate::f\";\nlet q = '\"';\nlet r = r#\"crate::i \"quoted\"\"#;\nsuper::g::h();\n",
    );
    let crate_paths = paths_after(&code, "crate::");
    assert!(crate_paths.contains(&vec!["a".to_owned()]));
    assert!(crate_paths.contains(&vec!["b".to_owned(), "c".to_owned()]));
    assert!(
        !crate_paths
            .iter()
            .any(|p| p[0] == "e" || p[0] == "f" || p[0] == "i")
    );
    assert_eq!(
        paths_after(&code, "super::"),
        vec![vec!["g".to_owned(), "h".to_owned()], vec!["g".to_owned()]]
    );
    let mut g = Graph::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    g.entry("c".into()).or_default().insert("a".into());
    g.entry("c".into()).or_default().insert("d".into());
    assert_eq!(circles(&g), vec![vec!["a", "b", "c"]]);
}
