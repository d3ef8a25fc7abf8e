//! A file reaches a table by its header, whatever the path (`INSERT … SELECT * FROM 'f.csv'`,
//! with or without a column list, an external table, newline-delimited JSON, MERGE … USING):
//! a reordered header writes each column where its name says, a header that does not fit is
//! refused before any call with the names, a source paired by position whose names say
//! otherwise is refused, a policy column holds a document of its kind, and a missing file is
//! named. Each write is proven from the sandbox's request log.

use crate::common;

use common::cli::{demo_sandbox, exec, refused_without_any_call, write_file};
use serde_json::{Value, json};
use skyql::sandbox::Sandbox;

const TEMPLATES: &str = "aws.ecr.repository_creation_templates";
const CREATE: &str = "CreateRepositoryCreationTemplate";

const LIFECYCLE: &str = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}"#;
const REPOSITORY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Pull","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage"]}]}"#;

/// A CSV field: quoted, with its quotes doubled.
fn field(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// One template in us-east-1 whose header has the lifecycle policy before the repository
/// policy (the table's order is the other one), correctly labelled.
fn reordered_csv(dir: &std::path::Path) -> std::path::PathBuf {
    write_file(
        dir,
        "templates.csv",
        &format!(
            "region,prefix,applied_for,lifecycle_policy,repository_policy\n\
             us-east-1,team,{},{},{}\n",
            field(r#"["PULL_THROUGH_CACHE"]"#),
            field(LIFECYCLE),
            field(REPOSITORY)
        ),
    )
}

/// The Create calls the sandbox saw: (region, parameters).
fn creates(sb: &Sandbox) -> Vec<(String, Value)> {
    (sb.log().entries().into_iter())
        .filter(|e| e.operation == CREATE)
        .map(|e| (e.region.unwrap_or_default(), e.parameters))
        .collect()
}

/// The one Create each path must make: each policy in its own member.
fn the_team_template() -> Vec<(String, Value)> {
    vec![(
        "us-east-1".to_string(),
        json!({
            "prefix": "team",
            "appliedFor": ["PULL_THROUGH_CACHE"],
            "lifecyclePolicy": LIFECYCLE,
            "repositoryPolicy": REPOSITORY,
        }),
    )]
}

#[test]
fn a_csv_whose_header_is_reordered_is_inserted_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = reordered_csv(dir.path());
    let file = path.display();
    for sql in [
        format!("INSERT INTO {TEMPLATES} SELECT * FROM '{file}'"),
        // A column list in the table's order: still paired by the header's names.
        format!(
            "INSERT INTO {TEMPLATES} (region, prefix, applied_for, repository_policy, lifecycle_policy) \
             SELECT * FROM '{file}'"
        ),
        format!(
            "CREATE EXTERNAL TABLE desired STORED AS CSV LOCATION '{file}' OPTIONS ('format.has_header' 'true');\n\
             INSERT INTO {TEMPLATES} SELECT * FROM desired"
        ),
        format!("INSERT INTO {TEMPLATES} SELECT d.* FROM '{file}' d WHERE d.prefix = 'team'"),
    ] {
        let sb = demo_sandbox();
        let out = exec(&sb, &["-o", "csv"], &sql);
        out.expect_code(0);
        assert_eq!(out.stdout, "count\n1\n", "{sql}\n{}", out.stderr);
        assert_eq!(creates(&sb), the_team_template(), "{sql}");
    }
}

#[test]
fn newline_delimited_json_is_inserted_by_name() {
    // A JSON file's columns come in the order DataFusion infers them (here the keys' order,
    // nothing like the table's): only the names can pair them.
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let line = json!({
        "repository_policy": REPOSITORY,
        "lifecycle_policy": LIFECYCLE,
        "applied_for": ["PULL_THROUGH_CACHE"],
        "prefix": "team",
        "region": "us-east-1",
    });
    let path = write_file(dir.path(), "templates.json", &format!("{line}\n"));
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!("INSERT INTO {TEMPLATES} SELECT * FROM '{}'", path.display()),
    );
    out.expect_code(0);
    assert_eq!(creates(&sb), the_team_template());
}

#[test]
fn a_header_that_does_not_fit_the_table_is_refused_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    let applied = field(r#"["PULL_THROUGH_CACHE"]"#);
    let cases = [
        (
            "unknown.csv",
            format!("region,prefix,applied_for,lifecycle,tags\nus-east-1,team,{applied},x,y\n"),
            "",
            vec![
                "INSERT INTO aws.ecr.repository_creation_templates SELECT *: the source's columns go into the table's columns of the same name",
                "the table has no column lifecycle, tags",
                "the table's columns: region, registry_id, prefix, description, applied_for",
            ],
        ),
        (
            "no-prefix.csv",
            format!("region,applied_for\nus-east-1,{applied}\n"),
            "",
            vec![
                "the source has no column prefix, which CreateRepositoryCreationTemplate requires",
            ],
        ),
        (
            "twice.csv",
            format!("region,prefix,Prefix,applied_for\nus-east-1,a,b,{applied}\n"),
            "",
            vec!["its columns prefix and Prefix both name prefix"],
        ),
        (
            "listed.csv",
            format!("region,prefix,applied_for,description\nus-east-1,team,{applied},d\n"),
            "(region, prefix, applied_for)",
            vec![
                "the column list leaves out the source's description",
                "SELECT * EXCLUDE (description)",
            ],
        ),
    ];
    for (name, text, list, words) in cases {
        let path = write_file(dir.path(), name, &text);
        let sql = format!(
            "INSERT INTO {TEMPLATES} {list} SELECT * FROM '{}'",
            path.display()
        );
        for flags in [&[][..], &["--dry-run"][..]] {
            let sb = demo_sandbox();
            refused_without_any_call(&sb, &exec(&sb, flags, &sql), &words);
        }
    }
}

#[test]
fn a_source_paired_by_position_whose_names_disagree_is_refused() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let file = reordered_csv(dir.path());
    let file = file.display();
    let crossed = format!(
        "INSERT INTO {TEMPLATES} (region, prefix, applied_for, repository_policy, lifecycle_policy) \
         SELECT region, prefix, applied_for, lifecycle_policy, repository_policy FROM '{file}'"
    );
    refused_without_any_call(
        &sb,
        &exec(&sb, &[], &crossed),
        &[
            "the source's column lifecycle_policy would go into repository_policy (INSERT pairs columns by position)",
            "write lifecycle_policy AS repository_policy if that is what you mean",
        ],
    );
    let merge = format!(
        "MERGE INTO {TEMPLATES} t USING '{file}' s ON t.region = s.region AND t.prefix = s.prefix \
         WHEN NOT MATCHED THEN INSERT (region, prefix, applied_for, repository_policy, lifecycle_policy) \
         VALUES (s.region, s.prefix, s.applied_for, s.lifecycle_policy, s.repository_policy)"
    );
    refused_without_any_call(
        &sb,
        &exec(&sb, &[], &merge),
        &["MERGE … INSERT: s.lifecycle_policy would go into repository_policy"],
    );
    // Renamed, the pair says what is meant; in the right order, it is what it says.
    let meant = format!(
        "INSERT INTO {TEMPLATES} (region, prefix, applied_for, lifecycle_policy, repository_policy) \
         SELECT region, prefix, applied_for, lifecycle_policy, repository_policy FROM '{file}'"
    );
    exec(&sb, &["-o", "csv"], &meant).expect_code(0);
    assert_eq!(creates(&sb), the_team_template());
}

#[test]
fn a_policy_column_holds_a_document_of_its_kind() {
    // A lifecycle policy where the repository policy goes (and the other way round) is
    // refused before any call, by VALUES, from a file, by UPDATE and by MERGE.
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let applied = field(r#"["PULL_THROUGH_CACHE"]"#);
    let swapped = write_file(
        dir.path(),
        "swapped.csv",
        &format!(
            "region,prefix,applied_for,repository_policy,lifecycle_policy\nus-east-1,team,{applied},{},{}\n",
            field(LIFECYCLE),
            field(REPOSITORY)
        ),
    );
    let repository = "repository_policy: '{\"rules\"";
    let not_repository =
        "is not a repository policy (a JSON object with Statement): its members are rules";
    let not_lifecycle =
        "is not a lifecycle policy (a JSON object with rules): its members are Statement, Version";
    let cases = [
        format!(
            "INSERT INTO {TEMPLATES} (region, prefix, applied_for, repository_policy) \
             VALUES ('us-east-1', 'team', ['PULL_THROUGH_CACHE'], '{LIFECYCLE}')"
        ),
        format!(
            "INSERT INTO {TEMPLATES} SELECT * FROM '{}'",
            swapped.display()
        ),
        format!(
            "UPDATE {TEMPLATES} SET repository_policy = '{LIFECYCLE}' WHERE region = 'us-east-1' AND prefix = 'ROOT'"
        ),
    ];
    for sql in &cases {
        for flags in [&[][..], &["--dry-run"][..]] {
            refused_without_any_call(&sb, &exec(&sb, flags, sql), &[repository, not_repository]);
        }
    }
    let out = exec(&sb, &[], &cases[1]);
    out.expect_stderr(&[not_lifecycle]);
    // MERGE checks its values once it has read the target: no write is made.
    let merge = format!(
        "MERGE INTO {TEMPLATES} t USING '{}' s ON t.region = s.region AND t.prefix = s.prefix \
         WHEN NOT MATCHED THEN INSERT (region, prefix, applied_for, repository_policy) \
         VALUES (s.region, s.prefix, s.applied_for, s.repository_policy)",
        swapped.display()
    );
    let out = exec(&sb, &[], &merge);
    out.expect_stderr(&[not_repository]);
    assert_ne!(out.code, 0);
    assert_eq!(creates(&sb), []);
}

#[test]
fn a_file_that_does_not_exist_is_named() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.csv");
    for sql in [
        format!("SELECT * FROM '{}'", missing.display()),
        format!(
            "INSERT INTO {TEMPLATES} SELECT * FROM '{}'",
            missing.display()
        ),
        format!(
            "MERGE INTO {TEMPLATES} t USING '{}' s ON t.region = s.region AND t.prefix = s.prefix \
             WHEN MATCHED THEN DELETE",
            missing.display()
        ),
    ] {
        let out = exec(&sb, &[], &sql);
        refused_without_any_call(
            &sb,
            &out,
            &[&format!("file '{}' does not exist", missing.display())],
        );
        assert!(!out.stderr.contains("datafusion.public"), "{}", out.stderr);
    }
    let text = write_file(dir.path(), "rules.txt", "a,b\n");
    refused_without_any_call(
        &sb,
        &exec(&sb, &[], &format!("SELECT * FROM '{}'", text.display())),
        &[
            "cannot be read as a table",
            "reads a file by its extension (.csv, .json",
            "CREATE EXTERNAL TABLE",
        ],
    );
}
