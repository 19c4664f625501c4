//! The access graph of `who-can` and `what-can` answers, for people:
//! accounts holding principals and roles, edges for each hop (an
//! `sts:AssumeRole` or the final action) labelled with the statements that
//! grant it and the conditions that still apply. Graphviz DOT and Mermaid,
//! so it renders in a terminal pipeline, a README or a pull request, and a
//! plain table.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::who_can::Access;

/// Nodes by account (`""` for resources of no account), and edges.
struct Graph {
    accounts: BTreeMap<String, BTreeSet<String>>,
    edges: BTreeSet<(String, String, String)>,
}

/// The account field of an ARN (`arn:aws:iam::123456789012:user/u`).
fn account_of(arn: &str) -> String {
    arn.split(':').nth(4).unwrap_or_default().to_owned()
}

fn build(accesses: &[Access]) -> Graph {
    let mut graph = Graph {
        accounts: BTreeMap::new(),
        edges: BTreeSet::new(),
    };
    for access in accesses {
        for hop in &access.hops {
            for node in [&hop.from, &hop.to] {
                graph
                    .accounts
                    .entry(account_of(node))
                    .or_default()
                    .insert(node.clone());
            }
            let mut label = hop.action.clone();
            for grant in &hop.grants {
                let _ = write!(label, "\\n{grant}");
            }
            for condition in &hop.conditions {
                let _ = write!(label, "\\n{}", condition.describe());
            }
            graph
                .edges
                .insert((hop.from.clone(), hop.to.clone(), label));
        }
    }
    graph
}

/// A short name for a node: what follows the account field.
fn short(arn: &str) -> String {
    arn.splitn(6, ':').nth(5).unwrap_or(arn).to_owned()
}

fn quote(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace("\\\\n", "\\n")
}

/// Graphviz DOT: one cluster per account.
pub fn dot(accesses: &[Access]) -> String {
    let graph = build(accesses);
    let mut ids: BTreeMap<&str, String> = BTreeMap::new();
    let mut out = String::from("digraph access {\n  rankdir=LR;\n  node [shape=box];\n");
    for (n, (account, nodes)) in graph.accounts.iter().enumerate() {
        let _ = writeln!(out, "  subgraph cluster_{n} {{");
        let title = if account.is_empty() {
            "anyone"
        } else {
            account
        };
        let _ = writeln!(out, "    label=\"account {}\";", quote(title));
        for node in nodes {
            let id = format!("n{}", ids.len());
            let _ = writeln!(out, "    {id} [label=\"{}\"];", quote(&short(node)));
            ids.insert(node, id);
        }
        out.push_str("  }\n");
    }
    for (from, to, label) in &graph.edges {
        let (Some(a), Some(b)) = (ids.get(from.as_str()), ids.get(to.as_str())) else {
            continue;
        };
        let _ = writeln!(out, "  {a} -> {b} [label=\"{}\"];", quote(label));
    }
    out.push_str("}\n");
    out
}

fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;").replace("\\n", "<br/>")
}

/// Mermaid `flowchart`: one subgraph per account.
pub fn mermaid(accesses: &[Access]) -> String {
    let graph = build(accesses);
    let mut ids: BTreeMap<&str, String> = BTreeMap::new();
    let mut out = String::from("flowchart LR\n");
    for (n, (account, nodes)) in graph.accounts.iter().enumerate() {
        let title = if account.is_empty() {
            "anyone"
        } else {
            account
        };
        let _ = writeln!(out, "  subgraph a{n} [\"account {}\"]", mermaid_text(title));
        for node in nodes {
            let id = format!("n{}", ids.len());
            let _ = writeln!(out, "    {id}[\"{}\"]", mermaid_text(&short(node)));
            ids.insert(node, id);
        }
        out.push_str("  end\n");
    }
    for (from, to, label) in &graph.edges {
        let (Some(a), Some(b)) = (ids.get(from.as_str()), ids.get(to.as_str())) else {
            continue;
        };
        let _ = writeln!(out, "  {a} -->|\"{}\"| {b}", mermaid_text(label));
    }
    out
}

/// A readable table: principal, the roles assumed, the conditions.
pub fn table(accesses: &[Access]) -> String {
    if accesses.is_empty() {
        return "nobody\n".to_owned();
    }
    let width = accesses
        .iter()
        .map(|a| a.principal.len())
        .max()
        .unwrap_or(0)
        .max("PRINCIPAL".len());
    let mut out = format!("{:width$}  VIA  CONDITIONS\n", "PRINCIPAL");
    for access in accesses {
        let via = if access.via.is_empty() {
            "direct".to_owned()
        } else {
            access.via.join(" -> ")
        };
        let conditions = if access.conditions.is_empty() {
            "none".to_owned()
        } else {
            access
                .conditions
                .iter()
                .map(|c| c.describe())
                .collect::<Vec<_>>()
                .join("; ")
        };
        let _ = writeln!(out, "{:width$}  {via}  {conditions}", access.principal);
    }
    out
}
