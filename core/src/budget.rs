//! What a token brings, measured before any of its Datalog runs (docs/DESIGN.md §3, "Authorize").
//!
//! biscuit-auth checks its time limit between iterations, and one iteration's join runs to its end:
//! a block of 20 facts and one rule joining five of them costs seconds whatever `max_time` says. So a
//! token's shape is read once, when it is parsed (straight from the signed protobuf, no Datalog), and
//! every authorization first checks it against [`Limits`]: sizes per block and per body, regular
//! expressions in appended blocks, and an estimate of the join work of all bodies together.
//!
//! The same pass reads what authentication needs from the authority block alone: the identity facts
//! and the expiry the issuer wrote.

use std::collections::HashMap;

use biscuit_auth::datalog::SymbolTable;
use biscuit_auth::format::schema::{self, op, op_binary, term::Content, Block};
use prost::Message;

use crate::error::{Error, ErrorCode, Result};
use crate::limits::{Limits, MAX_REGEX_BYTES, MAX_REGEX_PROGRAM_BYTES};

/// Where a block's own symbols start in its symbol table (biscuit's default symbols come first).
const BLOCK_SYMBOL_OFFSET: u64 = 1024;

/// One rule, check or policy body: its predicates and how many expression operations it evaluates.
#[derive(Clone, Debug, Default)]
pub(crate) struct Body {
    /// The rule's head predicate (None for a check or a policy).
    pub head: Option<String>,
    pub atoms: Vec<String>,
    pub ops: u64,
}

/// A regular expression found in a block a holder appended.
#[derive(Clone, Debug)]
enum Pattern {
    /// A string literal (the pattern).
    Literal(String),
    /// A pattern computed at run time (a variable, an expression): its size cannot be known.
    Dynamic,
}

/// The identity facts of the authority block, as written.
#[derive(Clone, Debug, Default)]
pub(crate) struct IdentityFacts {
    pub worker_key: Vec<String>,
    pub revocation: Vec<String>,
    pub worker_id: Vec<String>,
    /// The first identity predicate written with a term that is not a string.
    pub not_a_string: Option<&'static str>,
    /// `delegation_depth(n)` facts (docs/DESIGN.md §3.13), as written.
    pub delegation_depth: Vec<i64>,
    /// A `delegation_depth` written with a term that is not an integer.
    pub depth_not_an_integer: bool,
}

/// A block after the authority block, as delegation reads it (docs/DESIGN.md §3.13).
#[derive(Clone, Debug, Default)]
pub(crate) struct LinkFacts {
    /// The Ed25519 key that signed the block as a third party (None for a first-party block; an
    /// empty vector for a key of another algorithm).
    pub external_key: Option<Vec<u8>>,
    pub delegate_key: Vec<String>,
    pub delegate_id: Vec<String>,
    /// A delegation fact written with a term that is not a string.
    pub not_a_string: bool,
    /// The earliest `check if time($t), $t <= D` bound of the block, seconds.
    pub expires_at: Option<u64>,
}

/// Everything the budget and authentication read from a token, computed once per parse.
#[derive(Clone, Debug, Default)]
pub(crate) struct Shape {
    pub identity: IdentityFacts,
    /// The earliest `check if time($t), $t <= D` bound of the authority block, seconds.
    pub expires_at: Option<u64>,
    /// Every block after the authority block, in order.
    pub links: Vec<LinkFacts>,
    blocks: u64,
    /// (facts, rules + checks) written in each block.
    block_sizes: Vec<(u64, u64)>,
    /// Facts written in any block, by predicate name and arity (an upper bound of what any scope sees).
    facts: HashMap<String, u64>,
    rules: Vec<Body>,
    checks: Vec<Body>,
    appended_patterns: Vec<Pattern>,
    /// Something the protobuf says that this reading does not understand (a symbol out of range):
    /// the token is refused before any Datalog runs.
    unreadable: bool,
}

/// What the authorizer adds to the token for one run: its facts, rules, checks and policies.
#[derive(Debug, Default)]
pub(crate) struct Extra {
    pub facts: HashMap<String, u64>,
    pub rules: Vec<Body>,
    pub bodies: Vec<Body>,
}

impl Extra {
    /// One fact `name(…)` of `arity` terms.
    pub fn fact(&mut self, name: &str, arity: usize) {
        *self.facts.entry(key(name, arity)).or_default() += 1;
    }

    pub fn rule(&mut self, rule: &biscuit_auth::builder::Rule) {
        self.rules.push(builder_body(Some(key(&rule.head.name, rule.head.terms.len())), rule));
    }

    pub fn query(&mut self, rule: &biscuit_auth::builder::Rule) {
        self.bodies.push(builder_body(None, rule));
    }
}

/// A predicate as the engine matches it: by name and number of terms.
fn key(name: &str, arity: usize) -> String {
    format!("{name}/{arity}")
}

fn builder_body(head: Option<String>, rule: &biscuit_auth::builder::Rule) -> Body {
    Body {
        head,
        atoms: rule.body.iter().map(|p| key(&p.name, p.terms.len())).collect(),
        ops: rule.expressions.iter().map(|e| e.ops.len() as u64).sum(),
    }
}

/// The symbols a block's numbers refer to: biscuit's defaults, then every earlier first-party block's.
struct Symbols {
    defaults: SymbolTable,
    own: Vec<String>,
}

impl Symbols {
    fn get(&self, i: u64) -> Option<&str> {
        match i.checked_sub(BLOCK_SYMBOL_OFFSET) {
            Some(own) => self.own.get(usize::try_from(own).ok()?).map(String::as_str),
            None => self.defaults.get_symbol(i),
        }
    }
}

impl Shape {
    /// Read the signed blocks. Never fails: what cannot be read marks the shape unreadable, and the
    /// budget refuses it before anything runs.
    pub fn read(biscuit: &biscuit_auth::Biscuit) -> Shape {
        // the blocks as signed (biscuit-auth keeps its decoded copy private)
        Shape::read_signed(&biscuit.container().to_proto())
    }

    /// [`Shape::read`] from a token's protobuf (a holder reads its own token this way to delegate
    /// it, without the issuer key).
    pub fn read_signed(signed: &schema::Biscuit) -> Shape {
        let mut shape = Shape::default();
        let mut global = Symbols { defaults: SymbolTable::new(), own: Vec::new() };
        let blocks = std::iter::once((&signed.authority, true)).chain(signed.blocks.iter().map(|b| (b, false)));
        for (block, authority) in blocks {
            let Ok(decoded) = Block::decode(block.block.as_slice()) else {
                shape.unreadable = true;
                continue;
            };
            // a third-party block has its own symbol table; a first-party one extends the token's
            let third_party_table;
            let symbols = if block.external_signature.is_some() {
                third_party_table = Symbols { defaults: SymbolTable::new(), own: decoded.symbols.clone() };
                &third_party_table
            } else {
                global.own.extend(decoded.symbols.iter().cloned());
                &global
            };
            if !authority {
                let external_key = block.external_signature.as_ref().map(|signature| {
                    let ed25519 = signature.public_key.algorithm == schema::public_key::Algorithm::Ed25519 as i32;
                    if ed25519 {
                        signature.public_key.key.clone()
                    } else {
                        Vec::new()
                    }
                });
                shape.links.push(LinkFacts { external_key, ..LinkFacts::default() });
            }
            shape.read_block(&decoded, symbols, authority);
        }
        shape.blocks = 1 + signed.blocks.len() as u64;
        shape
    }

    fn read_block(&mut self, block: &Block, symbols: &Symbols, authority: bool) {
        self.block_sizes.push((block.facts.len() as u64, (block.rules.len() + block.checks.len()) as u64));
        for fact in &block.facts {
            let Some(name) = symbols.get(fact.predicate.name) else {
                self.unreadable = true;
                continue;
            };
            *self.facts.entry(key(name, fact.predicate.terms.len())).or_default() += 1;
            if authority {
                self.identity_fact(name, &fact.predicate.terms, symbols);
            } else {
                self.link_fact(name, &fact.predicate.terms, symbols);
            }
        }
        for rule in &block.rules {
            let head = symbols.get(rule.head.name).map(|name| key(name, rule.head.terms.len()));
            if head.is_none() {
                self.unreadable = true;
            }
            let body = self.body(head, rule, symbols, authority);
            self.rules.push(body);
        }
        for check in &block.checks {
            if let Some(bound) = expiry_bound(check, symbols) {
                let slot = match self.links.last_mut() {
                    Some(link) if !authority => &mut link.expires_at,
                    _ => &mut self.expires_at,
                };
                *slot = Some(slot.map_or(bound, |b| b.min(bound)));
            }
            for query in &check.queries {
                let body = self.body(None, query, symbols, authority);
                self.checks.push(body);
            }
        }
    }

    fn body(&mut self, head: Option<String>, rule: &schema::Rule, symbols: &Symbols, authority: bool) -> Body {
        let mut atoms = Vec::with_capacity(rule.body.len());
        for predicate in &rule.body {
            match symbols.get(predicate.name) {
                Some(name) => atoms.push(key(name, predicate.terms.len())),
                None => self.unreadable = true,
            }
        }
        let mut ops = 0;
        for expression in &rule.expressions {
            ops += self.ops(&expression.ops, symbols, authority);
        }
        Body { head, atoms, ops }
    }

    /// Count operations (closures' included) and note the regular expressions of appended blocks.
    fn ops(&mut self, ops: &[schema::Op], symbols: &Symbols, authority: bool) -> u64 {
        let mut count = ops.len() as u64;
        for (i, operation) in ops.iter().enumerate() {
            match &operation.content {
                Some(op::Content::Closure(closure)) => count += self.ops(&closure.ops, symbols, authority),
                Some(op::Content::Binary(binary)) if binary.kind == op_binary::Kind::Regex as i32 && !authority => {
                    // the pattern is the operand pushed just before the operator, when it is a literal
                    let literal = i.checked_sub(1).and_then(|j| match &ops[j].content {
                        Some(op::Content::Value(schema::Term { content: Some(Content::String(s)) })) => {
                            symbols.get(*s).map(str::to_owned)
                        }
                        _ => None,
                    });
                    self.appended_patterns.push(literal.map_or(Pattern::Dynamic, Pattern::Literal));
                }
                _ => {}
            }
        }
        count
    }

    fn link_fact(&mut self, name: &str, terms: &[schema::Term], symbols: &Symbols) {
        let Some(link) = self.links.last_mut() else { return };
        let slot = match name {
            "delegate_key" => &mut link.delegate_key,
            "delegate_id" => &mut link.delegate_id,
            _ => return,
        };
        let [term] = terms else { return };
        match &term.content {
            Some(Content::String(value)) => match symbols.get(*value) {
                Some(value) if !slot.iter().any(|v| v == value) => slot.push(value.to_owned()),
                Some(_) => {}
                None => self.unreadable = true,
            },
            _ => link.not_a_string = true,
        }
    }

    fn identity_fact(&mut self, name: &str, terms: &[schema::Term], symbols: &Symbols) {
        if name == "delegation_depth" {
            match terms {
                [schema::Term { content: Some(Content::Integer(n)) }]
                    if !self.identity.delegation_depth.contains(n) =>
                {
                    self.identity.delegation_depth.push(*n);
                }
                [schema::Term { content: Some(Content::Integer(_)) }] => {}
                [_] => self.identity.depth_not_an_integer = true,
                _ => {}
            }
            return;
        }
        let (slot, predicate) = match name {
            "worker_key" => (&mut self.identity.worker_key, "worker_key"),
            "revocation" => (&mut self.identity.revocation, "revocation"),
            "worker_id" => (&mut self.identity.worker_id, "worker_id"),
            _ => return,
        };
        // `p($v)` matches one-term facts only
        let [term] = terms else { return };
        match &term.content {
            Some(Content::String(value)) => match symbols.get(*value) {
                // a set per predicate, as the engine's: a fact written twice is one fact
                Some(value) if !slot.iter().any(|v| v == value) => slot.push(value.to_owned()),
                Some(_) => {}
                None => self.unreadable = true,
            },
            _ => {
                self.identity.not_a_string.get_or_insert(predicate);
            }
        }
    }

    /// Check the token, and what the authorizer adds, against the budget. LIMIT_EXCEEDED says which
    /// part of the budget was exceeded.
    pub fn check(&self, limits: &Limits, extra: &Extra) -> Result<()> {
        let over = |what: String| Err(Error::new(ErrorCode::LimitExceeded, what));
        if self.unreadable {
            return over("token has a block that cannot be budgeted".into());
        }
        if self.blocks > limits.max_blocks {
            return over(format!("token has {} blocks, over the limit of {}", self.blocks, limits.max_blocks));
        }
        for (i, (facts, rules)) in self.block_sizes.iter().enumerate() {
            if *facts > limits.max_block_facts {
                return over(format!("block {i} has {facts} facts, over the limit of {}", limits.max_block_facts));
            }
            if *rules > limits.max_block_rules {
                return over(format!(
                    "block {i} has {rules} rules and checks, over the limit of {}",
                    limits.max_block_rules
                ));
            }
        }
        let every_body = || self.rules.iter().chain(&self.checks).chain(&extra.rules).chain(&extra.bodies);
        for body in every_body() {
            if body.atoms.len() as u64 > limits.max_body_atoms {
                return over(format!(
                    "a body has {} predicates, over the limit of {}",
                    body.atoms.len(),
                    limits.max_body_atoms
                ));
            }
            if body.ops > limits.max_body_ops {
                return over(format!(
                    "a body has {} expression operations, over the limit of {}",
                    body.ops, limits.max_body_ops
                ));
            }
        }
        for pattern in &self.appended_patterns {
            check_pattern(pattern, limits)?;
        }
        let joins = self.join_estimate(limits, extra);
        if joins > limits.max_join_size {
            return over(format!("join-size estimate {joins} is over the limit of {}", limits.max_join_size));
        }
        Ok(())
    }

    /// For each body, the product of the facts each of its predicates can match, times one plus its
    /// expression operations (each match evaluates them), summed over every body. A predicate's candidates are the facts written for it (token and authorizer) plus, when
    /// rules derive it, what those rules can derive (their own estimate, at most `max_facts`);
    /// rules that depend on each other in a circle are taken at `max_facts`.
    fn join_estimate(&self, limits: &Limits, extra: &Extra) -> u64 {
        let written = |name: &str| -> u64 {
            self.facts.get(name).copied().unwrap_or(0).saturating_add(extra.facts.get(name).copied().unwrap_or(0))
        };
        let rules: Vec<&Body> = self.rules.iter().chain(&extra.rules).collect();
        let mut derived: HashMap<&str, u64> = HashMap::new();
        if !rules.is_empty() {
            let candidates = |derived: &HashMap<&str, u64>, name: &str| {
                written(name).saturating_add(derived.get(name).copied().unwrap_or(0))
            };
            let mut settled = false;
            for _ in 0..=rules.len() {
                let mut next: HashMap<&str, u64> = HashMap::new();
                for rule in &rules {
                    let Some(head) = rule.head.as_deref() else { continue };
                    let product = product(rule.atoms.iter().map(|a| candidates(&derived, a)));
                    let entry = next.entry(head).or_default();
                    *entry = entry.saturating_add(product).min(limits.max_facts);
                }
                if next == derived {
                    settled = true;
                    break;
                }
                derived = next;
            }
            if !settled {
                // a circle of rules: each derives at most what the fact limit lets it
                for rule in &rules {
                    if let Some(head) = rule.head.as_deref() {
                        derived.insert(head, limits.max_facts);
                    }
                }
            }
        }
        let candidates = |name: &str| written(name).saturating_add(derived.get(name).copied().unwrap_or(0));
        self.rules
            .iter()
            .chain(&self.checks)
            .chain(&extra.rules)
            .chain(&extra.bodies)
            .map(|body| product(body.atoms.iter().map(|a| candidates(a))).saturating_mul(1 + body.ops))
            .fold(0u64, u64::saturating_add)
    }
}

/// The work of a nested-loop join over candidate counts: every predicate is visited at least once,
/// even one that matches nothing.
fn product(counts: impl Iterator<Item = u64>) -> u64 {
    counts.fold(1u64, |acc, n| acc.saturating_mul(n.max(1)))
}

fn check_pattern(pattern: &Pattern, limits: &Limits) -> Result<()> {
    let over = |what: &str| Err(Error::new(ErrorCode::LimitExceeded, what.to_owned()));
    if !limits.allow_appended_regex {
        return over("a regular expression in an appended block (not allowed by the limits)");
    }
    let Pattern::Literal(text) = pattern else {
        return over("a regular expression in an appended block is not a literal");
    };
    if text.len() > MAX_REGEX_BYTES {
        return over("a regular expression in an appended block is too long");
    }
    // compile it as biscuit-auth will, with a small program limit: a pattern whose program is larger
    // costs more to build and run than any request is worth
    if regex::RegexBuilder::new(text).size_limit(MAX_REGEX_PROGRAM_BYTES).build().is_err() {
        return over("a regular expression in an appended block is too large or does not compile");
    }
    Ok(())
}

/// `check if time($t), $t <= D` (or `<`): the bound D in seconds.
fn expiry_bound(check: &schema::Check, symbols: &Symbols) -> Option<u64> {
    // `check if` or `check all` (a `reject if` means the opposite)
    if !matches!(check.kind, None | Some(0) | Some(1)) {
        return None;
    }
    let [query] = check.queries.as_slice() else { return None };
    let [atom] = query.body.as_slice() else { return None };
    if symbols.get(atom.name)? != "time" || !query.scope.is_empty() {
        return None;
    }
    let [schema::Term { content: Some(Content::Variable(var)) }] = atom.terms.as_slice() else { return None };
    let [expression] = query.expressions.as_slice() else { return None };
    let value = |op: &schema::Op| match &op.content {
        Some(op::Content::Value(schema::Term { content })) => content.clone(),
        _ => None,
    };
    let [left, right, operator] = expression.ops.as_slice() else { return None };
    let (Some(Content::Variable(v)), Some(Content::Date(date))) = (value(left), value(right)) else { return None };
    if v != *var {
        return None;
    }
    match &operator.content {
        Some(op::Content::Binary(b)) if b.kind == op_binary::Kind::LessOrEqual as i32 => Some(date),
        Some(op::Content::Binary(b)) if b.kind == op_binary::Kind::LessThan as i32 => date.checked_sub(1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use biscuit_auth::{Biscuit, BlockBuilder, KeyPair};

    fn shape(authority: &str, appended: Option<&str>) -> Shape {
        let mut biscuit = Biscuit::builder().code(authority).unwrap().build(&KeyPair::new()).unwrap();
        if let Some(code) = appended {
            biscuit = biscuit.append(BlockBuilder::new().code(code).unwrap()).unwrap();
        }
        Shape::read(&biscuit)
    }

    #[test]
    fn the_join_estimate_counts_candidates_by_name_and_arity() {
        let limits = Limits::DEFAULT;
        let none = Extra::default();
        // 10 x 10 matches, no expression
        let s =
            shape("n(1); n(2); n(3); n(4); n(5); n(6); n(7); n(8); n(9); n(10);", Some("p($a, $b) <- n($a), n($b);"));
        assert_eq!(s.join_estimate(&limits, &none), 100);
        // n/2 is another predicate than n/1: one candidate (itself at least once), and the rule
        // derives p/2, which no body reads
        let s = shape("n(1); n(2); n(3, 4);", Some("check if n($a, $b), n($c);"));
        assert_eq!(s.join_estimate(&limits, &none), 2);
        // expressions weigh each match: 3 x (1 + 3 ops)
        let s = shape("n(1); n(2); n(3);", Some("check if n($a), $a > 1;"));
        assert_eq!(s.join_estimate(&limits, &none), 12);
        // a rule reading what it derives is taken at the fact limit
        let s = shape("n(1); k(1, 2);", Some("n($y) <- n($x), k($x, $y);"));
        assert_eq!(s.join_estimate(&limits, &none), 1 + limits.max_facts);
    }

    #[test]
    fn the_authority_gives_identity_and_expiry_without_datalog() {
        let s = shape(
            r#"worker_key("k"); revocation("r"); worker_key($k) <- other($k); check if time($t), $t <= 2023-11-14T23:13:20Z;"#,
            Some(r#"worker_key("forged"); check if time($t), $t <= 2020-01-01T00:00:00Z;"#),
        );
        assert_eq!(s.identity.worker_key, ["k"]);
        assert_eq!(s.identity.revocation, ["r"]);
        assert_eq!(s.expires_at, Some(1_700_003_600));
        let s = shape(r#"worker_key(1); revocation("r");"#, None);
        assert_eq!(s.identity.not_a_string, Some("worker_key"));
        // a `reject if` is no expiry
        assert_eq!(shape("reject if time($t), $t <= 2023-11-14T23:13:20Z;", None).expires_at, None);
    }

    #[test]
    fn appended_regexes_are_found_literal_or_not() {
        let s = shape("s(\"a\");", Some("check if s($x), $x.matches(\"^a$\"); check if s($x), p($p), $x.matches($p);"));
        assert!(matches!(s.appended_patterns.as_slice(), [Pattern::Literal(p), Pattern::Dynamic] if p == "^a$"));
        // the issuer's own are not limited
        assert!(shape("s(\"a\"); check if s($x), $x.matches(\"^a$\");", None).appended_patterns.is_empty());
        let allowed = Limits { allow_appended_regex: true, ..Limits::DEFAULT };
        assert!(check_pattern(&Pattern::Literal("^a+$".into()), &allowed).is_ok());
        assert!(check_pattern(&Pattern::Literal(r"(\w{200}){5}".into()), &allowed).is_err());
        assert!(check_pattern(&Pattern::Literal("a".repeat(MAX_REGEX_BYTES + 1)), &allowed).is_err());
        assert!(check_pattern(&Pattern::Dynamic, &allowed).is_err());
        assert!(check_pattern(&Pattern::Literal("^a$".into()), &Limits::DEFAULT).is_err());
    }
}
