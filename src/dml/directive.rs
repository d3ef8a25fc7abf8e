//! Clauses the SQL front takes out of a statement for the provider, because DataFusion's
//! planner does not plan them: `ON CONFLICT` and stackql's `SET data__PatchDocument`; and the
//! WHERE of an UPDATE or DELETE as written, which DataFusion's DML hooks do not see.

use datafusion::logical_expr::Expr;

/// What the provider must know about a statement beyond DataFusion's plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directive {
    /// `INSERT … ON CONFLICT …`.
    pub on_conflict: Option<OnConflict>,
    /// `UPDATE … SET data__PatchDocument = '<RFC 6902 JSON Patch>'`.
    pub patch_document: Option<String>,
    /// The WHERE of an UPDATE or DELETE, read from the statement (not from the optimized plan).
    pub where_clause: Option<DmlWhere>,
}

/// What INSERT does with a row whose rule already exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnConflict {
    /// `ON CONFLICT DO NOTHING`: skip it.
    DoNothing,
    /// `ON CONFLICT DO UPDATE SET c = EXCLUDED.c, …`: update these columns where they differ.
    DoUpdate(Vec<String>),
}

/// The WHERE of an UPDATE or DELETE as the statement wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmlWhere {
    /// Whether the statement has a WHERE at all (a WHERE that is always false still has one).
    pub present: bool,
    /// The WHERE's conjuncts, unqualified, type-coerced and simplified (empty without WHERE).
    pub filters: Vec<Expr>,
    /// The WHERE is provably false (or NULL) for every row: it matches nothing, and no call
    /// is needed to know that.
    pub never: bool,
    /// UPDATE's `SET column = value` pairs as written (also when the WHERE is always false,
    /// where the optimizer drops them with the rows).
    pub assignments: Vec<(String, Expr)>,
}
