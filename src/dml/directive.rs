//! Clauses the SQL front takes out of a statement for the provider, because DataFusion's
//! planner does not plan them: `ON CONFLICT` and stackql's `SET data__PatchDocument`.

/// What the provider must know about a statement beyond DataFusion's plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directive {
    /// `INSERT … ON CONFLICT …`.
    pub on_conflict: Option<OnConflict>,
    /// `UPDATE … SET data__PatchDocument = '<RFC 6902 JSON Patch>'`.
    pub patch_document: Option<String>,
}

/// What INSERT does with a row whose rule already exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnConflict {
    /// `ON CONFLICT DO NOTHING`: skip it.
    DoNothing,
    /// `ON CONFLICT DO UPDATE SET c = EXCLUDED.c, …`: update these columns where they differ.
    DoUpdate(Vec<String>),
}
