//! The upstream registries a pull-through cache rule can cache, and what each requires.

use std::fmt;

/// An upstream registry kind, as named by the `upstreamRegistry` member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpstreamRegistry {
    /// Another Amazon ECR private registry.
    Ecr,
    /// Amazon ECR Public.
    EcrPublic,
    /// Quay.
    Quay,
    /// The Kubernetes container image registry.
    K8s,
    /// Docker Hub.
    DockerHub,
    /// GitHub Container Registry.
    GithubContainerRegistry,
    /// Microsoft Azure Container Registry.
    AzureContainerRegistry,
    /// GitLab Container Registry.
    GitlabContainerRegistry,
    /// Chainguard.
    Chainguard,
}

impl UpstreamRegistry {
    /// Every kind, in the service model's order.
    pub const ALL: [UpstreamRegistry; 9] = [
        Self::Ecr,
        Self::EcrPublic,
        Self::Quay,
        Self::K8s,
        Self::DockerHub,
        Self::GithubContainerRegistry,
        Self::AzureContainerRegistry,
        Self::GitlabContainerRegistry,
        Self::Chainguard,
    ];

    /// The wire name (`docker-hub`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ecr => "ecr",
            Self::EcrPublic => "ecr-public",
            Self::Quay => "quay",
            Self::K8s => "k8s",
            Self::DockerHub => "docker-hub",
            Self::GithubContainerRegistry => "github-container-registry",
            Self::AzureContainerRegistry => "azure-container-registry",
            Self::GitlabContainerRegistry => "gitlab-container-registry",
            Self::Chainguard => "chainguard",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.as_str() == name)
    }

    /// The comma-separated list of wire names, for error messages.
    pub fn names() -> String {
        Self::ALL.map(|u| u.as_str()).join(", ")
    }

    /// Infers the kind from an upstream registry URL, as ECR does when `upstreamRegistry` is omitted.
    pub fn from_url(url: &str) -> Option<Self> {
        let host = url
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_ascii_lowercase();
        let fixed = match host.as_str() {
            "public.ecr.aws" => Some(Self::EcrPublic),
            "quay.io" => Some(Self::Quay),
            "registry.k8s.io" => Some(Self::K8s),
            "registry-1.docker.io" => Some(Self::DockerHub),
            "ghcr.io" => Some(Self::GithubContainerRegistry),
            "registry.gitlab.com" => Some(Self::GitlabContainerRegistry),
            "cgr.dev" => Some(Self::Chainguard),
            _ => None,
        };
        fixed.or_else(|| {
            if is_azure_host(&host) {
                Some(Self::AzureContainerRegistry)
            } else if is_ecr_private_host(&host) {
                Some(Self::Ecr)
            } else {
                None
            }
        })
    }

    /// Whether a rule for this upstream needs a Secrets Manager `credentialArn`.
    pub fn requires_credential(self) -> bool {
        matches!(
            self,
            Self::DockerHub
                | Self::GithubContainerRegistry
                | Self::AzureContainerRegistry
                | Self::GitlabContainerRegistry
                | Self::Chainguard
        )
    }

    /// Whether a rule for this upstream may carry a `credentialArn` at all.
    pub fn accepts_credential(self) -> bool {
        self.requires_credential()
    }

    /// Whether a rule for this upstream may carry a `customRoleArn` (ECR-to-ECR only).
    pub fn accepts_custom_role(self) -> bool {
        self == Self::Ecr
    }

    /// An example URL, for error messages.
    pub fn example_url(self) -> &'static str {
        match self {
            Self::Ecr => "<account>.dkr.ecr.<region>.amazonaws.com",
            Self::EcrPublic => "public.ecr.aws",
            Self::Quay => "quay.io",
            Self::K8s => "registry.k8s.io",
            Self::DockerHub => "registry-1.docker.io",
            Self::GithubContainerRegistry => "ghcr.io",
            Self::AzureContainerRegistry => "<name>.azurecr.io",
            Self::GitlabContainerRegistry => "registry.gitlab.com",
            Self::Chainguard => "cgr.dev",
        }
    }
}

impl fmt::Display for UpstreamRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// Kept by its wire name wherever it is serialised (the sandbox's stored rules).
impl serde::Serialize for UpstreamRegistry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for UpstreamRegistry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Self::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown upstream registry '{name}'")))
    }
}

fn is_azure_host(host: &str) -> bool {
    host.strip_suffix(".azurecr.io")
        .is_some_and(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// `<12-digit account>.dkr.ecr.<region>.amazonaws.com`
fn is_ecr_private_host(host: &str) -> bool {
    let Some(rest) = host.strip_suffix(".amazonaws.com") else {
        return false;
    };
    let parts: Vec<&str> = rest.split('.').collect();
    matches!(parts.as_slice(), [account, "dkr", "ecr", region]
        if account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())
            && !region.is_empty())
}

#[cfg(test)]
mod tests {
    use super::UpstreamRegistry as U;

    #[test]
    fn infers_kind_from_url() {
        assert_eq!(U::from_url("public.ecr.aws"), Some(U::EcrPublic));
        assert_eq!(U::from_url("registry-1.docker.io"), Some(U::DockerHub));
        assert_eq!(U::from_url("ghcr.io"), Some(U::GithubContainerRegistry));
        assert_eq!(
            U::from_url("myreg.azurecr.io"),
            Some(U::AzureContainerRegistry)
        );
        assert_eq!(
            U::from_url("111122223333.dkr.ecr.eu-west-1.amazonaws.com"),
            Some(U::Ecr)
        );
        assert_eq!(U::from_url("docker.io"), None);
        assert_eq!(U::from_url("1.dkr.ecr.eu-west-1.amazonaws.com"), None);
    }

    #[test]
    fn credential_requirements() {
        assert!(U::DockerHub.requires_credential());
        assert!(!U::Quay.requires_credential());
        assert!(!U::EcrPublic.accepts_credential());
        assert!(U::Ecr.accepts_custom_role());
        assert_eq!(U::parse("k8s"), Some(U::K8s));
        assert!(U::names().contains("chainguard"));
    }
}
