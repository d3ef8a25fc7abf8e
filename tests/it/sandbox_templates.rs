//! Repository creation templates in the sandbox, driven by the real aws-sdk-ecr client: every
//! operation, pagination, each error code, validation messages, ROOT and the state file.

use crate::common;

use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::operation::create_repository_creation_template::CreateRepositoryCreationTemplateError as CreateErr;
use aws_sdk_ecr::operation::delete_repository_creation_template::DeleteRepositoryCreationTemplateError as DeleteErr;
use aws_sdk_ecr::operation::describe_repository_creation_templates::DescribeRepositoryCreationTemplatesError as DescribeErr;
use aws_sdk_ecr::operation::update_repository_creation_template::UpdateRepositoryCreationTemplateError as UpdateErr;
use aws_sdk_ecr::types::{
    EncryptionConfigurationForRepositoryCreationTemplate as Encryption, EncryptionType,
    ImageTagMutability, ImageTagMutabilityExclusionFilter as Filter,
    ImageTagMutabilityExclusionFilterType as FilterType, RctAppliedFor, RepositoryCreationTemplate,
    Tag,
};
use common::{ACCOUNT, client, code, one_shot, start};
use serde_json::{Value, json};
use skyql::sandbox::SandboxConfig;
use skyql::sandbox::config::DEMO_TIME;

const REPOSITORY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["ecr:BatchGetImage"]}]}"#;
const LIFECYCLE_POLICY: &str = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":7},"action":{"type":"expire"}}]}"#;
const ROLE: &str = "arn:aws:iam::123456789012:role/ecr-template";
const KMS_KEY: &str = "arn:aws:kms:us-west-2:123456789012:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d";

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().expect("tag")
}

fn wildcard(filter: &str) -> Filter {
    Filter::builder()
        .filter_type(FilterType::Wildcard)
        .filter(filter)
        .build()
        .expect("filter")
}

fn encryption(kind: EncryptionType, key: Option<&str>) -> Encryption {
    Encryption::builder()
        .encryption_type(kind)
        .set_kms_key(key.map(str::to_string))
        .build()
        .expect("encryption")
}

fn prefixes(templates: &[RepositoryCreationTemplate]) -> Vec<String> {
    templates
        .iter()
        .map(|t| t.prefix().unwrap_or_default().to_string())
        .collect()
}

/// Creates a template with nothing but its prefix and `PULL_THROUGH_CACHE`.
async fn create(ecr: &aws_sdk_ecr::Client, prefix: &str) -> RepositoryCreationTemplate {
    ecr.create_repository_creation_template()
        .prefix(prefix)
        .applied_for(RctAppliedFor::PullThroughCache)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {prefix}: {:?}", e.into_service_error()))
        .repository_creation_template
        .expect("the created template")
}

async fn all_prefixes(ecr: &aws_sdk_ecr::Client) -> Vec<String> {
    let out = ecr
        .describe_repository_creation_templates()
        .send()
        .await
        .expect("describe");
    assert_eq!(out.registry_id(), Some(ACCOUNT));
    prefixes(out.repository_creation_templates())
}

// ---------------------------------------------------------------------------------------------
// Success paths
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_echoes_every_member() {
    let sandbox = start(SandboxConfig::default());
    let ecr = client(&sandbox, "us-west-2");
    let before = common::now_secs();
    let out = ecr
        .create_repository_creation_template()
        .prefix("team/app")
        .description("the app team's mirrors")
        .encryption_configuration(encryption(EncryptionType::Kms, Some(KMS_KEY)))
        .resource_tags(tag("team", "app"))
        .resource_tags(tag("env", "prod"))
        .image_tag_mutability(ImageTagMutability::ImmutableWithExclusion)
        .image_tag_mutability_exclusion_filters(wildcard("latest"))
        .image_tag_mutability_exclusion_filters(wildcard("dev-*"))
        .repository_policy(REPOSITORY_POLICY)
        .lifecycle_policy(LIFECYCLE_POLICY)
        .applied_for(RctAppliedFor::PullThroughCache)
        .applied_for(RctAppliedFor::Replication)
        .applied_for(RctAppliedFor::CreateOnPush)
        .custom_role_arn(ROLE)
        .send()
        .await
        .expect("create");
    let after = common::now_secs();
    assert_eq!(out.registry_id(), Some(ACCOUNT));
    let t = out.repository_creation_template().expect("template");
    assert_eq!(t.prefix(), Some("team/app"));
    assert_eq!(t.description(), Some("the app team's mirrors"));
    let e = t.encryption_configuration().expect("encryption");
    assert_eq!(e.encryption_type(), &EncryptionType::Kms);
    assert_eq!(e.kms_key(), Some(KMS_KEY));
    assert_eq!(t.resource_tags(), [tag("team", "app"), tag("env", "prod")]);
    assert_eq!(
        t.image_tag_mutability(),
        Some(&ImageTagMutability::ImmutableWithExclusion)
    );
    assert_eq!(
        t.image_tag_mutability_exclusion_filters(),
        [wildcard("latest"), wildcard("dev-*")]
    );
    assert_eq!(t.repository_policy(), Some(REPOSITORY_POLICY));
    assert_eq!(t.lifecycle_policy(), Some(LIFECYCLE_POLICY));
    assert_eq!(
        t.applied_for(),
        [
            RctAppliedFor::PullThroughCache,
            RctAppliedFor::Replication,
            RctAppliedFor::CreateOnPush
        ]
    );
    assert_eq!(t.custom_role_arn(), Some(ROLE));
    let created = t.created_at().expect("createdAt").as_secs_f64();
    assert!(
        created >= before - 1.0 && created <= after + 1.0,
        "createdAt {created} not within [{before}, {after}]"
    );
    assert_eq!(t.updated_at().map(|d| d.as_secs_f64()), Some(created));
}

#[tokio::test]
async fn a_minimal_create_gets_ecr_defaults() {
    let sandbox = start(SandboxConfig::default());
    let ecr = client(&sandbox, "us-east-1");
    let t = create(&ecr, "mirrors").await;
    assert_eq!(
        t.encryption_configuration(),
        Some(&encryption(EncryptionType::Aes256, None)),
        "AES-256 is ECR's default encryption"
    );
    assert_eq!(t.image_tag_mutability(), Some(&ImageTagMutability::Mutable));
    assert!(t.resource_tags().is_empty());
    assert!(t.image_tag_mutability_exclusion_filters().is_empty());
    assert_eq!(
        (t.description(), t.repository_policy(), t.lifecycle_policy()),
        (None, None, None)
    );
    assert_eq!(t.custom_role_arn(), None);
}

#[tokio::test]
async fn the_demo_has_a_root_template_and_one_for_a_rule() {
    let sandbox = start(SandboxConfig::demo());
    let us = client(&sandbox, "us-east-1");
    let out = us
        .describe_repository_creation_templates()
        .send()
        .await
        .expect("describe");
    let root = &out.repository_creation_templates()[0];
    assert_eq!(prefixes(out.repository_creation_templates()), ["ROOT"]);
    assert_eq!(root.applied_for(), [RctAppliedFor::PullThroughCache]);
    assert_eq!(root.created_at().map(|t| t.as_secs_f64()), Some(DEMO_TIME));
    let lifecycle: Value = serde_json::from_str(root.lifecycle_policy().expect("lifecycle"))
        .expect("the demo lifecycle policy is JSON");
    assert_eq!(lifecycle["rules"][0]["action"]["type"], "expire");

    // eu-west-1's template is for its docker-hub rule's repositories.
    let eu = client(&sandbox, "eu-west-1");
    let hub = eu
        .describe_repository_creation_templates()
        .send()
        .await
        .expect("describe eu-west-1");
    assert_eq!(
        prefixes(hub.repository_creation_templates()),
        ["docker-hub"]
    );
    let rules = eu
        .describe_pull_through_cache_rules()
        .ecr_repository_prefixes("docker-hub")
        .send()
        .await
        .expect("the rule exists");
    assert_eq!(rules.pull_through_cache_rules().len(), 1);
    assert!(
        all_prefixes(&client(&sandbox, "ap-southeast-2"))
            .await
            .is_empty()
    );
    // Templates are an operation of their own: the demo's rule listing made no template call.
    assert_eq!(
        sandbox.log().count("DescribeRepositoryCreationTemplates"),
        3
    );
    assert_eq!(sandbox.log().count("DescribePullThroughCacheRules"), 1);
}

#[tokio::test]
async fn describe_sorts_selects_and_leaves_out_missing_prefixes() {
    let sandbox = start(SandboxConfig::default());
    let ecr = client(&sandbox, "us-east-1");
    for prefix in ["quay", "ROOT", "team/app", "docker-hub"] {
        create(&ecr, prefix).await;
    }
    assert_eq!(
        all_prefixes(&ecr).await,
        ["ROOT", "docker-hub", "quay", "team/app"]
    );

    // A listed prefix that has no template is left out, not an error (the operation has no
    // TemplateNotFoundException); `team/app/` names the same template as `team/app`.
    let out = ecr
        .describe_repository_creation_templates()
        .prefixes("quay")
        .prefixes("no-such-prefix")
        .prefixes("team/app/")
        .send()
        .await
        .expect("describe some");
    assert_eq!(
        prefixes(out.repository_creation_templates()),
        ["quay", "team/app"]
    );
    assert_eq!(out.next_token(), None);
    let none = ecr
        .describe_repository_creation_templates()
        .prefixes("no-such-prefix")
        .send()
        .await
        .expect("describe a missing prefix");
    assert!(none.repository_creation_templates().is_empty());
    assert_eq!(none.registry_id(), Some(ACCOUNT));

    // Templates are per region.
    assert!(
        all_prefixes(&client(&sandbox, "eu-west-1"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn update_replaces_the_members_given_and_keeps_the_rest() {
    let config = SandboxConfig {
        seed_time: Some(1_700_000_000.0),
        templates: [(
            "us-east-1".to_string(),
            vec![json!({
                "prefix": "quay",
                "description": "before",
                "resourceTags": [{"Key": "team", "Value": "a"}],
                "lifecyclePolicy": LIFECYCLE_POLICY,
                "appliedFor": ["PULL_THROUGH_CACHE"],
            })],
        )]
        .into(),
        ..SandboxConfig::default()
    };
    let sandbox = start(config);
    let ecr = client(&sandbox, "us-east-1");
    let before = common::now_secs();
    let out = ecr
        .update_repository_creation_template()
        .prefix("quay/")
        .description("after")
        .image_tag_mutability(ImageTagMutability::Immutable)
        .applied_for(RctAppliedFor::Replication)
        .custom_role_arn(ROLE)
        .send()
        .await
        .expect("update");
    assert_eq!(out.registry_id(), Some(ACCOUNT));
    let t = out.repository_creation_template().expect("template");
    assert_eq!(t.prefix(), Some("quay"), "the stored prefix stays");
    assert_eq!(t.description(), Some("after"));
    assert_eq!(
        t.image_tag_mutability(),
        Some(&ImageTagMutability::Immutable)
    );
    assert_eq!(t.applied_for(), [RctAppliedFor::Replication]);
    assert_eq!(t.custom_role_arn(), Some(ROLE));
    assert_eq!(t.resource_tags(), [tag("team", "a")], "not named, so kept");
    assert_eq!(t.lifecycle_policy(), Some(LIFECYCLE_POLICY));
    assert_eq!(
        t.created_at().map(|d| d.as_secs_f64()),
        Some(1_700_000_000.0)
    );
    let updated = t.updated_at().expect("updatedAt").as_secs_f64();
    assert!(updated >= before - 1.0, "updatedAt {updated}");

    let described = ecr
        .describe_repository_creation_templates()
        .prefixes("quay")
        .send()
        .await
        .expect("describe");
    assert_eq!(
        described.repository_creation_templates(),
        std::slice::from_ref(t)
    );
}

#[tokio::test]
async fn delete_answers_the_deleted_template_and_removes_it() {
    let sandbox = start(SandboxConfig::demo());
    let ecr = client(&sandbox, "eu-west-1");
    let out = ecr
        .delete_repository_creation_template()
        .prefix("docker-hub")
        .send()
        .await
        .expect("delete");
    assert_eq!(out.registry_id(), Some(ACCOUNT));
    let t = out
        .repository_creation_template()
        .expect("the deleted template");
    assert_eq!(t.prefix(), Some("docker-hub"));
    assert_eq!(
        t.image_tag_mutability(),
        Some(&ImageTagMutability::ImmutableWithExclusion)
    );
    assert_eq!(
        t.image_tag_mutability_exclusion_filters(),
        [wildcard("latest")]
    );
    assert_eq!(
        t.encryption_configuration().map(|e| e.encryption_type()),
        Some(&EncryptionType::Kms)
    );
    assert!(all_prefixes(&ecr).await.is_empty());
    // The rule the template served is untouched.
    let rules = ecr
        .describe_pull_through_cache_rules()
        .ecr_repository_prefixes("docker-hub")
        .send()
        .await
        .expect("the rule is still there");
    assert_eq!(rules.pull_through_cache_rules().len(), 1);
}

#[tokio::test]
async fn root_is_the_registry_wide_template_and_only_in_upper_case() {
    let sandbox = start(SandboxConfig::default());
    let ecr = one_shot(&sandbox, "us-east-1");
    let root = create(&ecr, "ROOT").await;
    assert_eq!(root.prefix(), Some("ROOT"));
    // `root` is an ordinary repository prefix, a template of its own.
    create(&ecr, "root").await;
    assert_eq!(all_prefixes(&ecr).await, ["ROOT", "root"]);
    let err = ecr
        .create_repository_creation_template()
        .prefix("Root")
        .applied_for(RctAppliedFor::PullThroughCache)
        .send()
        .await
        .expect_err("mixed case");
    assert_eq!(code(&err).as_deref(), Some("ValidationException"));
    let deleted = ecr
        .delete_repository_creation_template()
        .prefix("ROOT")
        .send()
        .await
        .expect("delete ROOT");
    assert_eq!(
        deleted
            .repository_creation_template()
            .and_then(|t| t.prefix()),
        Some("ROOT")
    );
    assert_eq!(all_prefixes(&ecr).await, ["root"]);
}

// ---------------------------------------------------------------------------------------------
// Error codes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn creating_an_existing_prefix_is_already_exists_also_with_a_trailing_slash() {
    let sandbox = start(SandboxConfig::demo());
    let ecr = one_shot(&sandbox, "us-east-1");
    create(&ecr, "quay").await;
    for prefix in ["quay", "quay/", "ROOT"] {
        let err = ecr
            .create_repository_creation_template()
            .prefix(prefix)
            .applied_for(RctAppliedFor::Replication)
            .send()
            .await
            .expect_err("exists");
        assert_eq!(
            code(&err).as_deref(),
            Some("TemplateAlreadyExistsException")
        );
        assert_eq!(common::status(&err), Some(400));
        let err = err.into_service_error();
        assert!(
            matches!(err, CreateErr::TemplateAlreadyExistsException(_)),
            "{err:?}"
        );
        let msg = err.message().unwrap_or_default();
        assert!(
            msg.contains(&format!("'{prefix}'")) && msg.contains(ACCOUNT),
            "{msg}"
        );
    }
}

#[tokio::test]
async fn a_missing_template_is_not_found_for_update_and_delete() {
    let sandbox = start(SandboxConfig::demo());
    // eu-west-1's template is docker-hub; us-east-1 has none of that name.
    let ecr = one_shot(&sandbox, "us-east-1");
    let err = ecr
        .update_repository_creation_template()
        .prefix("docker-hub")
        .description("x")
        .send()
        .await
        .expect_err("update a missing template");
    let err = err.into_service_error();
    assert!(
        matches!(err, UpdateErr::TemplateNotFoundException(_)),
        "{err:?}"
    );
    assert_eq!(err.code(), Some("TemplateNotFoundException"));
    let msg = err.message().unwrap_or_default();
    assert!(
        msg.contains("'docker-hub'") && msg.contains(ACCOUNT),
        "{msg}"
    );

    let err = ecr
        .delete_repository_creation_template()
        .prefix("docker-hub")
        .send()
        .await
        .expect_err("delete a missing template");
    let err = err.into_service_error();
    assert!(
        matches!(err, DeleteErr::TemplateNotFoundException(_)),
        "{err:?}"
    );

    // A not-found update changes nothing, and a validation failure comes before not-found.
    let err = ecr
        .update_repository_creation_template()
        .prefix("no-such")
        .image_tag_mutability(ImageTagMutability::from("SOMETIMES"))
        .send()
        .await
        .expect_err("invalid and missing");
    assert_eq!(code(&err).as_deref(), Some("ValidationException"));
}

#[tokio::test]
async fn the_51st_template_in_a_region_exceeds_the_quota() {
    let sandbox = start(SandboxConfig::default());
    let ecr = one_shot(&sandbox, "us-east-1");
    for i in 0..50 {
        create(&ecr, &format!("t{i:02}")).await;
    }
    let err = ecr
        .create_repository_creation_template()
        .prefix("t50")
        .applied_for(RctAppliedFor::PullThroughCache)
        .send()
        .await
        .expect_err("quota");
    let err = err.into_service_error();
    assert!(
        matches!(err, CreateErr::LimitExceededException(_)),
        "{err:?}"
    );
    assert!(err.message().unwrap_or_default().contains("50"), "{err:?}");
    // The quota is per region; deleting one makes room.
    create(&client(&sandbox, "eu-west-1"), "t50").await;
    ecr.delete_repository_creation_template()
        .prefix("t00")
        .send()
        .await
        .expect("delete");
    create(&ecr, "t50").await;
}

#[tokio::test]
async fn validation_exceptions_name_the_member() {
    let sandbox = start(SandboxConfig::demo());
    let ecr = one_shot(&sandbox, "us-east-1");

    let err = ecr
        .create_repository_creation_template()
        .prefix("team")
        .send()
        .await
        .expect_err("no appliedFor");
    let err = err.into_service_error();
    assert!(matches!(err, CreateErr::ValidationException(_)), "{err:?}");
    assert_eq!(
        err.message(),
        Some(
            "1 validation error detected: Value null at 'appliedFor' failed to satisfy \
             constraint: Member must not be null"
        )
    );

    let long = "a".repeat(257);
    let cases: Vec<(&str, _, &str)> = vec![
        (
            "'Team' at 'prefix'",
            ecr.create_repository_creation_template().prefix("Team"),
            "regular expression pattern",
        ),
        (
            "at 'prefix'",
            ecr.create_repository_creation_template().prefix(&long),
            "length less than or equal to 256",
        ),
        (
            "at 'description'",
            ecr.create_repository_creation_template()
                .prefix("team")
                .description(&long),
            "length less than or equal to 256",
        ),
        (
            "'SOMETIMES' at 'imageTagMutability'",
            ecr.create_repository_creation_template()
                .prefix("team")
                .image_tag_mutability(ImageTagMutability::from("SOMETIMES")),
            "Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]",
        ),
        (
            "'[PULL_THROUGH_CACHE, ON_A_WHIM]' at 'appliedFor'",
            ecr.create_repository_creation_template()
                .prefix("team")
                .applied_for(RctAppliedFor::PullThroughCache)
                .applied_for(RctAppliedFor::from("ON_A_WHIM")),
            "Member must satisfy constraint: [Member must satisfy enum value set: [REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH]]",
        ),
        (
            "'DES' at 'encryptionConfiguration.encryptionType'",
            ecr.create_repository_creation_template()
                .prefix("team")
                .encryption_configuration(encryption(EncryptionType::from("DES"), None)),
            "enum value set: [AES256, KMS, KMS_DSSE]",
        ),
        (
            "'alias/ecr' at 'encryptionConfiguration.kmsKey'",
            ecr.create_repository_creation_template()
                .prefix("team")
                .encryption_configuration(encryption(EncryptionType::Kms, Some("alias/ecr"))),
            "regular expression pattern",
        ),
        (
            "at 'imageTagMutabilityExclusionFilters'",
            (0..6).fold(
                ecr.create_repository_creation_template()
                    .prefix("team")
                    .image_tag_mutability(ImageTagMutability::MutableWithExclusion),
                |b, i| b.image_tag_mutability_exclusion_filters(wildcard(&format!("f{i}"))),
            ),
            "length between 1 and 5",
        ),
        (
            "'no/slash' at 'imageTagMutabilityExclusionFilters.1.member.filter'",
            ecr.create_repository_creation_template()
                .prefix("team")
                .image_tag_mutability(ImageTagMutability::MutableWithExclusion)
                .image_tag_mutability_exclusion_filters(wildcard("no/slash")),
            "regular expression pattern",
        ),
        (
            "at 'customRoleArn'",
            ecr.create_repository_creation_template()
                .prefix("team")
                .custom_role_arn(format!(
                    "arn:aws:iam::123456789012:role/{}",
                    "r".repeat(2048)
                )),
            "length less than or equal to 2048",
        ),
        (
            "at 'repositoryPolicy'",
            ecr.create_repository_creation_template()
                .prefix("team")
                .repository_policy(format!("{{\"x\":\"{}\"}}", "p".repeat(10240))),
            "length less than or equal to 10240",
        ),
    ];
    for (member, attempt, constraint) in cases {
        // appliedFor is set where the case needs it; elsewhere its absence adds a violation.
        let err = attempt.send().await.expect_err(member);
        let err = err.into_service_error();
        assert!(
            matches!(err, CreateErr::ValidationException(_)),
            "{member}: {err:?}"
        );
        let msg = err.message().unwrap_or_default();
        assert!(
            msg.contains(member) && msg.contains(constraint),
            "{member} / {constraint}: {msg}"
        );
    }

    // Several violations are reported together.
    let err = ecr
        .create_repository_creation_template()
        .prefix("Bad")
        .description(&long)
        .applied_for(RctAppliedFor::Replication)
        .send()
        .await
        .expect_err("two violations");
    let msg = err
        .into_service_error()
        .message()
        .unwrap_or_default()
        .to_string();
    assert!(msg.starts_with("2 validation errors detected: "), "{msg}");

    // Update and Delete require the prefix and check it like Create.
    let err = ecr
        .update_repository_creation_template()
        .description("x")
        .send()
        .await
        .expect_err("update without a prefix");
    let err = err.into_service_error();
    assert!(matches!(err, UpdateErr::ValidationException(_)), "{err:?}");
    assert!(
        err.message()
            .unwrap_or_default()
            .contains("Value null at 'prefix'")
    );
    let err = ecr
        .delete_repository_creation_template()
        .prefix("-x")
        .send()
        .await
        .expect_err("delete a bad prefix");
    assert!(matches!(
        err.into_service_error(),
        DeleteErr::ValidationException(_)
    ));

    // Describe: the prefixes and maxResults.
    let err = ecr
        .describe_repository_creation_templates()
        .prefixes("ok")
        .prefixes("NOT/ok")
        .send()
        .await
        .expect_err("a bad listed prefix");
    let err = err.into_service_error();
    assert!(
        matches!(err, DescribeErr::ValidationException(_)),
        "{err:?}"
    );
    assert!(
        err.message()
            .unwrap_or_default()
            .contains("'NOT/ok' at 'prefixes.2.member'"),
        "{err:?}"
    );
    for (n, bound) in [
        (0, "greater than or equal to 1"),
        (1001, "less than or equal to 1000"),
    ] {
        let err = ecr
            .describe_repository_creation_templates()
            .max_results(n)
            .send()
            .await
            .expect_err("maxResults out of range");
        let msg = err
            .into_service_error()
            .message()
            .unwrap_or_default()
            .to_string();
        assert!(
            msg.contains(&format!("'{n}' at 'maxResults'")) && msg.contains(bound),
            "{msg}"
        );
    }
    for n in [1, 1000] {
        ecr.describe_repository_creation_templates()
            .max_results(n)
            .send()
            .await
            .unwrap_or_else(|e| panic!("maxResults {n}: {:?}", e.into_service_error()));
    }
}

#[tokio::test]
async fn invalid_parameter_exceptions() {
    let sandbox = start(SandboxConfig::default());
    let ecr = one_shot(&sandbox, "us-east-1");
    let base = || {
        ecr.create_repository_creation_template()
            .prefix("team")
            .applied_for(RctAppliedFor::PullThroughCache)
    };
    let cases = [
        (
            "Invalid parameter at 'repositoryPolicy'",
            base().repository_policy("{not json"),
        ),
        (
            "Invalid parameter at 'lifecyclePolicy'",
            base().lifecycle_policy("[\"rules\"]"),
        ),
        (
            "Invalid parameter at 'appliedFor'",
            ecr.create_repository_creation_template()
                .prefix("team")
                .set_applied_for(Some(vec![])),
        ),
        (
            "'arn:aws:iam::123456789012:user/bob' is not an IAM role ARN",
            base().custom_role_arn("arn:aws:iam::123456789012:user/bob"),
        ),
        (
            "the role must be in the registry's account 123456789012, not 111122223333",
            base().custom_role_arn("arn:aws:iam::111122223333:role/elsewhere"),
        ),
        (
            "Invalid parameter at 'encryptionConfiguration.kmsKey'",
            base().encryption_configuration(encryption(EncryptionType::Aes256, Some(KMS_KEY))),
        ),
        (
            "exclusion filters can only be used with",
            base()
                .image_tag_mutability(ImageTagMutability::Immutable)
                .image_tag_mutability_exclusion_filters(wildcard("latest")),
        ),
        (
            "exclusion filters are required with the image tag mutability IMMUTABLE_WITH_EXCLUSION",
            base().image_tag_mutability(ImageTagMutability::ImmutableWithExclusion),
        ),
        (
            "must be 1 to 128 characters long",
            base().resource_tags(tag(&"k".repeat(129), "v")),
        ),
        (
            "the tag key 'team' is given more than once",
            base()
                .resource_tags(tag("team", "a"))
                .resource_tags(tag("team", "b")),
        ),
    ];
    for (expected, attempt) in cases {
        let err = attempt.send().await.expect_err(expected);
        assert_eq!(common::status(&err), Some(400));
        let err = err.into_service_error();
        assert!(
            matches!(err, CreateErr::InvalidParameterException(_)),
            "{expected}: {err:?}"
        );
        let msg = err.message().unwrap_or_default();
        assert!(msg.contains(expected), "{expected}: {msg}");
    }
    assert!(all_prefixes(&ecr).await.is_empty(), "nothing was created");

    // Update checks the template it would store: IMMUTABLE_WITH_EXCLUSION needs filters.
    create(&ecr, "team").await;
    let err = ecr
        .update_repository_creation_template()
        .prefix("team")
        .image_tag_mutability(ImageTagMutability::ImmutableWithExclusion)
        .send()
        .await
        .expect_err("filters missing");
    let err = err.into_service_error();
    assert!(
        matches!(err, UpdateErr::InvalidParameterException(_)),
        "{err:?}"
    );
    let t = ecr
        .describe_repository_creation_templates()
        .prefixes("team")
        .send()
        .await
        .expect("describe")
        .repository_creation_templates
        .unwrap_or_default();
    assert_eq!(
        t[0].image_tag_mutability(),
        Some(&ImageTagMutability::Mutable),
        "unchanged"
    );
}

// ---------------------------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------------------------

/// 120 templates in us-east-1, seeded in reverse (seeds may exceed the quota of 50).
fn config_with_120_templates() -> SandboxConfig {
    let mut config = SandboxConfig::default();
    config.templates.insert(
        "us-east-1".into(),
        (0..120)
            .rev()
            .map(|i| json!({"prefix": format!("team-{i:03}"), "appliedFor": ["REPLICATION"]}))
            .collect(),
    );
    config
}

#[tokio::test]
async fn describe_pages_through_120_templates() {
    let sandbox = start(config_with_120_templates());
    let ecr = client(&sandbox, "us-east-1");
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = ecr
            .describe_repository_creation_templates()
            .max_results(50)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("page");
        sizes.push(out.repository_creation_templates().len());
        seen.extend(prefixes(out.repository_creation_templates()));
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
        assert!(sizes.len() < 10, "pagination does not end");
    }
    assert_eq!(sizes, [50, 50, 20]);
    let expected: Vec<String> = (0..120).map(|i| format!("team-{i:03}")).collect();
    assert_eq!(seen, expected, "every template exactly once, sorted");

    // Without maxResults, a page holds up to 100.
    let first = ecr
        .describe_repository_creation_templates()
        .send()
        .await
        .expect("default page");
    assert_eq!(first.repository_creation_templates().len(), 100);
    let token = first.next_token().expect("more remain").to_string();

    // A page token is bound to its region, and a made-up one is refused.
    for (region, token) in [("eu-west-1", token.as_str()), ("us-east-1", "not-a-token")] {
        let err = client(&sandbox, region)
            .describe_repository_creation_templates()
            .next_token(token)
            .send()
            .await
            .expect_err("a foreign token");
        let err = err.into_service_error();
        assert!(
            matches!(err, DescribeErr::InvalidParameterException(_)),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn the_sdk_paginator_collects_all_120_templates() {
    let sandbox = start(config_with_120_templates());
    let ecr = client(&sandbox, "us-east-1");
    let templates: Vec<_> = ecr
        .describe_repository_creation_templates()
        .into_paginator()
        .page_size(50)
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginate");
    assert_eq!(templates.len(), 120);
    assert_eq!(
        sandbox.log().count("DescribeRepositoryCreationTemplates"),
        3
    );
    let max_results: Vec<Value> = sandbox
        .log()
        .entries()
        .iter()
        .map(|e| e.parameters["maxResults"].clone())
        .collect();
    assert_eq!(max_results, [json!(50), json!(50), json!(50)]);
}

// ---------------------------------------------------------------------------------------------
// State file and the request log
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn templates_persist_through_the_state_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.json");
    let config = || SandboxConfig {
        state_file: Some(path.clone()),
        ..SandboxConfig::demo()
    };

    let first = start(config());
    let ecr = client(&first, "us-east-1");
    ecr.create_repository_creation_template()
        .prefix("quay")
        .resource_tags(tag("team", "platform"))
        .image_tag_mutability(ImageTagMutability::MutableWithExclusion)
        .image_tag_mutability_exclusion_filters(wildcard("release-*"))
        .applied_for(RctAppliedFor::PullThroughCache)
        .send()
        .await
        .expect("create");
    ecr.update_repository_creation_template()
        .prefix("ROOT")
        .description("changed")
        .send()
        .await
        .expect("update");
    client(&first, "eu-west-1")
        .delete_repository_creation_template()
        .prefix("docker-hub")
        .send()
        .await
        .expect("delete");
    let before: Vec<RepositoryCreationTemplate> = ecr
        .describe_repository_creation_templates()
        .send()
        .await
        .expect("describe")
        .repository_creation_templates
        .unwrap_or_default();
    drop(first);

    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("state written")).unwrap();
    assert_eq!(
        file[ACCOUNT]["us-east-1"]["templates"]["quay"]["prefix"], "quay",
        "{file:#}"
    );

    // A second sandbox on the same file starts from it, not from the demo seed.
    let second = start(config());
    let after = client(&second, "us-east-1")
        .describe_repository_creation_templates()
        .send()
        .await
        .expect("describe again")
        .repository_creation_templates
        .unwrap_or_default();
    assert_eq!(after, before);
    assert_eq!(prefixes(&after), ["ROOT", "quay"]);
    assert_eq!(after[0].description(), Some("changed"));
    assert!(all_prefixes(&client(&second, "eu-west-1")).await.is_empty());
}

#[tokio::test]
async fn template_calls_are_logged_and_faults_apply_to_them() {
    let config = SandboxConfig {
        fail_operations: vec![(
            "us-east-1".to_string(),
            "DeleteRepositoryCreationTemplate".to_string(),
        )],
        ..SandboxConfig::demo()
    };
    let sandbox = start(config);
    let ecr = one_shot(&sandbox, "us-east-1");
    create(&ecr, "quay").await;
    let err = ecr
        .delete_repository_creation_template()
        .prefix("quay")
        .send()
        .await
        .expect_err("denied");
    assert_eq!(code(&err).as_deref(), Some("AccessDeniedException"));
    assert_eq!(
        all_prefixes(&ecr).await,
        ["ROOT", "quay"],
        "nothing deleted"
    );

    let log = sandbox.log().entries();
    let ops: Vec<(&str, Option<&str>)> = log
        .iter()
        .map(|e| (e.operation.as_str(), e.error_code.as_deref()))
        .collect();
    assert_eq!(
        ops,
        [
            ("CreateRepositoryCreationTemplate", None),
            (
                "DeleteRepositoryCreationTemplate",
                Some("AccessDeniedException")
            ),
            ("DescribeRepositoryCreationTemplates", None),
        ]
    );
    assert_eq!(log[0].parameters["prefix"], "quay");
    assert_eq!(
        log[0].parameters["appliedFor"],
        json!(["PULL_THROUGH_CACHE"])
    );
    assert_eq!(log[0].region.as_deref(), Some("us-east-1"));
}
