//! Writing repository creation templates: ECR's constraints on each value (the nested members
//! through the same conversion that sends them); the record writer does the rest.

use serde_json::Value;

use super::record_writer::Record;
use crate::aws::mutate::Sender;
use crate::aws::templates::{TemplateCalls, applied_for, encryption, exclusion_filters, tags};
use crate::ecr::constraints as c;

/// The templates table's part of the record writer.
#[derive(Debug)]
pub struct TemplateRecord;

impl Record for TemplateRecord {
    fn value_problem(&self, column: &str, value: &Value) -> Option<String> {
        let text = value.as_str().unwrap_or_default();
        let policy = |max: fn(&str) -> Result<(), String>| {
            c::check_policy_json(text).and_then(|_| max(text))
        };
        let checked = match column {
            "prefix" => c::check_template_prefix(text),
            "description" => c::check_template_description(text),
            "image_tag_mutability" => c::check_enum(text, &c::IMAGE_TAG_MUTABILITIES),
            "repository_policy" => policy(c::check_repository_policy),
            "lifecycle_policy" => policy(c::check_lifecycle_policy),
            "custom_role_arn" => {
                c::check_custom_role_arn(text).and_then(|_| match c::role_arn_account(text) {
                    Some(_) => Ok(()),
                    None => {
                        Err("is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)".into())
                    }
                })
            }
            "applied_for" => applied_for(value).map(drop),
            "encryption_configuration" => encryption(value).map(drop),
            "resource_tags" => tags(value).map(drop),
            "image_tag_mutability_exclusion_filters" => exclusion_filters(value).map(drop),
            _ => Ok(()),
        };
        checked.err().map(|why| why.replace("Member must", "must"))
    }

    fn sender(&self) -> &dyn Sender {
        &TemplateCalls
    }
}
