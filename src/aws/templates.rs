//! Reading a region's repository creation templates (DescribeRepositoryCreationTemplates,
//! page by page, or by prefix).

use aws_sdk_ecr::types::RepositoryCreationTemplate;

use super::clients::{EcrClients, api_error};
use super::request::ScanRequest;
use crate::error::Result;

const DESCRIBE: &str = "DescribeRepositoryCreationTemplates";

/// A region's templates as ECR answers them.
#[derive(Debug, Clone, Default)]
pub struct RegionTemplates {
    /// The registry's account id.
    pub registry_id: Option<String>,
    /// The templates, in listing order.
    pub templates: Vec<RepositoryCreationTemplate>,
}

impl EcrClients {
    /// The templates of `region` that `request` asks for: by prefix (up to 100 a call; a
    /// prefix without a template is simply left out), else every page up to the LIMIT.
    pub async fn describe_templates(
        &self,
        region: &str,
        request: &ScanRequest,
    ) -> Result<RegionTemplates> {
        let client = self.client(region);
        let chunks = request.identifier_chunks();
        let calls: Vec<Option<Vec<String>>> = match chunks {
            Some(chunks) => chunks.into_iter().map(Some).collect(),
            None => vec![None],
        };
        let mut out = RegionTemplates::default();
        for prefixes in calls {
            let mut token: Option<String> = None;
            loop {
                let page = client
                    .describe_repository_creation_templates()
                    .set_prefixes(prefixes.clone())
                    .set_max_results(prefixes.is_none().then_some(request.page_size).flatten())
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| api_error(region, DESCRIBE, e))?;
                out.registry_id = out.registry_id.or(page.registry_id);
                out.templates
                    .extend(page.repository_creation_templates.unwrap_or_default());
                let enough = request.limit.is_some_and(|n| out.templates.len() >= n);
                match page.next_token {
                    Some(next) if !enough => token = Some(next),
                    _ => break,
                }
            }
        }
        Ok(out)
    }
}
