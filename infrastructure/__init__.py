"""The AWS CDK app that deploys Turnstile: `cdk deploy -c stage=dev` from this folder (see README)."""
