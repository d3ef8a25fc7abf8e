-- Pull-through cache for Docker Hub and ECR Public in us-east-1 and eu-west-1, and the registry
-- permission that lets the CI role pull through the cache (seeds 002/004 of the ECR user guide).
-- Re-runnable: ON CONFLICT makes a second run change nothing.

INSERT INTO aws.ecr.pull_through_cache_rules (region, ecr_repository_prefix, upstream_registry_url, credential_arn)
VALUES ('us-east-1', 'hub', 'registry-1.docker.io', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub-Ab12Cd'),
       ('eu-west-1', 'hub', 'registry-1.docker.io', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/hub-Ef34Gh'),
       ('eu-west-1', 'public', 'public.ecr.aws', NULL)
ON CONFLICT DO UPDATE SET credential_arn = EXCLUDED.credential_arn;

INSERT INTO aws.ecr.registry_policy_statements (region, sid, effect, principals, actions, resources)
VALUES ('us-east-1', 'CiPullThroughCache', 'Allow', ['arn:aws:iam::123456789012:role/ci'],
        ['ecr:CreateRepository', 'ecr:BatchImportUpstreamImage'],
        ['arn:aws:ecr:us-east-1:123456789012:repository/hub/*']),
       ('eu-west-1', 'CiPullThroughCache', 'Allow', ['arn:aws:iam::123456789012:role/ci'],
        ['ecr:CreateRepository', 'ecr:BatchImportUpstreamImage'],
        ['arn:aws:ecr:eu-west-1:123456789012:repository/hub/*', 'arn:aws:ecr:eu-west-1:123456789012:repository/public/*'])
ON CONFLICT DO UPDATE SET principals = EXCLUDED.principals, actions = EXCLUDED.actions, resources = EXCLUDED.resources;

-- A leftover rule goes.
DELETE FROM aws.ecr.pull_through_cache_rules WHERE region = 'eu-west-1' AND ecr_repository_prefix = 'gitlab';
