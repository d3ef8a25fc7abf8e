//! The provider-schemas data model: files as written (strict serde) and resolved resources.

use super::arn_scope::ArnScope;
use super::checks::Check;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde::Deserialize;
use std::sync::Arc;

/// `provider.yaml`: the provider, its services and regions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderDoc {
    /// Provider name (`aws`).
    pub name: String,
    /// One-line description.
    pub description: String,
    /// The services (schemas of the catalog).
    pub services: Vec<ServiceDoc>,
    /// Every commercial region where the provider's services exist (`--regions all`).
    pub regions: Vec<String>,
}

/// A service of the provider (a schema in SQL: `aws.ecr`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDoc {
    /// Service name (`ecr`).
    pub name: String,
    /// Full name.
    pub title: String,
    /// One-line description.
    pub description: String,
}

/// A resource file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceDoc {
    /// Table name.
    pub name: String,
    /// The service it belongs to.
    pub service: String,
    /// List (plural) or get (singular, needs its identifier).
    pub kind: ResourceKind,
    /// What it is.
    pub description: String,
    /// The CloudFormation type name.
    pub resource_type: String,
    /// The column that identifies one resource.
    pub identifier: String,
    /// The columns, unless `columns_from` names another resource that declares them.
    #[serde(default)]
    pub columns: Vec<ColumnDoc>,
    /// Takes the columns of this other resource of the same service.
    #[serde(default)]
    pub columns_from: Option<String>,
    /// The Rust module that reads and writes it (`provider/`), when not the one named like
    /// the table: the singular rule table shares the rules' module.
    #[serde(default)]
    pub module: Option<String>,
    /// The error code ECR answers for an item it does not hold (a read by identifier finds
    /// nothing; a retried delete was already done).
    #[serde(default)]
    pub not_found: Option<String>,
    /// The error code ECR answers a create of an identifier it holds: after a lost response,
    /// the engine reads the item back to tell whether the create it retried had committed.
    #[serde(default)]
    pub already_exists: Option<String>,
    /// Columns (or aliases) a WHERE clause can push to the API.
    pub key_columns: Vec<KeyColumn>,
    /// The API methods behind the SQL verbs.
    pub methods: Vec<Method>,
    /// Example statements for the docs by verb, where the generated ones do not fit the resource
    /// (each runs against the demo sandbox in a test).
    #[serde(default)]
    pub examples: Vec<Example>,
    /// The calls made once per item to fill lazy columns (their `fetched_by`).
    #[serde(default)]
    pub fetches: Vec<Fetch>,
    /// The operations UPDATE makes instead of one whole-item update, each changing its columns
    /// (a repository's tag mutability, scanning, lifecycle policy, …).
    #[serde(default)]
    pub updates: Vec<ColumnUpdate>,
    /// What to do next, by the error code a change can fail with (a repository that still
    /// holds images): added to the failure report so that the fix is one read away.
    #[serde(default)]
    pub error_hints: std::collections::BTreeMap<String, String>,
    /// What the document whose items are the rows is called in messages ("registry policy"),
    /// for a resource read as one document per region.
    #[serde(default)]
    pub document: Option<String>,
}

/// An operation that changes some columns of an item in place.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnUpdate {
    /// The operation (`PutLifecyclePolicy`).
    pub operation: String,
    /// The columns it sets, sent together (the item's current value for those not assigned).
    pub sets: Vec<String>,
    /// The operation that removes the value, for `SET <column> = NULL`
    /// (`DeleteLifecyclePolicy`).
    #[serde(default)]
    pub removed_by: Option<String>,
    /// The members the columns are sent as, where they are not the columns' `source`.
    #[serde(default)]
    pub members: std::collections::BTreeMap<String, String>,
    /// The members that name the item, by the columns they take (default: the identifier).
    #[serde(default)]
    pub sends: std::collections::BTreeMap<String, String>,
    /// Whether the create takes none of these columns: INSERT then sends them with this
    /// operation once the item is created (a repository's lifecycle policy).
    #[serde(default)]
    pub after_create: bool,
    /// For a list of keyed objects changed by difference (tags): the operation is sent only
    /// the items new or changed, and this one the keys of the items removed.
    #[serde(default)]
    pub difference: Option<Difference>,
}

/// See [`ColumnUpdate::difference`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Difference {
    /// The operation that removes items by key (`UntagResource`).
    pub operation: String,
    /// Its member taking the keys (`tagKeys`).
    pub member: String,
    /// The member of each item that is its key (`Key`).
    pub key: String,
}

/// How the SELECT method's operation lists a region's items: the engine's one page loop reads
/// this (see `engine/listing.rs`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listing {
    /// The answer's member that holds the items (`repositories`); without it the answer is
    /// the region's one item (its registry).
    #[serde(default)]
    pub items: Option<String>,
    /// Operations whose answers are read beside a one-item listing and merged into its item
    /// (the registry's scanning configuration beside its replication).
    #[serde(default)]
    pub merges: Vec<String>,
    /// The request and answer members of paging, when the operation pages.
    #[serde(default)]
    pub page: Option<Paging>,
    /// Where pinned identifiers are sent, when the operation takes them.
    #[serde(default)]
    pub identifiers: Option<IdentifierMember>,
    /// Members of the answer itself (not of each item) that every item takes (`registryId`).
    #[serde(default)]
    pub answer_members: Vec<String>,
    /// Members sent with every call (a filter that shows every item, say).
    #[serde(default)]
    pub sends: serde_json::Map<String, serde_json::Value>,
    /// The table whose items this one's are listed under (images under repositories).
    #[serde(default)]
    pub parent: Option<Parent>,
}

/// Paging members: `nextToken` and `maxResults` in ECR.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// The request and answer member of the page token.
    pub token: String,
    /// The request member of the page size.
    pub size: String,
    /// The largest page size the operation takes.
    pub max: usize,
}

/// The request member that takes pinned identifiers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentifierMember {
    /// The member (`repositoryNames`).
    pub member: String,
    /// The most a call takes.
    pub max: usize,
    /// When each identifier is an object, the member holding it (`imageDigest` of `imageIds`).
    #[serde(default)]
    pub within: Option<String>,
    /// How a call that fails with the resource's `not_found` code for one missing identifier
    /// is answered for the others: ask each alone (`each`), or list everything once and keep
    /// the ones asked (`list`: for a resource with a small quota per region).
    pub missing: Missing,
}

/// See [`IdentifierMember::missing`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Missing {
    /// Ask each identifier of the chunk alone.
    Each,
    /// List every item once and keep the identifiers asked.
    List,
}

/// The parent of a child table's items.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parent {
    /// The parent table, of the same service.
    pub table: String,
    /// The column of this table (and of the parent) that holds the parent's key.
    pub column: String,
    /// The request member that takes the parent's key.
    pub member: String,
}

/// A call made once per item to fill the lazy columns `fetched_by` it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fetch {
    /// The operation.
    pub operation: String,
    /// The request members and the columns of the row they take.
    pub sends: std::collections::BTreeMap<String, String>,
    /// The error code that means the item has no such member (NULL), as opposed to the
    /// resource's `not_found` (the item is gone: no row).
    #[serde(default)]
    pub absent: Option<String>,
}

/// A documented example statement.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// The verb it shows.
    pub verb: Verb,
    /// The statement.
    pub sql: String,
}

/// A column as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnDoc {
    /// Column name.
    pub name: String,
    /// Arrow type name (see `arrow_type`).
    #[serde(rename = "type")]
    pub type_name: String,
    /// The API member it comes from, or `$region` for the region that answered.
    pub source: String,
    /// What it holds.
    pub description: String,
    /// Whether UPDATE can change it in place.
    #[serde(default)]
    pub updatable: bool,
    /// Whether the API sets it (INSERT and UPDATE must not).
    #[serde(default)]
    pub read_only: bool,
    /// The extra per-resource call whose answer holds `source`; absent for the listing call's
    /// members. Such a column costs one call per row, so it is filled only when a query reads it.
    #[serde(default)]
    pub fetched_by: Option<String>,
    /// Whether the text is the JSON of an API structure (or list of structures): it is sent
    /// as that structure, and compared as JSON.
    #[serde(default)]
    pub nested: bool,
    /// ECR's constraints on the value sent (checked before any call).
    #[serde(default)]
    pub check: Option<Check>,
    /// For an ARN: the parts ECR requires to be the item's (its region, the registry's
    /// account), checked before any call where they are known.
    #[serde(default)]
    pub arn_scope: Vec<ArnScope>,
    /// The value AWS gives the column when a create leaves it out (as a row reads it).
    #[serde(default)]
    pub default: Option<String>,
    /// Whether AWS infers the column from the other members when a create leaves it out.
    #[serde(default)]
    pub inferred: bool,
    /// Whether ECR reads the value as ending in `/` (`team` and `team/` name one item): skyql
    /// writes it in one spelling, without the `/`.
    #[serde(default)]
    pub slash_insensitive: bool,
}

/// An API operation called once per item, after the listing, to fill some columns: a column's
/// `fetched_by` in provider-schemas (its SELECT method lists the operation's permission).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FetchOperation(&'static str);

impl FetchOperation {
    /// The operation `name`, kept for the life of the process as the schemas are (they are
    /// loaded once).
    pub fn named(name: &str) -> Self {
        Self(Box::leak(name.to_string().into_boxed_str()))
    }

    /// The operation's name.
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// How EXPLAIN names it on a scan that makes the calls: the operation itself
    /// (`fetch=ValidatePullThroughCacheRule`), so that two Get… calls never read alike.
    pub fn explain_key(self) -> String {
        format!("fetch={}", self.0)
    }
}

/// Whether a resource lists or gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    /// Plural: any WHERE.
    List,
    /// Singular: the identifier is required in WHERE.
    Get,
}

/// A key column: pushed to the API when it appears in WHERE.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyColumn {
    /// Column name, or an alias name such as `data__Identifier`.
    pub name: String,
    /// How it is used.
    pub description: String,
    /// Whether a query must constrain it.
    pub required: bool,
    /// The column an alias stands for; aliases are accepted in WHERE but are not columns.
    #[serde(default)]
    pub alias_of: Option<String>,
}

/// An API method behind a SQL verb.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Method {
    /// stackql method name (`list_resources`).
    pub name: String,
    /// The SQL verb it serves.
    pub verb: Verb,
    /// The ECR operation called.
    pub operation: String,
    /// Parameters the statement must give.
    pub required_params: Vec<String>,
    /// IAM actions the caller needs, and when.
    pub permissions: Vec<Permission>,
    /// How a SELECT method's operation lists items (absent for a table whose module reads it).
    #[serde(default)]
    pub list: Option<Listing>,
    /// How a DELETE method's operation takes many items in one call, when it does.
    #[serde(default)]
    pub batch: Option<Batch>,
}

/// A batch operation: the identifiers of items that share the `by` columns, sent together.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    /// The request member that takes the identifiers (`imageIds`).
    pub member: String,
    /// When each identifier is an object, the member holding it (`imageDigest`).
    #[serde(default)]
    pub within: Option<String>,
    /// The most a call takes.
    pub max: usize,
    /// The columns the items of one call share, sent as their members (`repository_name`).
    #[serde(default)]
    pub by: Vec<String>,
    /// The answer's member listing the items that failed (`failures`).
    pub failures: String,
    /// The failure code of an item already gone, which a delete takes as done.
    #[serde(default)]
    pub gone: Option<String>,
}

/// One IAM action a method needs (`EXPLAIN PERMISSIONS`, `skyql permissions`, the docs).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permission {
    /// The IAM action (`ecr:CreatePullThroughCacheRule`).
    pub action: String,
    /// The resource ARN it is granted on; `{column}` stands for the values the statement gives
    /// that column. `*` (the default) when the action supports no resource-level permission.
    #[serde(default = "any_resource")]
    pub resource: String,
    /// Needed only when the statement uses one of these columns (sets it in INSERT/UPDATE,
    /// selects or filters it in SELECT); always when empty.
    #[serde(default)]
    pub when: Vec<String>,
    /// Why it is needed.
    pub reason: String,
}

fn any_resource() -> String {
    "*".into()
}

/// SQL verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verb {
    /// SELECT
    Select,
    /// INSERT
    Insert,
    /// UPDATE
    Update,
    /// DELETE
    Delete,
}

impl Verb {
    /// The SQL keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Select => "SELECT",
            Self::Insert => "INSERT",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
        }
    }
}

/// Where a column's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The region that answered the call.
    Region,
    /// A member of the API's structure, by its wire name (`registryId`).
    Field(String),
}

/// A resolved column.
#[derive(Debug, Clone)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Arrow type.
    pub data_type: DataType,
    /// The type as written in the schema file.
    pub type_name: String,
    /// Where the value comes from.
    pub source: Source,
    /// What it holds.
    pub description: String,
    /// Whether UPDATE can change it in place.
    pub updatable: bool,
    /// Whether the API sets it (INSERT and UPDATE must not).
    pub read_only: bool,
    /// The extra per-resource call that fills it (only when a query reads it); `None` for the
    /// listing call's members.
    pub fetched_by: Option<FetchOperation>,
    /// Whether the text is the JSON of an API structure (sent as that structure).
    pub nested: bool,
    /// ECR's constraints on the value sent.
    pub check: Option<Check>,
    /// For an ARN: the parts that must be the item's (region, registry account).
    pub arn_scope: Vec<ArnScope>,
    /// The value AWS gives it when a create leaves it out.
    pub default: Option<String>,
    /// Whether AWS infers it from the other members when a create leaves it out.
    pub inferred: bool,
    /// Whether ECR reads the value as ending in `/`: written without it.
    pub slash_insensitive: bool,
}

impl Column {
    /// Whether AWS fills the column when a create leaves it out (a default, or inferred). A
    /// NULL for it in an upsert row is then a value not given, which keeps the current one;
    /// for any other column it asks for no value.
    pub fn filled_by_aws(&self) -> bool {
        self.default.is_some() || self.inferred
    }

    /// The one spelling of a value of the column: a slash-insensitive prefix without its
    /// trailing `/` (`team/` is `team`; `/` alone stays), any other value as given.
    pub fn canonical<'a>(&self, value: &'a str) -> &'a str {
        match self.slash_insensitive {
            true => without_trailing_slash(value),
            false => value,
        }
    }
}

/// A prefix in skyql's one spelling: without its trailing `/` (`/` alone stays).
pub fn without_trailing_slash(value: &str) -> &str {
    match value.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => value,
    }
}

/// A resolved resource: one SQL table.
#[derive(Debug, Clone)]
pub struct Resource {
    /// The file as written (methods, keys, descriptions).
    pub doc: ResourceDoc,
    /// Columns, resolved (also when taken from another resource).
    pub columns: Vec<Column>,
    /// The file it was loaded from.
    pub path: String,
}

impl Resource {
    /// Table name.
    pub fn name(&self) -> &str {
        &self.doc.name
    }

    /// The name its Rust module registers under (`module`, else the table name).
    pub fn module(&self) -> &str {
        self.doc.module.as_deref().unwrap_or(&self.doc.name)
    }

    /// `aws.ecr.<name>`.
    pub fn qualified_name(&self, provider: &str) -> String {
        format!("{provider}.{}.{}", self.doc.service, self.doc.name)
    }

    /// The Arrow schema of the table (all columns nullable: the API omits absent members).
    pub fn arrow_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|c| Field::new(&c.name, c.data_type.clone(), true))
                .collect::<Vec<_>>(),
        ))
    }

    /// The column a key name stands for: itself, or what an alias (`data__Identifier`) maps to.
    /// The alias's target counts too: the SQL front rewrites `data__Identifier` to it.
    pub fn key_target(&self, name: &str) -> Option<&str> {
        self.doc
            .key_columns
            .iter()
            .map(|k| (k.name.as_str(), k.alias_of.as_deref().unwrap_or(&k.name)))
            .find(|(key, target)| {
                key.eq_ignore_ascii_case(name) || target.eq_ignore_ascii_case(name)
            })
            .map(|(_, target)| target)
    }

    /// Aliases accepted in WHERE that are not columns (`data__Identifier`).
    pub fn aliases(&self) -> impl Iterator<Item = (&str, &str)> {
        self.doc.key_columns.iter().filter_map(|k| {
            k.alias_of
                .as_deref()
                .map(|target| (k.name.as_str(), target))
        })
    }

    /// The column named `name` (case-insensitive).
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The column whose API member is `member` (case-insensitive): stackql's CamelCase names
    /// (`EcrRepositoryPrefix`) are the members with a capital first letter.
    pub fn column_by_member(&self, member: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| matches!(&c.source, Source::Field(f) if f.eq_ignore_ascii_case(member)))
    }

    /// The column a source column named `name` stands for: by its own name or by its API
    /// member (stackql's CamelCase), case-insensitive, as INSERT's column list reads names.
    pub fn column_named(&self, name: &str) -> Option<&Column> {
        self.column(name).or_else(|| self.column_by_member(name))
    }

    /// The extra operations needed to fill the columns named `names` (case-insensitive; names
    /// that are not columns, such as aliases, need none).
    pub fn fetches_for<'a>(
        &self,
        names: impl IntoIterator<Item = &'a str>,
    ) -> std::collections::BTreeSet<FetchOperation> {
        names
            .into_iter()
            .filter_map(|n| self.column(n)?.fetched_by)
            .collect()
    }

    /// The columns filled by an extra call per row (`fetched_by`): `SELECT *` leaves them out.
    pub fn lazy_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| c.fetched_by.is_some())
    }

    /// The columns `SELECT *` shows (all but the lazy ones), in order.
    pub fn star_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| c.fetched_by.is_none())
    }

    /// The columns INSERT sets that UPDATE cannot change: neither updatable nor read-only, nor
    /// the identifier or the region. A different value means the resource must be re-created.
    pub fn create_only_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| {
            !c.updatable
                && !c.read_only
                && c.name != self.doc.identifier
                && c.source != Source::Region
        })
    }

    /// The columns UPDATE can change, comma-separated (for messages).
    pub fn updatable_names(&self) -> String {
        self.columns
            .iter()
            .filter(|c| c.updatable)
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether a query must pin the identifier.
    pub fn requires_identifier(&self) -> bool {
        self.doc.kind == ResourceKind::Get
    }

    /// Whether the region identifies a row (one item per region, as the whole registry policy).
    pub fn identified_by_region(&self) -> bool {
        (self.column(&self.doc.identifier)).is_some_and(|c| matches!(c.source, Source::Region))
    }

    /// What the document of a resource read as one per region is called in messages
    /// (`document:` in its schema; "registry policy").
    pub fn document_noun(&self) -> &str {
        self.doc.document.as_deref().unwrap_or("document")
    }

    /// What one row is called in messages: the table name's last word, singular
    /// (`rule`, `statement`, `template`).
    pub fn noun(&self) -> &str {
        let last = self.doc.name.rsplit('_').next().unwrap_or(&self.doc.name);
        match last {
            // Plurals in -ies (repositories) are named by their schema's singular.
            "repositories" => "repository",
            _ => last.strip_suffix('s').unwrap_or(last),
        }
    }

    /// Whether INSERT's operation requires `column` (its `required_params`, which name the
    /// API member, in stackql's capitalization).
    pub fn required_on_insert(&self, column: &str) -> bool {
        let member = self.member(column).unwrap_or(column);
        self.method(Verb::Insert)
            .is_some_and(|m| (m.required_params.iter()).any(|p| p.eq_ignore_ascii_case(member)))
    }

    /// The method serving a verb.
    pub fn method(&self, verb: Verb) -> Option<&Method> {
        self.doc.methods.iter().find(|m| m.verb == verb)
    }

    /// The operation serving a verb ("" when the table has no method for it: the table
    /// refuses such a verb before anything is planned).
    pub fn operation(&self, verb: Verb) -> &str {
        self.method(verb).map_or("", |m| m.operation.as_str())
    }

    /// How the SELECT method lists items, when the engine lists them.
    pub fn listing(&self) -> Option<&Listing> {
        self.method(Verb::Select)?.list.as_ref()
    }

    /// Every operation the schema names: its methods', its fetches' and its listing's merges.
    pub fn operations(&self) -> impl Iterator<Item = &str> {
        let methods = self.doc.methods.iter().map(|m| m.operation.as_str());
        let fetches = self.doc.fetches.iter().map(|f| f.operation.as_str());
        let merges = self.listing().into_iter().flat_map(|l| &l.merges);
        let updates = (self.doc.updates.iter()).flat_map(|u| {
            let difference = u.difference.as_ref().map(|d| &d.operation);
            std::iter::once(&u.operation)
                .chain(&u.removed_by)
                .chain(difference)
        });
        methods
            .chain(fetches)
            .chain(merges.map(String::as_str))
            .chain(updates.map(String::as_str))
    }

    /// The operation that changes `column` in place, when UPDATE has one per column group.
    pub fn column_update(&self, column: &str) -> Option<&ColumnUpdate> {
        self.doc
            .updates
            .iter()
            .find(|u| u.sets.iter().any(|c| c == column))
    }

    /// The call that fills the lazy columns `fetched_by` `operation`.
    pub fn fetch(&self, operation: FetchOperation) -> Option<&Fetch> {
        self.doc
            .fetches
            .iter()
            .find(|f| f.operation == operation.as_str())
    }

    /// The one spelling of a value of `column` (see [`Column::canonical`]).
    pub fn canonical<'a>(&self, column: &str, value: &'a str) -> &'a str {
        self.column(column).map_or(value, |c| c.canonical(value))
    }

    /// The wire name of a column's API member (`ecrRepositoryPrefix`); `None` for the region.
    pub fn member(&self, column: &str) -> Option<&str> {
        match &self.column(column)?.source {
            Source::Field(f) => Some(f),
            Source::Region => None,
        }
    }
}

/// Everything in provider-schemas.
#[derive(Debug, Clone)]
pub struct ProviderSchemas {
    /// The provider file.
    pub provider: ProviderDoc,
    /// Every resource, in file order.
    pub resources: Vec<Resource>,
}

impl ProviderSchemas {
    /// The resource of `service` named `name`.
    pub fn resource(&self, service: &str, name: &str) -> Option<&Resource> {
        self.resources
            .iter()
            .find(|r| r.doc.service == service && r.doc.name == name)
    }

    /// The resources of one service.
    pub fn resources_of<'a>(&'a self, service: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources
            .iter()
            .filter(move |r| r.doc.service == service)
    }

    /// Whether `region` is one of the provider's regions.
    pub fn is_known_region(&self, region: &str) -> bool {
        self.provider.regions.iter().any(|r| r == region)
    }
}
